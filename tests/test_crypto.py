"""In-process signatures and identifier encryption, cross-checked with the independent ``xmlsec1`` tool."""

from __future__ import annotations

import base64
import copy
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import xmlsec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from lxml import etree

from diagnostics import certs, crypto
from diagnostics.saml_names import DS, SAML, XENC

ASSERTION = (
    b'<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0" '
    b'IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>urn:etoegang:HM:00000003520354760000:entities:9632'
    b"</saml:Issuer><saml:Subject><saml:NameID>abc</saml:NameID></saml:Subject></saml:Assertion>"
)
NAME_ID = (
    b'<saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
    b'NameQualifier="urn:etoegang:1.9:EntityConcernedID:KvKnr">12345678</saml:NameID>'
)


@pytest.fixture(scope="module")
def broker() -> certs.KeyPair:
    return certs.generate("Test broker")


@pytest.fixture(scope="module")
def intruder() -> certs.KeyPair:
    return certs.generate("Intruder")


@pytest.fixture(scope="module")
def sp() -> certs.KeyPair:
    return certs.generate("Test SP")


def signed(pair: certs.KeyPair, xml: bytes = ASSERTION, algorithm: str = "rsa-sha256") -> etree._Element:
    element = etree.fromstring(xml)
    crypto.sign(element, pair.key_pem, pair.cert_pem, algorithm=algorithm)
    return etree.fromstring(etree.tostring(element))


def diagnosis_of(element: etree._Element, trusted: list[certs.KeyPair]) -> str:
    with pytest.raises(crypto.SignatureError) as info:
        crypto.verify(element, [pair.cert for pair in trusted])
    assert info.value.message
    return info.value.diagnosis


def signed_info(element: etree._Element) -> etree._Element:
    node = element.find(f"{{{DS}}}Signature/{{{DS}}}SignedInfo")
    assert node is not None
    return node


def test_sign_places_signature_after_issuer_and_verifies(broker: certs.KeyPair) -> None:
    element = signed(broker)
    assert etree.QName(element[0]).localname == "Issuer"
    assert etree.QName(element[1]).localname == "Signature"
    info = crypto.verify(element, [broker.cert])
    assert info.element == "Assertion"
    assert info.element_id == "_a1"
    assert info.signature_algorithm == "RSA-SHA256"
    assert info.digest_algorithm == "SHA-256"
    assert info.certificate_fingerprint == certs.fingerprint_sha256(broker.cert)


def test_verify_picks_the_trusted_cert_among_several(broker: certs.KeyPair, intruder: certs.KeyPair) -> None:
    element = signed(broker)
    info = crypto.verify(element, [intruder.cert, broker.cert])
    assert info.certificate_fingerprint == certs.fingerprint_sha256(broker.cert)


def test_unsigned(broker: certs.KeyPair) -> None:
    assert diagnosis_of(etree.fromstring(ASSERTION), [broker]) == "unsigned"


def test_signature_deeper_than_direct_child_is_not_the_elements_signature(broker: certs.KeyPair) -> None:
    element = signed(broker)
    signature = element.find(f"{{{DS}}}Signature")
    assert signature is not None
    subject = element.find(f"{{{SAML}}}Subject")
    assert subject is not None
    subject.append(signature)
    assert diagnosis_of(element, [broker]) == "unsigned"


def test_tampered_content_is_bad_signature(broker: certs.KeyPair) -> None:
    element = signed(broker)
    name_id = element.find(f"{{{SAML}}}Subject/{{{SAML}}}NameID")
    assert name_id is not None
    name_id.text = "evil"
    assert diagnosis_of(element, [broker]) == "bad-signature"


def test_keyinfo_certificate_is_never_trusted_by_itself(broker: certs.KeyPair, intruder: certs.KeyPair) -> None:
    assert diagnosis_of(signed(intruder), [broker]) == "untrusted-certificate"


def test_trusted_cert_in_keyinfo_with_other_key_is_bad_signature(
    broker: certs.KeyPair, intruder: certs.KeyPair
) -> None:
    element = signed(intruder)
    node = element.find(f"{{{DS}}}Signature/{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
    assert node is not None
    node.text = certs.der_base64(broker.cert)
    assert diagnosis_of(element, [broker]) == "bad-signature"


def test_without_keyinfo_every_trusted_cert_is_tried(broker: certs.KeyPair, intruder: certs.KeyPair) -> None:
    element = signed(broker)
    signature = element.find(f"{{{DS}}}Signature")
    key_info = element.find(f"{{{DS}}}Signature/{{{DS}}}KeyInfo")
    assert signature is not None and key_info is not None
    signature.remove(key_info)
    assert crypto.verify(element, [intruder.cert, broker.cert]).certificate_subject == "CN=Test broker"
    assert diagnosis_of(element, [intruder]) == "bad-signature"


def test_no_trusted_certificates_configured(broker: certs.KeyPair) -> None:
    assert diagnosis_of(signed(broker), []) == "untrusted-certificate"


def test_rsa_sha1_is_weak(broker: certs.KeyPair) -> None:
    assert diagnosis_of(signed(broker, algorithm="rsa-sha1"), [broker]) == "weak-algorithm"


def test_sha1_digest_is_weak(broker: certs.KeyPair) -> None:
    element = signed(broker)
    digest = signed_info(element).find(f"{{{DS}}}Reference/{{{DS}}}DigestMethod")
    assert digest is not None
    digest.set("Algorithm", crypto.SHA1)
    assert diagnosis_of(element, [broker]) == "weak-algorithm"


def test_hmac_method_is_refused(broker: certs.KeyPair) -> None:
    element = signed(broker)
    method = signed_info(element).find(f"{{{DS}}}SignatureMethod")
    assert method is not None
    method.set("Algorithm", "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256")
    assert diagnosis_of(element, [broker]) == "bad-signature"


def test_reference_to_another_element_is_wrapping(broker: certs.KeyPair) -> None:
    element = signed(broker)
    reference = signed_info(element).find(f"{{{DS}}}Reference")
    assert reference is not None
    reference.set("URI", "#_other")
    assert diagnosis_of(element, [broker]) == "bad-signature"
    reference.set("URI", "")
    assert diagnosis_of(element, [broker]) == "bad-signature"


def test_duplicate_id_anywhere_is_refused(broker: certs.KeyPair) -> None:
    wrapper = etree.fromstring(b'<w xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"/>')
    wrapper.append(signed(broker))
    evil = etree.SubElement(wrapper, f"{{{SAML}}}Assertion", ID="_a1")
    evil.text = "evil"
    first = wrapper[0]
    assert diagnosis_of(first, [broker]) == "bad-signature"


@pytest.mark.parametrize(
    "transform",
    [
        "http://www.w3.org/TR/1999/REC-xslt-19991116",
        "http://www.w3.org/TR/1999/REC-xpath-19991116",
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
        "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
    ],
)
def test_transforms_other_than_enveloped_and_exc_c14n(broker: certs.KeyPair, transform: str) -> None:
    element = signed(broker)
    transforms = signed_info(element).find(f"{{{DS}}}Reference/{{{DS}}}Transforms")
    assert transforms is not None
    transforms[1].set("Algorithm", transform)
    assert diagnosis_of(element, [broker]) == "bad-signature"


def test_empty_signature_value(broker: certs.KeyPair) -> None:
    element = signed(broker)
    value = element.find(f"{{{DS}}}Signature/{{{DS}}}SignatureValue")
    assert value is not None
    value.text = ""
    assert diagnosis_of(element, [broker]) == "bad-signature"


def test_two_signatures_are_refused(broker: certs.KeyPair) -> None:
    element = signed(broker)
    signature = element.find(f"{{{DS}}}Signature")
    assert signature is not None
    element.append(copy.deepcopy(signature))
    assert diagnosis_of(element, [broker]) == "bad-signature"


# --- independent implementation: the Debian xmlsec1 tool -----------------------------------------


@pytest.fixture(scope="module")
def xmlsec1() -> str:
    path = shutil.which("xmlsec1")
    if path is None:
        pytest.fail("Debian package 'xmlsec1' is missing; `make system-deps` installs it")
    return path


def test_xmlsec1_verifies_our_signature(xmlsec1: str, broker: certs.KeyPair, tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_bytes(broker.cert_pem)
    (tmp_path / "signed.xml").write_bytes(etree.tostring(signed(broker)))
    args = [xmlsec1, "--verify", "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"]
    args += ["--pubkey-cert-pem", str(tmp_path / "cert.pem"), str(tmp_path / "signed.xml")]
    ok = subprocess.run(args, capture_output=True, check=False)
    assert ok.returncode == 0, ok.stderr
    (tmp_path / "signed.xml").write_bytes(etree.tostring(signed(broker)).replace(b">abc<", b">abd<"))
    tampered = subprocess.run(args, capture_output=True, check=False)
    assert tampered.returncode != 0


def xmlsec1_signed(xmlsec1: str, pair: certs.KeyPair, tmp_path: Path, algorithm: str = "rsa-sha256") -> bytes:
    method = {"rsa-sha256": crypto.RSA_SHA256, "rsa-sha1": crypto.RSA_SHA1}[algorithm]
    digest = {"rsa-sha256": crypto.SHA256, "rsa-sha1": crypto.SHA1}[algorithm]
    template = ASSERTION.replace(
        b"</saml:Issuer>",
        f"""</saml:Issuer><ds:Signature xmlns:ds="{DS}"><ds:SignedInfo>
<ds:CanonicalizationMethod Algorithm="{crypto.EXC_C14N}"/><ds:SignatureMethod Algorithm="{method}"/>
<ds:Reference URI="#_a1"><ds:Transforms><ds:Transform Algorithm="{crypto.ENVELOPED}"/>
<ds:Transform Algorithm="{crypto.EXC_C14N}"/></ds:Transforms><ds:DigestMethod Algorithm="{digest}"/>
<ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/>
<ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>""".encode(),
    )
    (tmp_path / "key.pem").write_bytes(pair.key_pem)
    (tmp_path / "cert.pem").write_bytes(pair.cert_pem)
    (tmp_path / "template.xml").write_bytes(template)
    args = [xmlsec1, "--sign", "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"]
    args += ["--privkey-pem", f"{tmp_path / 'key.pem'},{tmp_path / 'cert.pem'}"]
    args += ["--output", str(tmp_path / "out.xml"), str(tmp_path / "template.xml")]
    result = subprocess.run(args, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr
    return (tmp_path / "out.xml").read_bytes()


def test_we_verify_a_signature_made_by_xmlsec1(xmlsec1: str, broker: certs.KeyPair, tmp_path: Path) -> None:
    document = xmlsec1_signed(xmlsec1, broker, tmp_path)
    assert b"<ds:X509Certificate>" in document
    info = crypto.verify(etree.fromstring(document), [broker.cert])
    assert info.certificate_fingerprint == certs.fingerprint_sha256(broker.cert)
    tampered = etree.fromstring(document.replace(b">abc<", b">abd<"))
    assert diagnosis_of(tampered, [broker]) == "bad-signature"


def test_xmlsec1_sha1_signature_is_weak(xmlsec1: str, broker: certs.KeyPair, tmp_path: Path) -> None:
    document = xmlsec1_signed(xmlsec1, broker, tmp_path, algorithm="rsa-sha1")
    assert diagnosis_of(etree.fromstring(document), [broker]) == "weak-algorithm"


# --- EncryptedID ----------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", [crypto.AES256_CBC, crypto.AES128_GCM])
def test_encrypt_decrypt_round_trip(sp: certs.KeyPair, algorithm: str) -> None:
    encrypted = crypto.encrypt_id(etree.fromstring(NAME_ID), sp.cert_pem, recipient="urn:dv", algorithm=algorithm)
    assert etree.QName(encrypted).localname == "EncryptedID"
    key = encrypted.find(f"{{{XENC}}}EncryptedKey")
    assert key is not None and key.get("Recipient") == "urn:dv"
    key_name = key.findtext(f"{{{DS}}}KeyInfo/{{{DS}}}KeyName")
    assert key_name == certs.fingerprint_sha256(sp.cert)
    assert key.findtext(f"{{{XENC}}}CarriedKeyName") == encrypted.findtext(
        f"{{{XENC}}}EncryptedData/{{{DS}}}KeyInfo/{{{DS}}}KeyName"
    )
    assert b"12345678" not in etree.tostring(encrypted)
    name_id = crypto.decrypt_id(etree.fromstring(etree.tostring(encrypted)), [sp.key_pem])
    assert name_id.text == "12345678"
    assert name_id.get("NameQualifier") == "urn:etoegang:1.9:EntityConcernedID:KvKnr"
    assert crypto.block_cipher(encrypted) == algorithm


def test_decrypt_tries_every_key(sp: certs.KeyPair, intruder: certs.KeyPair) -> None:
    encrypted = crypto.encrypt_id(etree.fromstring(NAME_ID), sp.cert_pem, recipient="urn:dv")
    assert crypto.decrypt_id(encrypted, [intruder.key_pem, sp.key_pem]).text == "12345678"


def decryption_error(encrypted: etree._Element, keys: list[bytes]) -> str:
    with pytest.raises(crypto.DecryptionError) as info:
        crypto.decrypt_id(encrypted, keys)
    assert info.value.diagnosis == "decryption-failed"
    return info.value.message


def test_wrong_key_fails(sp: certs.KeyPair, intruder: certs.KeyPair) -> None:
    encrypted = crypto.encrypt_id(etree.fromstring(NAME_ID), sp.cert_pem, recipient="urn:dv")
    assert "sleutels" in decryption_error(encrypted, [intruder.key_pem])
    assert decryption_error(encrypted, [])


def test_key_transport_downgrade_to_rsa_1_5_is_refused(sp: certs.KeyPair) -> None:
    encrypted = crypto.encrypt_id(
        etree.fromstring(NAME_ID), sp.cert_pem, recipient="urn:dv", key_transport=crypto.RSA_1_5
    )
    assert "rsa-1_5" in decryption_error(encrypted, [sp.key_pem])


def test_unsupported_block_cipher_is_refused(sp: certs.KeyPair) -> None:
    encrypted = crypto.encrypt_id(etree.fromstring(NAME_ID), sp.cert_pem, recipient="urn:dv")
    method = encrypted.find(f"{{{XENC}}}EncryptedData/{{{XENC}}}EncryptionMethod")
    assert method is not None
    method.set("Algorithm", XENC + "tripledes-cbc")
    assert "tripledes" in decryption_error(encrypted, [sp.key_pem])


def test_tampered_gcm_ciphertext_fails(sp: certs.KeyPair) -> None:
    encrypted = crypto.encrypt_id(
        etree.fromstring(NAME_ID), sp.cert_pem, recipient="urn:dv", algorithm=crypto.AES128_GCM
    )
    value = encrypted.find(f"{{{XENC}}}EncryptedData/{{{XENC}}}CipherData/{{{XENC}}}CipherValue")
    assert value is not None and value.text is not None
    raw = bytearray(base64.b64decode(value.text))
    raw[20] ^= 1
    value.text = base64.b64encode(bytes(raw)).decode()
    assert decryption_error(encrypted, [sp.key_pem])


def test_w3c_padding_with_random_bytes_is_accepted(sp: certs.KeyPair) -> None:
    """Hand-built AES-CBC data padded the XML-Encryption way: random bytes, only the last is the length."""
    plaintext = NAME_ID
    pad = 16 - len(plaintext) % 16
    if pad == 1:
        plaintext = plaintext.replace(b"12345678", b"12345678 ")
        pad = 16 - len(plaintext) % 16
    filler = os.urandom(pad - 1)
    while all(byte == pad for byte in filler):  # make sure it is not accidentally PKCS#7
        filler = os.urandom(pad - 1)
    encrypted = _hand_built_encrypted_id(sp, plaintext + filler + bytes([pad]))
    assert (crypto.decrypt_id(encrypted, [sp.key_pem]).text or "").strip() == "12345678"


def test_decrypts_data_encrypted_by_libxmlsec_with_key_inside_keyinfo(sp: certs.KeyPair) -> None:
    """Independent encryptor: the xmlsec binding's own template, EncryptedKey inside EncryptedData/KeyInfo."""
    holder = etree.fromstring(f'<saml:EncryptedID xmlns:saml="{SAML}"/>'.encode())
    target = etree.SubElement(holder, "placeholder")
    target.append(etree.fromstring(NAME_ID))
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_memory(sp.cert_pem, xmlsec.KeyFormat.CERT_PEM, None))
    template = xmlsec.template.encrypted_data_create(
        holder, xmlsec.Transform.AES128, type=xmlsec.EncryptionType.ELEMENT, ns="xenc"
    )
    xmlsec.template.encrypted_data_ensure_cipher_value(template)
    key_info = xmlsec.template.encrypted_data_ensure_key_info(template, ns="ds")
    encrypted_key = xmlsec.template.add_encrypted_key(key_info, xmlsec.Transform.RSA_OAEP)
    xmlsec.template.encrypted_data_ensure_cipher_value(encrypted_key)
    context = xmlsec.EncryptionContext(manager)
    context.key = xmlsec.Key.generate(xmlsec.KeyData.AES, 128, xmlsec.KeyDataType.SESSION)
    result = context.encrypt_xml(template, target[0])
    holder.remove(target)
    holder.append(result)
    reparsed = etree.fromstring(etree.tostring(holder))
    assert b"12345678" not in etree.tostring(reparsed)
    assert crypto.decrypt_id(reparsed, [sp.key_pem]).text == "12345678"


NESTED = (
    b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
    b'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="_r">\n'
    b'  <saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0">\n'
    b"    <saml:Issuer>urn:etoegang:HM:00000003520354760000:entities:9632</saml:Issuer>\n"
    b"    SIGNATURE\n"
    b'    <saml:AttributeStatement><saml:Attribute Name="n"><saml:AttributeValue xsi:type="xs:string">abc'
    b"</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>\n"
    b"  </saml:Assertion>\n"
    b"</samlp:Response>\n"
)


def test_pretty_printed_nested_assertion_with_inclusive_namespaces_from_xmlsec1(
    xmlsec1: str, broker: certs.KeyPair, tmp_path: Path
) -> None:
    """Whitespace around the signature stays signed; PrefixList names a namespace declared on an ancestor."""
    template = NESTED.replace(
        b"SIGNATURE",
        f"""<ds:Signature xmlns:ds="{DS}">
      <ds:SignedInfo>
        <ds:CanonicalizationMethod Algorithm="{crypto.EXC_C14N}"/>
        <ds:SignatureMethod Algorithm="{crypto.RSA_SHA256}"/>
        <ds:Reference URI="#_a1">
          <ds:Transforms>
            <ds:Transform Algorithm="{crypto.ENVELOPED}"/>
            <ds:Transform Algorithm="{crypto.EXC_C14N}">
              <ec:InclusiveNamespaces xmlns:ec="{crypto.EXC_C14N}" PrefixList="xs"/>
            </ds:Transform>
          </ds:Transforms>
          <ds:DigestMethod Algorithm="{crypto.SHA256}"/><ds:DigestValue/>
        </ds:Reference>
      </ds:SignedInfo>
      <ds:SignatureValue/>
      <ds:KeyInfo><ds:X509Data/></ds:KeyInfo>
    </ds:Signature>""".encode(),
    )
    (tmp_path / "key.pem").write_bytes(broker.key_pem)
    (tmp_path / "cert.pem").write_bytes(broker.cert_pem)
    (tmp_path / "template.xml").write_bytes(template)
    args = [xmlsec1, "--sign", "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"]
    args += ["--privkey-pem", f"{tmp_path / 'key.pem'},{tmp_path / 'cert.pem'}"]
    args += ["--output", str(tmp_path / "out.xml"), str(tmp_path / "template.xml")]
    result = subprocess.run(args, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr
    document = (tmp_path / "out.xml").read_bytes()
    root = etree.fromstring(document)
    assertion = root[0]
    before = etree.tostring(root)
    assert crypto.verify(assertion, [broker.cert]).element_id == "_a1"
    assert etree.tostring(root) == before  # the signature is back where it was, with its whitespace
    assert crypto.verify(assertion, [broker.cert]).element_id == "_a1"
    # The whitespace after the signature is signed content: changing it breaks the signature.
    changed = etree.fromstring(document.replace(b"</ds:Signature>\n    <saml:Attr", b"</ds:Signature>\n <saml:Attr"))
    assert diagnosis_of(changed[0], [broker]) == "bad-signature"
    # The namespace named in PrefixList is signed too, even though it is only used in a value.
    moved = etree.fromstring(document.replace(b'XMLSchema"', b'XMLSchema-evil"', 1))
    assert diagnosis_of(moved[0], [broker]) == "bad-signature"


def test_our_signature_on_a_nested_element_verifies_in_xmlsec1(
    xmlsec1: str, broker: certs.KeyPair, tmp_path: Path
) -> None:
    root = etree.fromstring(NESTED.replace(b"SIGNATURE", b""))
    crypto.sign(root[0], broker.key_pem, broker.cert_pem)
    (tmp_path / "cert.pem").write_bytes(broker.cert_pem)
    (tmp_path / "signed.xml").write_bytes(etree.tostring(root))
    args = [xmlsec1, "--verify", "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"]
    args += ["--pubkey-cert-pem", str(tmp_path / "cert.pem"), str(tmp_path / "signed.xml")]
    result = subprocess.run(args, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr
    assert crypto.verify(etree.fromstring(etree.tostring(root))[0], [broker.cert]).element == "Assertion"


def _hand_built_encrypted_id(
    sp: certs.KeyPair, padded: bytes, *, label: bytes | None = None, params_text: str | None = None
) -> etree._Element:
    """An EncryptedID built by hand: AES-256-CBC over ``padded`` as given, the key wrapped with RSA-OAEP.

    ``label`` is the OAEP label used to wrap the key; ``params_text`` what the OAEPparams element says.
    """
    key, iv = os.urandom(32), os.urandom(16)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    data = iv + encryptor.update(padded) + encryptor.finalize()
    public = sp.cert.public_key()
    wrapped = public.encrypt(  # type: ignore[union-attr]
        key, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=label)
    )
    params = f"<xenc:OAEPparams>{params_text}</xenc:OAEPparams>" if params_text is not None else ""
    document = f"""<saml:EncryptedID xmlns:saml="{SAML}" xmlns:xenc="{XENC}" xmlns:ds="{DS}">
<xenc:EncryptedData Type="{XENC}Element"><xenc:EncryptionMethod Algorithm="{XENC}aes256-cbc"/>
<xenc:CipherData><xenc:CipherValue>{base64.b64encode(data).decode()}</xenc:CipherValue></xenc:CipherData>
</xenc:EncryptedData><xenc:EncryptedKey Recipient="urn:dv"><xenc:EncryptionMethod Algorithm="{XENC}rsa-oaep-mgf1p">
{params}</xenc:EncryptionMethod>
<xenc:CipherData><xenc:CipherValue>{base64.b64encode(wrapped).decode()}</xenc:CipherValue></xenc:CipherData>
</xenc:EncryptedKey></saml:EncryptedID>"""
    return etree.fromstring(document.encode())


def _encrypted_id_with_oaep_label(sp: certs.KeyPair, label: bytes, params_text: str) -> etree._Element:
    """The NameID with plain W3C padding, the key wrapped with ``label``, and OAEPparams saying ``params_text``."""
    pad = 16 - len(NAME_ID) % 16
    return _hand_built_encrypted_id(sp, NAME_ID + b" " * (pad - 1) + bytes([pad]), label=label, params_text=params_text)


def test_oaep_label_from_oaepparams_is_used(sp: certs.KeyPair) -> None:
    label = b"eHerkenning label"
    good = _encrypted_id_with_oaep_label(sp, label, base64.b64encode(label).decode())
    assert (crypto.decrypt_id(good, [sp.key_pem]).text or "").strip() == "12345678"
    wrong = _encrypted_id_with_oaep_label(sp, label, base64.b64encode(b"another label").decode())
    assert "Geen van onze sleutels" in decryption_error(wrong, [sp.key_pem])


@pytest.mark.parametrize("params_text", ["not base64 at all!", "QUJ", "A" * 5000 + "!"])
def test_malformed_oaepparams_is_a_decryption_error_not_a_crash(sp: certs.KeyPair, params_text: str) -> None:
    encrypted = _encrypted_id_with_oaep_label(sp, b"x", params_text)
    assert "OAEPparams" in decryption_error(encrypted, [sp.key_pem])
