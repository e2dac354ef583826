"""An eHerkenning-shaped broker (IdP) built on Lasso, an independent SAML library: for the interop tests.

Runs under Debian's ``/usr/bin/python3`` (where ``python3-lasso`` lives), never inside our venv, and
imports nothing of ours. Lasso checks the signature on our AuthnRequest and on our ArtifactResolve,
builds and signs the assertion, encrypts both identifiers for our SP, and answers over SOAP. Its own
metadata is signed with the ``xmlsec1`` tool, as an operator would sign it.

    /usr/bin/python3 tests/interop/lasso_idp.py CONFIG.json

CONFIG names the port, entity id, key and certificate files, our SP's metadata URL, a work directory
and the ServiceID/ServiceUUID (a real broker reads those from the dienstencatalogus). The test chooses
how the next login ends with ``POST /control`` and a JSON body ``{"behaviour": ...}``:

    success          level loa2plus, everything right
    loa2             level loa2 (below the eHerkenning 2+ our service needs)
    cancel-silent    Responder / AuthnFailed without a StatusMessage
    cancel-message   Responder / AuthnFailed with "The user cancelled."
    wrong-audience   a correct assertion addressed to another dienst
    never-returns    the broker shows its own page and never sends the user back

The script prints ``ready`` on stdout once it serves.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

import lasso

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
LOA = "urn:etoegang:core:assurance-class:"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
OTHER_DV = "urn:etoegang:DV:00000009999999999555:entities:9555"
SUPPLIER = "urn:etoegang:AD:00000009999999999777:entities:9001"
BEHAVIOURS = ("success", "loa2", "cancel-silent", "cancel-message", "wrong-audience", "never-returns")

SIGNATURE_TEMPLATE = """<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>
<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
<ds:Reference URI="#{id}"><ds:Transforms>
<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>
<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>
</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>"""


def _cert_base64(cert_file: str) -> str:
    lines = Path(cert_file).read_text().strip().splitlines()
    return "".join(line for line in lines if not line.startswith("-----"))


def metadata(config: dict[str, str], *, signature: str = "") -> str:
    """The broker's EntityDescriptor: signing key, SSO for Redirect and POST, one SOAP ARS."""
    base, cert = config["base_url"], _cert_base64(config["cert_file"])
    return (
        f'<md:EntityDescriptor xmlns:md="{MD}" ID="_lasso_metadata" entityID="{config["entity_id"]}">'
        f"{signature}"
        '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" '
        'WantAuthnRequestsSigned="true">'
        '<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>'
        f"<ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        '<md:ArtifactResolutionService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" '
        f'Location="{base}/ars" index="0" isDefault="true"/>'
        '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        f'Location="{base}/sso"/>'
        '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        f'Location="{base}/sso"/>'
        "</md:IDPSSODescriptor></md:EntityDescriptor>"
    )


def signed_metadata(config: dict[str, str], work: Path) -> bytes:
    """The metadata, signed by the xmlsec1 tool with the broker's key (RSA-SHA256, exc-c14n)."""
    template = work / "idp-metadata-template.xml"
    template.write_text(metadata(config, signature=SIGNATURE_TEMPLATE.format(id="_lasso_metadata")))
    signed = work / "idp-metadata-signed.xml"
    subprocess.run(
        [
            "xmlsec1",
            "--sign",
            "--privkey-pem",
            f"{config['key_file']},{config['cert_file']}",
            "--id-attr:ID",
            f"{MD}:EntityDescriptor",
            "--output",
            str(signed),
            str(template),
        ],
        check=True,
        capture_output=True,
    )
    return signed.read_bytes()


def _now(offset: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + offset).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text_value(text: str) -> lasso.Saml2AttributeValue:
    value = lasso.Saml2AttributeValue()
    value.any = [lasso.MiscTextNode.newWithString(text)]
    return value


def _attribute(name: str, value: lasso.Saml2AttributeValue) -> lasso.Saml2Attribute:
    attribute = lasso.Saml2Attribute()
    attribute.name = name
    attribute.attributeValue = [value]
    return attribute


def _encrypted_id(sp: lasso.Provider, qualifier: str, text: str) -> lasso.Saml2AttributeValue:
    """An identifier as eHerkenning sends it: a persistent NameID, encrypted by Lasso for the SP."""
    name_id = lasso.Saml2NameID()
    name_id.format = PERSISTENT
    name_id.nameQualifier = qualifier
    name_id.content = text
    encrypted = sp.saml2NodeEncrypt(name_id)
    if encrypted is None:
        raise RuntimeError("lasso could not encrypt the identifier")
    # Lasso names a fresh one <saml:EncryptedElement> and also serialises the plaintext NameID it keeps
    # beside it (originalData); a broker sends neither: only the encrypted <saml:EncryptedID>.
    encrypted.originalData = None
    encrypted.setCustomNodename("EncryptedID")
    value = lasso.Saml2AttributeValue()
    value.any = [encrypted]
    return value


def _status(login: lasso.Login, message: str | None) -> None:
    """Responder / AuthnFailed: what eHerkenning sends on a cancel (the message is optional)."""
    second = lasso.Samlp2StatusCode()
    second.value = lasso.SAML2_STATUS_CODE_AUTHN_FAILED
    top = lasso.Samlp2StatusCode()
    top.value = lasso.SAML2_STATUS_CODE_RESPONDER
    top.statusCode = second
    status = lasso.Samlp2Status()
    status.statusCode = top
    if message is not None:
        status.statusMessage = message
    login.response.status = status


class Broker:
    """The Lasso server, the pending artifacts and the behaviour for the next login."""

    def __init__(self, config: dict[str, str]) -> None:
        self.config = config
        work = Path(config["work_dir"])
        work.mkdir(parents=True, exist_ok=True)
        self.metadata = signed_metadata(config, work)
        own = work / "idp-metadata.xml"
        own.write_text(metadata(config))
        self.server = lasso.Server(str(own), config["key_file"], None, config["cert_file"])
        self.server.signatureMethod = lasso.SIGNATURE_METHOD_RSA_SHA256
        with urlopen(config["sp_metadata_url"], timeout=10) as answer:
            self.server.addProviderFromBuffer(lasso.PROVIDER_ROLE_SP, answer.read().decode())
        self.sp_id = next(iter(self.server.providers))
        self.sp = self.server.getProvider(self.sp_id)
        self.sp.setEncryptionSymKeyType(lasso.ENCRYPTION_SYM_KEY_TYPE_AES_256)
        self.sp.setKeyEncryptionMethod(lasso.KEY_ENCRYPTION_METHOD_OAEP)
        self.lock = threading.Lock()
        self.behaviour = "success"
        self.pending: dict[str, str] = {}
        self.seen: list[dict[str, str]] = []

    def sso(self, query: str) -> tuple[int, dict[str, str], bytes]:
        """An AuthnRequest by HTTP-Redirect: Lasso verifies our signature, then the behaviour decides."""
        login = lasso.Login(self.server)
        login.setSignatureVerifyHint(lasso.PROFILE_SIGNATURE_VERIFY_HINT_FORCE)
        login.processAuthnRequestMsg(query)
        with self.lock:
            behaviour = self.behaviour
            self.seen.append({"request_id": login.request.iD, "issuer": login.request.issuer.content})
        if behaviour == "never-returns":
            page = "<html lang='nl'><body><h1>Geen machtiging</h1><p>U hebt geen machtiging.</p></body></html>"
            return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()
        if behaviour.startswith("cancel"):
            login.validateRequestMsg(True, True)
            _status(login, "The user cancelled." if behaviour == "cancel-message" else None)
        else:
            login.validateRequestMsg(True, True)
            self._assertion(login, LOA + ("loa2" if behaviour == "loa2" else "loa2plus"), behaviour)
        login.buildArtifactMsg(lasso.HTTP_METHOD_ARTIFACT_GET)
        with self.lock:
            self.pending[login.assertionArtifact] = login.artifactMessage
        return 303, {"Location": login.msgUrl}, b""

    def _assertion(self, login: lasso.Login, loa: str, behaviour: str) -> None:
        login.buildAssertion(loa, _now(), None, _now(timedelta(minutes=-1)), _now(timedelta(minutes=4)))
        assertion = login.response.assertion[0]
        assertion.authnStatement[0].authnContext.authenticatingAuthority = SUPPLIER
        if behaviour == "wrong-audience":
            assertion.conditions.audienceRestriction[0].audience = OTHER_DV
        statement = lasso.Saml2AttributeStatement()
        statement.attribute = [
            _attribute("urn:etoegang:core:ServiceID", _text_value(self.config["service_id"])),
            _attribute("urn:etoegang:core:ServiceUUID", _text_value(self.config["service_uuid"])),
            _attribute(
                "urn:etoegang:core:LegalSubjectID",
                _encrypted_id(self.sp, "urn:etoegang:1.9:EntityConcernedID:KvKnr", "90000077"),
            ),
            _attribute(
                "urn:etoegang:core:ActingSubjectID",
                _encrypted_id(self.sp, "urn:etoegang:1.9:EntityConcernedID:Pseudo", "a1" * 32),
            ),
        ]
        assertion.attributeStatement = [statement]

    def ars(self, body: str) -> bytes:
        """A SOAP ArtifactResolve: Lasso verifies our signature and answers with the stored message once."""
        login = lasso.Login(self.server)
        login.setSignatureVerifyHint(lasso.PROFILE_SIGNATURE_VERIFY_HINT_FORCE)
        login.processRequestMsg(body)
        with self.lock:
            message = self.pending.pop(login.assertionArtifact, None)
        if message is not None:
            login.artifactMessage = message
        login.buildResponseMsg(None)
        return login.msgBody.encode()


def handler(broker: Broker) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            try:
                if url.path == "/metadata":
                    self._send(200, {"Content-Type": "application/samlmetadata+xml"}, broker.metadata)
                elif url.path == "/sso":
                    self._send(*broker.sso(url.query))
                elif url.path == "/seen":
                    self._send(200, {"Content-Type": "application/json"}, json.dumps(broker.seen).encode())
                else:
                    self._send(404, {}, b"")
            except lasso.Error as exc:  # what Lasso refuses (a bad signature, an unknown dienst)
                self._send(400, {"Content-Type": "text/plain"}, f"lasso: {type(exc).__name__}".encode())
            except Exception as exc:  # a bug here must show in the test, not as a dropped connection
                self._send(500, {"Content-Type": "text/plain"}, f"{type(exc).__name__}: {exc}".encode())

        def do_POST(self) -> None:
            body = self._body()
            try:
                if self.path == "/ars":
                    self._send(200, {"Content-Type": "text/xml; charset=utf-8"}, broker.ars(body.decode()))
                elif self.path == "/control":
                    behaviour = json.loads(body)["behaviour"]
                    if behaviour not in BEHAVIOURS:
                        self._send(400, {}, b"unknown behaviour")
                        return
                    with broker.lock:
                        broker.behaviour = behaviour
                    self._send(204, {}, b"")
                else:
                    self._send(404, {}, b"")
            except Exception as exc:  # SOAP callers read the status; the text helps whoever reads the test output
                self._send(500, {"Content-Type": "text/plain"}, f"{type(exc).__name__}: {exc}".encode())

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    broker = Broker(config)
    server = ThreadingHTTPServer(("127.0.0.1", int(config["port"])), handler(broker))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
