"""A dienst (SP) built on Lasso, an independent SAML library, logging in at our simulator: for the interop tests.

Runs under Debian's ``/usr/bin/python3`` (where ``python3-lasso`` lives), never inside our venv, and
imports nothing of ours. Per case it does what a real eHerkenning SP does with the HTTP-Artifact
binding: Lasso builds and signs the AuthnRequest (HTTP-Redirect, RSA-SHA256), the "browser" follows it
to the ACS, Lasso reads the artifact, signs the ArtifactResolve, sends it over SOAP to the simulator's
ArtifactResolutionService and checks the answer. Then every signature is checked on its own (the
ArtifactResponse and the assertion by the broker, the advice assertions by the supplier and the
machtigingenregister) and both EncryptedIDs are decrypted with the SP's own key.

    /usr/bin/python3 tests/interop/lasso_sp.py CONFIG.json   → one JSON object per case on stdout
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import lasso

SOAP_HEADERS = {
    "Content-Type": "text/xml; charset=utf-8",
    "SOAPAction": '"http://www.oasis-open.org/committees/security"',
}
ERROR_ID = re.compile(r'data-error-id="([a-z0-9-]+)"')
MR_METADATA = (
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">'
    '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
    '<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>'
    "<ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
    '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{base}"/>'
    "</md:IDPSSODescriptor></md:EntityDescriptor>"
)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


OPENER = urllib.request.build_opener(_NoRedirect)


def _get(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with OPENER.open(url, timeout=20) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def _post_soap(url: str, body: str) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body.encode(), headers=SOAP_HEADERS)
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _pem_body(cert_file: str) -> str:
    return "".join(line for line in Path(cert_file).read_text().splitlines() if not line.startswith("-----"))


class Sp:
    """One Lasso SP: its own metadata, key and certificate; it trusts the broker's signed metadata."""

    def __init__(self, config: dict[str, Any], own: dict[str, str], work: Path) -> None:
        self.server = lasso.Server(own["metadata_file"], own["key_file"], None, own["cert_file"])
        self.server.signatureMethod = lasso.SIGNATURE_METHOD_RSA_SHA256
        self.server.setEncryptionPrivateKey(own["key_file"])
        base = config["simulator"]
        documents = {"broker": f"{base}/simulator/metadata", "suppliers": f"{base}/simulator/listAD.xml"}
        loaded: dict[str, tuple[str, ...]] = {}
        for name, url in documents.items():
            status, _, text = _get(url)
            if status != 200:
                raise RuntimeError(f"{url}: HTTP {status}")
            path = work / f"{name}.xml"
            path.write_text(text)
            # The signature on each document is checked against the broker certificate pinned in advance.
            loaded[name] = self.server.loadMetadata(
                lasso.PROVIDER_ROLE_IDP,
                str(path),
                config["broker_cert_file"],
                None,
                lasso.SERVER_LOAD_METADATA_FLAG_CHECK_ENTITIES_DESCRIPTOR_SIGNATURE,
            )
        self.broker_id = loaded["broker"][0]
        self.suppliers = loaded["suppliers"]
        self.mr = lasso.Provider.newFromBuffer(
            lasso.PROVIDER_ROLE_IDP,
            MR_METADATA.format(entity_id=config["mr_entity_id"], cert=_pem_body(config["mr_cert_file"]), base=base),
        )

    def start(self, scenario: str) -> dict[str, Any]:
        """Lasso's signed AuthnRequest by HTTP-Redirect, in the simulator's test mode (``scenario=``)."""
        login = lasso.Login(self.server)
        login.initAuthnRequest(self.broker_id, lasso.HTTP_METHOD_REDIRECT)
        request = login.request
        request.protocolBinding = lasso.SAML2_METADATA_BINDING_ARTIFACT
        request.forceAuthn = True
        request.nameIdPolicy = None  # eHerkenning: not sent
        login.msgRelayState = "/terug"
        login.buildAuthnRequestMsg()
        status, headers, body = _get(f"{login.msgUrl}&scenario={scenario}")
        found = ERROR_ID.search(body)
        location = headers.get("Location") or headers.get("location") or ""
        return {
            "request_id": request.iD,
            "http_status": status,
            "acs": location.split("?", 1)[0],
            "query": location.split("?", 1)[1] if "?" in location else "",
            "error_id": found.group(1) if found else None,
        }

    def resolve(self, query: str) -> dict[str, Any]:
        """Read the artifact, resolve it over SOAP, let Lasso accept it, then check and decrypt everything."""
        login = lasso.Login(self.server)
        login.setSignatureVerifyHint(lasso.PROFILE_SIGNATURE_VERIFY_HINT_FORCE)
        login.initRequest(query, lasso.HTTP_METHOD_ARTIFACT_GET)
        login.buildRequestMsg()
        status, answer = _post_soap(login.msgUrl, login.msgBody)
        result: dict[str, Any] = {"ars": login.msgUrl, "http_status": status}
        if status != 200:
            fault = re.search(r"<faultstring>(.*?)</faultstring>", answer, re.S)
            result["fault"] = fault.group(1) if fault else answer[:300]
            return result
        try:
            login.processResponseMsg(answer)
        except lasso.Error as exc:
            result["lasso_error"] = type(exc).__name__
            result["status"] = _status(login.response)
            return result
        result["status"] = _status(login.response)
        try:
            login.acceptSso()
        except lasso.Error as exc:
            result["lasso_error"] = type(exc).__name__
            return result
        result.update(self._read(login, answer))
        return result

    def _read(self, login: lasso.Login, answer: str) -> dict[str, Any]:
        broker = self.server.getProvider(self.broker_id)
        assertion = login.getAssertion()
        signatures: dict[str, str] = {}

        def check(name: str, provider: lasso.Provider, node: lasso.Node) -> None:
            try:
                provider.verifySingleNodeSignature(node, "ID")
                signatures[name] = "ok"
            except lasso.Error as exc:
                signatures[name] = type(exc).__name__

        check("ArtifactResponse", broker, lasso.Node.newFromSoap(answer))
        check("Assertion", broker, assertion)
        for advice in assertion.advice.assertion if assertion.advice else ():
            issuer = advice.issuer.content
            if issuer == self.mr.providerId:
                check("Advice MR", self.mr, advice)
            elif issuer in self.suppliers:
                check("Advice AD", self.server.getProvider(issuer), advice)
            else:
                signatures[f"Advice {issuer}"] = "unknown issuer"
        attributes: dict[str, Any] = {}
        for statement in assertion.attributeStatement or ():
            for attribute in statement.attribute or ():
                for value in attribute.attributeValue or ():
                    for node in value.any or ():
                        attributes[attribute.name] = _value(node, self.server)
        conditions = assertion.conditions
        return {
            "accepted": True,
            "in_response_to": login.response.inResponseTo,
            "destination": login.response.destination,
            "audience": conditions.audienceRestriction[0].audience,
            "loa": assertion.authnStatement[0].authnContext.authnContextClassRef,
            "signatures": signatures,
            "attributes": attributes,
        }


def _value(node: lasso.Node, server: lasso.Server) -> Any:
    if isinstance(node, lasso.Saml2EncryptedElement):
        decrypted = lasso.cptrToPy(node.serverDecrypt(server))
        return {
            "encrypted": True,
            "format": decrypted.format,
            "qualifier": decrypted.nameQualifier,
            "value": decrypted.content,
        }
    return node.dump().strip() if not isinstance(node, lasso.MiscTextNode) else node.content


def _status(response: lasso.Samlp2StatusResponse | None) -> list[str]:
    codes: list[str] = []
    code = response.status.statusCode if response is not None and response.status else None
    while code is not None:
        codes.append(code.value)
        code = code.statusCode
    return codes


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    with tempfile.TemporaryDirectory() as work:
        sps = {}
        for name, own in config["sps"].items():
            (Path(work) / name).mkdir()
            sps[name] = Sp(config, own, Path(work) / name)
        results: dict[str, Any] = {}
        for case in config["cases"]:
            sp = sps[case["sp"]]
            outcome: dict[str, Any] = {}
            # Cases run in order; "artifact_of" resolves the artifact an earlier case left unresolved.
            if "artifact_of" in case:
                outcome["resolve"] = sp.resolve(results[case["artifact_of"]]["start"]["query"])
            else:
                outcome["start"] = sp.start(case["scenario"])
                if outcome["start"]["query"] and case.get("resolve", True):
                    outcome["resolve"] = sp.resolve(outcome["start"]["query"])
            results[case["name"]] = outcome
    json.dump(results, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
