"""In-process XML signatures and XML encryption for SAML, without the ``xmlsec1`` subprocess.

Every decision about *what* is trusted is made here: the signature must be a direct child of the
element, reference that element's own unique ID, use exactly enveloped + exclusive c14n, a SHA-2 RSA
method, and be made with the key of a configured certificate (a certificate in ``KeyInfo`` only selects
which one). Verifying canonicalises with libxml2's exclusive c14n (through lxml, the canonicaliser
libxmlsec uses too) and checks RSA with ``cryptography``: a few tenths of a millisecond instead of the
libxmlsec node-set machinery. Signing is the mirror image, with the RSA key parsed once; both directions
are cross-checked against the independent ``xmlsec1`` tool in the tests. Identifier encryption (``saml:EncryptedID``) uses
``cryptography`` directly: the SAML layout (``EncryptedKey`` beside ``EncryptedData``) and W3C padding
(only the last byte counts) are then under our control, and no downgrade can bypass the allow-list.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from lxml import etree

from diagnostics import xmlsafe
from diagnostics.problems import Problem
from diagnostics.saml_names import DS, SAML, XENC, XENC11
from diagnostics.xmltree import child, children, text_of

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
RSA_SHA512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
SHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"

AES128_CBC = XENC + "aes128-cbc"
AES192_CBC = XENC + "aes192-cbc"
AES256_CBC = XENC + "aes256-cbc"
AES128_GCM = XENC11 + "aes128-gcm"
AES192_GCM = XENC11 + "aes192-gcm"
AES256_GCM = XENC11 + "aes256-gcm"
RSA_OAEP_MGF1P = XENC + "rsa-oaep-mgf1p"
RSA_OAEP_11 = XENC11 + "rsa-oaep"
RSA_1_5 = XENC + "rsa-1_5"
ELEMENT_TYPE = XENC + "Element"

# Qualified names looked up on every verify, spelled once.
DS_SIGNATURE = f"{{{DS}}}Signature"
_DS_SIGNED_INFO = f"{{{DS}}}SignedInfo"
_DS_C14N_METHOD = f"{{{DS}}}CanonicalizationMethod"
_DS_SIGNATURE_METHOD = f"{{{DS}}}SignatureMethod"
_DS_REFERENCE = f"{{{DS}}}Reference"
_DS_TRANSFORMS = f"{{{DS}}}Transforms"
_DS_TRANSFORM = f"{{{DS}}}Transform"
_DS_DIGEST_METHOD = f"{{{DS}}}DigestMethod"
_DS_DIGEST_VALUE = f"{{{DS}}}DigestValue"
_DS_SIGNATURE_VALUE = f"{{{DS}}}SignatureValue"
_EXC_INCLUSIVE_NAMESPACES = f"{{{EXC_C14N}}}InclusiveNamespaces"

_XENC_ENCRYPTED_DATA = f"{{{XENC}}}EncryptedData"
_XENC_ENCRYPTED_KEY = f"{{{XENC}}}EncryptedKey"
_XENC_ENCRYPTION_METHOD = f"{{{XENC}}}EncryptionMethod"
_XENC_CIPHER_DATA = f"{{{XENC}}}CipherData"
_XENC_CIPHER_VALUE = f"{{{XENC}}}CipherValue"
_XENC_CARRIED_KEY_NAME = f"{{{XENC}}}CarriedKeyName"
_XENC_OAEP_PARAMS = f"{{{XENC}}}OAEPparams"
_XENC11_MGF = f"{{{XENC11}}}MGF"
_DS_KEY_INFO = f"{{{DS}}}KeyInfo"
_DS_KEY_NAME = f"{{{DS}}}KeyName"
_DS_X509_DATA = f"{{{DS}}}X509Data"
_DS_X509_CERTIFICATE = f"{{{DS}}}X509Certificate"

_SIGNATURE_METHODS = {RSA_SHA256: "RSA-SHA256", RSA_SHA384: "RSA-SHA384", RSA_SHA512: "RSA-SHA512"}
_DIGESTS = {SHA256: "SHA-256", SHA384: "SHA-384", SHA512: "SHA-512"}
_SIGNATURE_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    RSA_SHA256: hashes.SHA256,
    RSA_SHA384: hashes.SHA384,
    RSA_SHA512: hashes.SHA512,
}
_DIGEST_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    SHA256: hashes.SHA256,
    SHA384: hashes.SHA384,
    SHA512: hashes.SHA512,
}
_WEAK = {RSA_SHA1: "RSA-SHA1", SHA1: "SHA-1", "http://www.w3.org/2001/04/xmldsig-more#rsa-md5": "RSA-MD5"}
# Block ciphers: key length in bytes and whether it is GCM.
_BLOCK_CIPHERS: dict[str, tuple[int, bool]] = {
    AES128_CBC: (16, False),
    AES192_CBC: (24, False),
    AES256_CBC: (32, False),
    AES128_GCM: (16, True),
    AES192_GCM: (24, True),
    AES256_GCM: (32, True),
}
_OAEP_DIGESTS: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    SHA1: hashes.SHA1,
    SHA256: hashes.SHA256,
    SHA384: hashes.SHA384,
    SHA512: hashes.SHA512,
}
_MGF: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    XENC11 + "mgf1sha1": hashes.SHA1,
    XENC11 + "mgf1sha256": hashes.SHA256,
    XENC11 + "mgf1sha384": hashes.SHA384,
    XENC11 + "mgf1sha512": hashes.SHA512,
}
# Signing: name -> (SignatureMethod, DigestMethod, hash). SHA-1 only for tests and the simulator's weak-signature
# scenario; the verifier refuses it.
_SIGN_ALGORITHMS: dict[str, tuple[str, str, Callable[[], hashes.HashAlgorithm]]] = {
    "rsa-sha256": (RSA_SHA256, SHA256, hashes.SHA256),
    "rsa-sha1": (RSA_SHA1, SHA1, hashes.SHA1),
}


class CryptoError(Problem):
    """A signature or encryption problem with a stable diagnosis id and a Dutch message."""


class SignatureError(CryptoError):
    """The signature is missing, broken, weak, or not made with a trusted key."""


class DecryptionError(CryptoError):
    """An EncryptedID could not be decrypted with our keys and allowed algorithms."""

    def __init__(self, message: str) -> None:
        super().__init__("decryption-failed", message)


@dataclass(frozen=True)
class SignatureInfo:
    """What a verified signature covers and how it was made; shown in the check trace."""

    element: str
    element_id: str
    certificate_fingerprint: str
    certificate_subject: str
    signature_algorithm: str
    digest_algorithm: str


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def prepare_key_pair(key_pem: bytes, cert_pem: bytes) -> None:
    """Parse a key pair into this module's caches now.

    Called once at start-up: otherwise the first requests of a new worker all miss the cache at once and
    each parses the RSA key (tens of milliseconds) in its own thread.
    """
    _private_key(key_pem)
    _certificate_b64(cert_pem)


@functools.lru_cache(maxsize=32)
def _private_key(key_pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DecryptionError("De sleutel is geen RSA-sleutel.")
    return key


@functools.lru_cache(maxsize=32)
def _certificate_b64(cert_pem: bytes) -> str:
    """The certificate as ``ds:X509Certificate`` carries it: base64 of the DER."""
    return base64.b64encode(_der(_certificate(cert_pem))).decode("ascii")


@functools.lru_cache(maxsize=32)
def _certificate(cert_pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(cert_pem)


@functools.lru_cache(maxsize=64)
def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


@functools.lru_cache(maxsize=64)
def _describe_cert(der: bytes) -> tuple[str, str]:
    """(SHA-256 fingerprint, subject) of a trusted certificate; cached, the subject string is slow to build."""
    cert = x509.load_der_x509_certificate(der)
    return fingerprint(cert), cert.subject.rfc4514_string()


# --- signing -------------------------------------------------------------------------------------


def sign(
    element: etree._Element,
    key_pem: bytes,
    cert_pem: bytes,
    *,
    id_attr: str = "ID",
    algorithm: str = "rsa-sha256",
) -> None:
    """Add an enveloped signature over ``element`` (exc-c14n), right after its ``saml:Issuer`` child.

    The mirror of :func:`verify`: the same canonicaliser (libxml2's exclusive c14n through lxml) and the RSA
    key parsed once (``cryptography``). libxmlsec copied the key for every signature, so OpenSSL lost its
    precomputation each time: 0.69 ms per AuthnRequest, where the RSA operation alone takes 0.25 ms. The
    independent ``xmlsec1`` tool and Lasso verify what this makes (tests/test_crypto.py, tests/interop).
    """
    if algorithm not in _SIGN_ALGORITHMS:
        raise ValueError(f"unsupported signing algorithm {algorithm!r}")
    element_id = element.get(id_attr)
    if not element_id:
        raise ValueError(f"element {element.tag} has no {id_attr} attribute to sign")
    method_uri, digest_uri, hash_algorithm = _SIGN_ALGORITHMS[algorithm]
    for old in element.findall(DS_SIGNATURE):
        element.remove(old)
    # The enveloped-signature transform leaves out the signature itself: digest the element before it is in.
    digest = hashes.Hash(hash_algorithm())
    digest.update(_c14n(element, None))
    signature = etree.Element(DS_SIGNATURE, nsmap={"ds": DS})
    signed_info = etree.SubElement(signature, _DS_SIGNED_INFO)
    etree.SubElement(signed_info, _DS_C14N_METHOD, Algorithm=EXC_C14N)
    etree.SubElement(signed_info, _DS_SIGNATURE_METHOD, Algorithm=method_uri)
    reference = etree.SubElement(signed_info, _DS_REFERENCE, URI=f"#{element_id}")
    transforms = etree.SubElement(reference, _DS_TRANSFORMS)
    etree.SubElement(transforms, _DS_TRANSFORM, Algorithm=ENVELOPED)
    etree.SubElement(transforms, _DS_TRANSFORM, Algorithm=EXC_C14N)
    etree.SubElement(reference, _DS_DIGEST_METHOD, Algorithm=digest_uri)
    etree.SubElement(reference, _DS_DIGEST_VALUE).text = _b64(digest.finalize())
    value = etree.SubElement(signature, _DS_SIGNATURE_VALUE)
    key_data = etree.SubElement(etree.SubElement(signature, _DS_KEY_INFO), _DS_X509_DATA)
    etree.SubElement(key_data, _DS_X509_CERTIFICATE).text = _certificate_b64(cert_pem)
    issuer = element.find(f"{{{SAML}}}Issuer")
    if issuer is not None:
        issuer.addnext(signature)
    else:
        element.insert(0, signature)
    # SignedInfo is canonicalised in its place, as a verifier will see it.
    signed = _private_key(key_pem).sign(_c14n(signed_info, None), _PKCS1V15, hash_algorithm())
    value.text = _b64(signed)


# --- verification --------------------------------------------------------------------------------


def _fail(diagnosis: str, detail: str) -> SignatureError:
    return SignatureError(diagnosis, detail)


# Any namespace, any case (ID, Id, id, iD); the length test first keeps the scan cheap.
_ID_ATTRIBUTES = etree.XPath("//@*[string-length(local-name()) = 2][translate(local-name(), 'DI', 'di') = 'id']")


def id_counts(root: etree._Element) -> Counter[str]:
    """How often each value of an attribute named ID/Id/id (any namespace) occurs under ``root``."""
    values = _ID_ATTRIBUTES(root)
    assert isinstance(values, list)
    return Counter(str(value) for value in values)


def _check_ids_unique(element: etree._Element, element_id: str, ids: Counter[str] | None) -> None:
    # Any attribute called ID/Id/id can be the target of a reference; one value twice is wrapping.
    count = (ids if ids is not None else id_counts(element.getroottree().getroot()))[element_id]
    if count != 1:
        raise _fail(
            "bad-signature",
            f"De ID {element_id!r} komt {count} keer voor in het bericht. Dat wijst op een vervalsing (signature wrapping).",
        )


@functools.lru_cache(maxsize=64)
def _certificate_der(text: str) -> bytes | None:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _keyinfo_certificates(signature: etree._Element) -> list[bytes]:
    result = []
    for node in children(signature, _DS_KEY_INFO, _DS_X509_DATA, _DS_X509_CERTIFICATE):
        text = text_of(node)
        # Certificates repeat from message to message; only normal-sized ones go into the cache.
        der = _certificate_der(text) if len(text) < 16_384 else _certificate_der.__wrapped__(text)
        if der is None:
            raise _fail("bad-signature", "Het certificaat in de handtekening (KeyInfo) is geen geldige base64.")
        result.append(der)
    return result


@dataclass(frozen=True)
class _SignedInfo:
    """The parts of a ``ds:Signature`` that verification needs, found and checked in one pass."""

    signed_info: etree._Element
    c14n_prefixes: list[str] | None
    method_uri: str
    digest_uri: str
    transform_prefixes: list[str] | None
    digest_value: bytes
    signature_value: bytes


def _check_signed_info(signature: etree._Element, element_id: str) -> _SignedInfo:
    signed_info = child(signature, _DS_SIGNED_INFO)
    if signed_info is None:
        raise _fail("bad-signature", "De handtekening heeft geen SignedInfo.")
    c14n = child(signed_info, _DS_C14N_METHOD)
    if c14n is None or c14n.get("Algorithm") != EXC_C14N:
        found = c14n.get("Algorithm") if c14n is not None else "geen"
        raise _fail("bad-signature", f"Onverwachte canonicalisatie {found}; alleen exclusive c14n is toegestaan.")
    method = child(signed_info, _DS_SIGNATURE_METHOD)
    method_uri = method.get("Algorithm", "") if method is not None else ""
    if method_uri in _WEAK:
        raise _fail(
            "weak-algorithm", f"De handtekening gebruikt {_WEAK[method_uri]}. Dat is te zwak; RSA-SHA256 is vereist."
        )
    if method_uri not in _SIGNATURE_METHODS:
        raise _fail("bad-signature", f"Handtekeningmethode {method_uri or 'ontbreekt'} is niet toegestaan.")
    references = children(signed_info, _DS_REFERENCE)
    if len(references) != 1:
        raise _fail(
            "bad-signature", f"De handtekening heeft {len(references)} verwijzingen (Reference); verwacht is er 1."
        )
    reference = references[0]
    if reference.get("URI") != f"#{element_id}":
        raise _fail(
            "bad-signature",
            f"De handtekening verwijst naar {reference.get('URI')!r} en niet naar het element zelf (#{element_id}).",
        )
    transforms = children(reference, _DS_TRANSFORMS, _DS_TRANSFORM)
    if [t.get("Algorithm", "") for t in transforms] != [ENVELOPED, EXC_C14N]:
        raise _fail(
            "bad-signature", "Onverwachte transformaties in de handtekening; alleen enveloped + exclusive c14n."
        )
    digest = child(reference, _DS_DIGEST_METHOD)
    digest_uri = digest.get("Algorithm", "") if digest is not None else ""
    if digest_uri in _WEAK:
        raise _fail(
            "weak-algorithm",
            f"De handtekening gebruikt digest {_WEAK[digest_uri]}. Dat is te zwak; SHA-256 is vereist.",
        )
    if digest_uri not in _DIGESTS:
        raise _fail("bad-signature", f"Digestmethode {digest_uri or 'ontbreekt'} is niet toegestaan.")
    signature_value = child(signature, _DS_SIGNATURE_VALUE)
    if not text_of(signature_value):
        raise _fail("bad-signature", "De handtekening heeft een lege SignatureValue.")
    return _SignedInfo(
        signed_info=signed_info,
        c14n_prefixes=_inclusive_prefixes(c14n),
        method_uri=method_uri,
        digest_uri=digest_uri,
        transform_prefixes=_inclusive_prefixes(transforms[-1]),
        digest_value=_decoded(child(reference, _DS_DIGEST_VALUE), "De DigestValue"),
        signature_value=_decoded(signature_value, "De SignatureValue"),
    )


def _inclusive_prefixes(method: etree._Element) -> list[str] | None:
    node = child(method, _EXC_INCLUSIVE_NAMESPACES)
    return node.get("PrefixList", "").split() or None if node is not None else None


def _c14n(element: etree._Element, prefixes: list[str] | None) -> bytes:
    # libxml2's exclusive c14n, the same canonicaliser libxmlsec uses, on the subtree of ``element``.
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False, inclusive_ns_prefixes=prefixes)


def _enveloped_c14n(element: etree._Element, signature: etree._Element, prefixes: list[str] | None) -> bytes:
    """exc-c14n of ``element`` without its Signature child (the enveloped-signature transform).

    The signature is taken out in place and put back afterwards: a copy would lose namespace
    declarations of ancestors that InclusiveNamespaces may name. Only the Signature element goes;
    the text after it (lxml's ``tail``) stays, as the transform prescribes.
    """
    index = element.index(signature)
    tail = signature.tail
    previous = signature.getprevious()
    saved = previous.tail if previous is not None else element.text
    signature.tail = None
    element.remove(signature)
    if tail:
        if previous is not None:
            previous.tail = (saved or "") + tail
        else:
            element.text = (saved or "") + tail
    try:
        return _c14n(element, prefixes)
    finally:
        if previous is not None:
            previous.tail = saved
        else:
            element.text = saved
        element.insert(index, signature)
        signature.tail = tail


def _decoded(node: etree._Element | None, what: str) -> bytes:
    try:
        return base64.b64decode("".join(text_of(node).split()), validate=True)
    except (binascii.Error, ValueError):
        raise _fail("bad-signature", f"{what} in de handtekening is geen geldige base64.")


@functools.lru_cache(maxsize=64)
def _public_key(der: bytes) -> rsa.RSAPublicKey | None:
    key = x509.load_der_x509_certificate(der).public_key()
    return key if isinstance(key, rsa.RSAPublicKey) else None


_PKCS1V15 = padding.PKCS1v15()


def _signature_holds(
    element: etree._Element, signature: etree._Element, parts: _SignedInfo, ders: Sequence[bytes]
) -> bytes | None:
    """The DER of the trusted certificate whose key made this signature, or None when none did."""
    digest = hashes.Hash(_DIGEST_HASHES[parts.digest_uri]())
    digest.update(_enveloped_c14n(element, signature, parts.transform_prefixes))
    if not hmac.compare_digest(digest.finalize(), parts.digest_value):
        return None
    data = _c14n(parts.signed_info, parts.c14n_prefixes)
    algorithm = _SIGNATURE_HASHES[parts.method_uri]()
    for der in ders:
        key = _public_key(der)
        if key is None:
            continue
        try:
            key.verify(parts.signature_value, data, _PKCS1V15, algorithm)
        except InvalidSignature:
            continue
        return der
    return None


def verify(
    element: etree._Element,
    trusted_certs: Sequence[x509.Certificate],
    *,
    id_attr: str = "ID",
    ids: Counter[str] | None = None,
) -> SignatureInfo:
    """Check the enveloped signature that is a direct child of ``element``; raise SignatureError if not proven.

    ``ids`` may pass :func:`id_counts` of the whole document when the caller already has it.
    """
    name = _local(element)
    signatures = children(element, DS_SIGNATURE)
    if not signatures:
        raise _fail("unsigned", f"Het element {name} is niet ondertekend.")
    if len(signatures) > 1:
        raise _fail("bad-signature", f"Het element {name} heeft {len(signatures)} handtekeningen; verwacht is er 1.")
    signature = signatures[0]
    element_id = element.get(id_attr)
    if not element_id:
        raise _fail(
            "bad-signature", f"Het element {name} heeft geen {id_attr}; de handtekening kan er niet naar verwijzen."
        )
    parts = _check_signed_info(signature, element_id)
    _check_ids_unique(element, element_id, ids)
    if not trusted_certs:
        raise _fail("untrusted-certificate", "Er is geen vertrouwd certificaat van de makelaar ingesteld.")
    trusted = dict.fromkeys(_der(cert) for cert in trusted_certs)
    embedded = _keyinfo_certificates(signature)
    if embedded:
        # The embedded certificate only selects which trusted certificate to use; it is never trusted itself.
        candidates = [der for der in embedded if der in trusted]
        if not candidates:
            fingerprints = ", ".join(
                x509.load_der_x509_certificate(der).fingerprint(hashes.SHA256()).hex() if _parses(der) else "onleesbaar"
                for der in embedded
            )
            raise _fail(
                "untrusted-certificate",
                f"De handtekening is gezet met een certificaat dat niet vertrouwd wordt (SHA-256 {fingerprints}).",
            )
    else:
        candidates = list(trusted)
    der = _signature_holds(element, signature, parts, candidates)
    if der is not None:
        cert_fingerprint, cert_subject = _describe_cert(der)
        return SignatureInfo(
            element=name,
            element_id=element_id,
            certificate_fingerprint=cert_fingerprint,
            certificate_subject=cert_subject,
            signature_algorithm=_SIGNATURE_METHODS[parts.method_uri],
            digest_algorithm=_DIGESTS[parts.digest_uri],
        )
    raise _fail(
        "bad-signature", f"De handtekening op {name} klopt niet: de inhoud is veranderd of de sleutel past niet."
    )


def _parses(der: bytes) -> bool:
    try:
        x509.load_der_x509_certificate(der)
    except ValueError:
        return False
    return True


# --- encryption of identifiers -------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encrypt_id(
    name_id: etree._Element,
    recipient_cert_pem: bytes,
    *,
    recipient: str,
    algorithm: str = AES256_CBC,
    key_transport: str = RSA_OAEP_MGF1P,
) -> etree._Element:
    """A ``saml:EncryptedID`` holding ``name_id`` for the owner of ``recipient_cert_pem``, eHerkenning style."""
    if algorithm not in _BLOCK_CIPHERS:
        raise ValueError(f"unsupported block cipher {algorithm!r}")
    size, gcm = _BLOCK_CIPHERS[algorithm]
    cert = _certificate(recipient_cert_pem)
    public_key = cert.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise ValueError("recipient certificate has no RSA key")
    plaintext = etree.tostring(name_id)
    session_key = os.urandom(size)
    if gcm:
        nonce = os.urandom(12)
        cipher_value = nonce + AESGCM(session_key).encrypt(nonce, plaintext, None)
    else:
        iv = os.urandom(16)
        pad = 16 - len(plaintext) % 16
        padded = plaintext + os.urandom(pad - 1) + bytes([pad])
        encryptor = Cipher(algorithms.AES(session_key), modes.CBC(iv)).encryptor()
        cipher_value = iv + encryptor.update(padded) + encryptor.finalize()
    if key_transport == RSA_OAEP_MGF1P:
        encrypted_key = public_key.encrypt(
            session_key, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
        )
    elif key_transport == RSA_1_5:  # only to build hostile test cases: a key-transport downgrade
        encrypted_key = public_key.encrypt(session_key, padding.PKCS1v15())
    else:
        raise ValueError(f"unsupported key transport {key_transport!r}")
    carried = "_" + os.urandom(16).hex()
    nsmap = {"saml": SAML, "xenc": XENC, "ds": DS}
    encrypted_id = etree.Element(f"{{{SAML}}}EncryptedID", nsmap=nsmap)
    data = etree.SubElement(encrypted_id, f"{{{XENC}}}EncryptedData", Type=ELEMENT_TYPE)
    etree.SubElement(data, f"{{{XENC}}}EncryptionMethod", Algorithm=algorithm)
    etree.SubElement(etree.SubElement(data, f"{{{DS}}}KeyInfo"), f"{{{DS}}}KeyName").text = carried
    etree.SubElement(etree.SubElement(data, f"{{{XENC}}}CipherData"), f"{{{XENC}}}CipherValue").text = _b64(
        cipher_value
    )
    key = etree.SubElement(encrypted_id, f"{{{XENC}}}EncryptedKey", Recipient=recipient)
    method = etree.SubElement(key, f"{{{XENC}}}EncryptionMethod", Algorithm=key_transport)
    if key_transport == RSA_OAEP_MGF1P:
        etree.SubElement(method, f"{{{DS}}}DigestMethod", Algorithm=SHA1)
    etree.SubElement(etree.SubElement(key, f"{{{DS}}}KeyInfo"), f"{{{DS}}}KeyName").text = fingerprint(cert)
    etree.SubElement(etree.SubElement(key, f"{{{XENC}}}CipherData"), f"{{{XENC}}}CipherValue").text = _b64(
        encrypted_key
    )
    etree.SubElement(key, f"{{{XENC}}}CarriedKeyName").text = carried
    return encrypted_id


def _cipher_value(parent: etree._Element, what: str) -> bytes:
    value = child(parent, _XENC_CIPHER_DATA, _XENC_CIPHER_VALUE)
    if value is None:
        raise DecryptionError(f"{what} heeft geen CipherValue.")
    try:
        return base64.b64decode("".join(text_of(value).split()), validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError(f"De CipherValue van {what} is geen geldige base64.")


def _oaep(method: etree._Element) -> padding.OAEP:
    digest_node = child(method, _DS_DIGEST_METHOD)
    mgf_node = child(method, _XENC11_MGF)
    label = "".join(text_of(child(method, _XENC_OAEP_PARAMS)).split())
    # The same few parameter sets arrive again and again; an odd long label is not worth keeping.
    padding_for = _oaep_padding if len(label) <= 256 else _oaep_padding.__wrapped__
    return padding_for(
        method.get("Algorithm", ""),
        digest_node.get("Algorithm", SHA1) if digest_node is not None else SHA1,
        mgf_node.get("Algorithm", "") if mgf_node is not None else XENC11 + "mgf1sha1",
        label,
    )


@functools.lru_cache(maxsize=32)
def _oaep_padding(algorithm: str, digest_uri: str, mgf_uri: str, label_base64: str) -> padding.OAEP:
    """The OAEP parameters an EncryptedKey names; refuses everything outside the allow-list."""
    if digest_uri not in _OAEP_DIGESTS:
        raise DecryptionError(f"Onbekende digest {digest_uri} voor RSA-OAEP.")
    digest = _OAEP_DIGESTS[digest_uri]()
    if algorithm == RSA_OAEP_MGF1P:
        mgf: hashes.HashAlgorithm = hashes.SHA1()
    elif algorithm == RSA_OAEP_11:
        if mgf_uri not in _MGF:
            raise DecryptionError(f"Onbekende MGF {mgf_uri} voor RSA-OAEP.")
        mgf = _MGF[mgf_uri]()
    elif algorithm == RSA_1_5:
        raise DecryptionError("De sleutel is versleuteld met RSA PKCS#1 v1.5 (rsa-1_5). Dat is niet toegestaan.")
    else:
        raise DecryptionError(f"Sleuteltransport {algorithm or 'onbekend'} wordt niet ondersteund.")
    try:
        label = base64.b64decode(label_base64, validate=True) or None
    except (binascii.Error, ValueError):
        raise DecryptionError("De OAEPparams van de sleutel zijn geen geldige base64.")
    return padding.OAEP(mgf=padding.MGF1(mgf), algorithm=digest, label=label)


def _encrypted_keys(encrypted_id: etree._Element, data: etree._Element) -> list[etree._Element]:
    carried = text_of(child(data, _DS_KEY_INFO, _DS_KEY_NAME))
    keys = children(data, _DS_KEY_INFO, _XENC_ENCRYPTED_KEY) + children(encrypted_id, _XENC_ENCRYPTED_KEY)
    if carried:
        named = [key for key in keys if text_of(child(key, _XENC_CARRIED_KEY_NAME)) == carried]
        keys = named or keys
    return keys


def _decrypt_data(data: etree._Element, algorithm: str, session_key: bytes) -> bytes:
    size, gcm = _BLOCK_CIPHERS[algorithm]
    if len(session_key) != size:
        raise DecryptionError("De sleutel heeft niet de lengte die bij het algoritme hoort.")
    value = _cipher_value(data, "EncryptedData")
    if gcm:
        if len(value) < 12 + 16:
            raise DecryptionError("De versleutelde gegevens zijn te kort.")
        try:
            return AESGCM(session_key).decrypt(value[:12], value[12:], None)
        except InvalidTag:
            raise DecryptionError("De versleutelde gegevens zijn beschadigd (AES-GCM-controle faalt).")
    if len(value) < 32 or len(value) % 16:
        raise DecryptionError("De versleutelde gegevens hebben een ongeldige lengte.")
    decryptor = Cipher(algorithms.AES(session_key), modes.CBC(value[:16])).decryptor()
    padded = decryptor.update(value[16:]) + decryptor.finalize()
    # XML Encryption padding: only the last byte counts (W3C XML Encryption 1.1 §5.2), not PKCS#7.
    pad = padded[-1]
    if not 1 <= pad <= 16:
        raise DecryptionError("De opvulling (padding) van de versleutelde gegevens is ongeldig.")
    return padded[:-pad]


def _algorithm(parent: etree._Element | None) -> str:
    method = child(parent, _XENC_ENCRYPTION_METHOD)
    return method.get("Algorithm", "") if method is not None else ""


def block_cipher(encrypted_id: etree._Element) -> str:
    """The block cipher URI of an EncryptedID (for the trace); empty when absent."""
    return _algorithm(child(encrypted_id, _XENC_ENCRYPTED_DATA))


def decrypt_id(encrypted_id: etree._Element, key_pems: Sequence[bytes]) -> etree._Element:
    """The ``saml:NameID`` (or other identifier) inside ``encrypted_id``, decrypted with one of ``key_pems``."""
    data = child(encrypted_id, _XENC_ENCRYPTED_DATA)
    if data is None:
        raise DecryptionError("Het EncryptedID heeft geen EncryptedData.")
    if data.get("Type", ELEMENT_TYPE) != ELEMENT_TYPE:
        raise DecryptionError("Het EncryptedData bevat geen XML-element.")
    if not key_pems:
        raise DecryptionError("Er is geen privésleutel ingesteld om de identificatie te ontsleutelen.")
    keys = _encrypted_keys(encrypted_id, data)
    if not keys:
        raise DecryptionError("Het EncryptedID heeft geen EncryptedKey.")
    # Check the block cipher before any RSA work, so an unsupported algorithm gets its own message.
    algorithm = _algorithm(data)
    if algorithm not in _BLOCK_CIPHERS:
        raise DecryptionError(f"Versleutelalgoritme {algorithm or 'onbekend'} wordt niet ondersteund.")
    plaintext: bytes | None = None
    for key_element in keys:
        method = child(key_element, _XENC_ENCRYPTION_METHOD)
        if method is None:
            raise DecryptionError("Het EncryptedKey noemt geen algoritme.")
        oaep = _oaep(method)
        wrapped = _cipher_value(key_element, "EncryptedKey")
        for key_pem in key_pems:
            try:
                session_key = _private_key(key_pem).decrypt(wrapped, oaep)
            except ValueError:
                continue
            plaintext = _decrypt_data(data, algorithm, session_key)
            break
        if plaintext is not None:
            break
    if plaintext is None:
        raise DecryptionError(
            "Geen van onze sleutels past op dit EncryptedID (versleuteld voor een ander certificaat)."
        )
    return _parse_plaintext(plaintext, encrypted_id)


def _parse_plaintext(plaintext: bytes, context: etree._Element) -> etree._Element:
    # The plaintext is an XML fragment; it may use prefixes declared on ancestors of the EncryptedID.
    declarations = "".join(
        f' xmlns:{prefix}="{uri}"' if prefix else f' xmlns="{uri}"' for prefix, uri in context.nsmap.items()
    )
    try:
        wrapper = etree.fromstring(f"<w{declarations}>".encode() + plaintext + b"</w>", xmlsafe.parser())
    except etree.XMLSyntaxError:
        raise DecryptionError("De ontsleutelde gegevens zijn geen geldige XML.")
    elements = [node for node in wrapper if isinstance(node.tag, str)]
    if len(elements) != 1:
        raise DecryptionError("De ontsleutelde gegevens bevatten niet precies een element.")
    return elements[0]
