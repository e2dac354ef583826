"""Checks 1-4: the input is safe XML, the message has the SAML shape, and what the statuses say."""

from __future__ import annotations

from lxml import etree

from diagnostics import crypto, xmlsafe
from diagnostics.checks.state import (
    CLASS_REF_PATH,
    NO_MESSAGE,
    NO_RESPONSE,
    SAML_TAG,
    SAMLP_TAG,
    Run,
    Stop,
    make_result,
    parse_instant,
    short_status,
)
from diagnostics.checks.status_message import authn_failed_cause
from diagnostics.saml_names import BEARER, SOAP12_ENV, SOAP_ENV, STATUS
from diagnostics.verdict import CheckResult
from diagnostics.xmltree import child, children, text_of

SOAP_NAMESPACES = (SOAP_ENV, SOAP12_ENV)


def check_input(run: Run) -> CheckResult:
    """1. The input is XML we can read safely (size, no DTD or entities); a SOAP envelope is opened."""
    try:
        root = xmlsafe.parse(run.message, max_bytes=run.context.max_bytes)
    except xmlsafe.UnsafeXmlError as exc:
        return make_result("input", "fail", exc.message, exc.diagnosis)
    namespace = etree.QName(root).namespace
    if namespace in SOAP_NAMESPACES:
        body = child(root, f"{{{namespace}}}Body")
        contents = [node for node in body if isinstance(node.tag, str)] if body is not None else []
        if len(contents) != 1:
            return make_result("input", "fail", "Het SOAP-bericht heeft geen (of meer dan een) inhoud.", "malformed")
        if etree.QName(contents[0]).localname == "Fault":
            fault = text_of(contents[0].find("faultstring")) or text_of(contents[0])
            return make_result(
                "input",
                "fail",
                f"De makelaar gaf een SOAP-fout terug in plaats van een antwoord: {fault[:200]}",
                "artifact-resolve-failed",
            )
        root = contents[0]
    run.state.root = root
    return make_result(
        "input",
        "pass",
        f"Het bericht is veilige, leesbare XML ({len(run.message)} bytes, zonder DTD of entiteiten).",
        data={"bytes": str(len(run.message))},
    )


def check_structure(run: Run) -> CheckResult:
    """2. An ArtifactResponse or Response with exactly one Response and, on success, one assertion."""
    root = run.state.root
    if root is None:
        return make_result("structure", "skip", "Overgeslagen: het bericht is niet leesbaar.")
    problems: list[str] = []
    run.state.ids = crypto.id_counts(root.getroottree().getroot())
    if root.tag == SAMLP_TAG["ArtifactResponse"]:
        run.state.artifact_response = root
        _protocol_problems(root, "ArtifactResponse", problems)
        inner = [node for node in root if node.tag == SAMLP_TAG["Response"]]
        response = inner[0] if len(inner) == 1 else None
        if response is None and not inner and _status_code(root) == STATUS + "Success":
            problems.append("De ArtifactResponse bevat geen Response.")
    elif root.tag == SAMLP_TAG["Response"]:
        response = root
    else:
        return make_result(
            "structure",
            "fail",
            f"Dit is geen SAML Response of ArtifactResponse maar {etree.QName(root).localname}.",
            "malformed",
        )
    responses = list(root.iter(SAMLP_TAG["Response"]))
    if len(responses) > 1:
        return make_result(
            "structure",
            "fail",
            f"Het bericht bevat {len(responses)} Response-elementen; er hoort er 1 te zijn. "
            "Dat wijst op een vervalsing (signature wrapping).",
            "bad-signature",
        )
    if response is not None:
        run.state.response = response
        _protocol_problems(response, "Response", problems)
        run.state.success = _status_code(response) == STATUS + "Success"
        if run.state.success:
            _assertion_structure(run, response, problems)
    if problems:
        return make_result("structure", "fail", " ".join(problems), "malformed")
    kind = etree.QName(root).localname
    if run.state.assertion is not None:
        detail = f"{kind} met precies een Response en een Assertion; alle verplichte onderdelen zijn er."
    else:
        detail = f"{kind} met een Response zonder Assertion (foutstatus); de verplichte onderdelen zijn er."
    return make_result("structure", "pass", detail, data={"message": kind})


def _protocol_problems(element: etree._Element, name: str, problems: list[str]) -> None:
    if element.get("Version") != "2.0":
        problems.append(f"{name} heeft geen Version 2.0.")
    if not element.get("ID"):
        problems.append(f"{name} heeft geen ID.")
    if parse_instant(element.get("IssueInstant")) is None:
        problems.append(f"{name} heeft geen geldige IssueInstant.")
    if (
        len(children(element, SAMLP_TAG["Status"])) != 1
        or child(element, SAMLP_TAG["Status"], SAMLP_TAG["StatusCode"]) is None
    ):
        problems.append(f"{name} heeft geen (of meer dan een) Status met StatusCode.")


def _assertion_structure(run: Run, response: etree._Element, problems: list[str]) -> None:
    assertions = children(response, SAML_TAG["Assertion"])
    encrypted = children(response, SAML_TAG["EncryptedAssertion"])
    if encrypted and not assertions and len(encrypted) == 1:
        try:
            decrypted = crypto.decrypt_id(encrypted[0], run.context.sp_key_pems)
        except crypto.DecryptionError as exc:
            raise Stop(make_result("structure", "fail", f"De versleutelde assertion: {exc.message}", exc.diagnosis))
        if decrypted.tag != SAML_TAG["Assertion"]:
            problems.append("De EncryptedAssertion bevat geen Assertion.")
            return
        # Kept beside the tree, not put into it: the outer signatures cover the encrypted form.
        run.state.encrypted_assertion = encrypted[0]
        run.state.ids.update(crypto.id_counts(decrypted))
        assertions, encrypted = [decrypted], []
    count = len(assertions) + len(encrypted)
    if count > 1:
        # More than one assertion is the classic signature-wrapping shape: treat it as forgery.
        raise Stop(
            make_result(
                "structure",
                "fail",
                f"De Response bevat {count} assertions; er hoort er precies 1 te zijn. "
                "Dat wijst op een vervalsing (signature wrapping).",
                "bad-signature",
            )
        )
    if count != 1 or len(assertions) != 1:
        problems.append("De Response heeft status Success maar bevat geen assertion.")
        return
    assertion = assertions[0]
    run.state.assertion = assertion
    run.state.bearer = _bearer_data(assertion)
    run.state.conditions = child(assertion, SAML_TAG["Conditions"])
    run.state.attributes = _attribute_values(assertion)
    if assertion.get("Version") != "2.0" or not assertion.get("ID"):
        problems.append("De Assertion heeft geen Version 2.0 of geen ID.")
    if parse_instant(assertion.get("IssueInstant")) is None:
        problems.append("De Assertion heeft geen geldige IssueInstant.")
    for name in ("Issuer", "Subject", "Conditions", "AuthnStatement"):
        count = len(children(assertion, SAML_TAG[name]))
        if count != 1:
            problems.append(f"De Assertion heeft {count} keer {name}; verwacht is 1 keer.")
    if len(children(assertion, SAML_TAG["Advice"])) > 1:
        problems.append("De Assertion heeft meer dan een Advice.")
    if run.state.bearer is None:
        problems.append("De Assertion heeft geen SubjectConfirmation met methode bearer en SubjectConfirmationData.")
    if len(children(assertion, *CLASS_REF_PATH)) != 1:
        problems.append("De Assertion noemt niet precies een niveau (AuthnContextClassRef).")


def _status_code(element: etree._Element) -> str:
    code = child(element, SAMLP_TAG["Status"], SAMLP_TAG["StatusCode"])
    return code.get("Value", "") if code is not None else ""


def check_artifact_status(run: Run) -> CheckResult:
    """3. The ArtifactResponse says Success: the broker found our artifact."""
    wrapper = run.state.artifact_response
    if wrapper is None:
        if run.state.response is not None:
            return make_result("artifact-status", "skip", "Geen ArtifactResponse: het bericht is een losse Response.")
        return make_result("artifact-status", "skip", NO_MESSAGE)
    code = _status_code(wrapper)
    if code != STATUS + "Success":
        return make_result(
            "artifact-status",
            "fail",
            f"De ArtifactResponse heeft status {short_status(code) or 'onbekend'}; het artefact is niet opgehaald.",
            "artifact-resolve-failed",
            {"status": code},
        )
    return make_result("artifact-status", "pass", "De ArtifactResponse heeft status Success.", data={"status": code})


def check_status(run: Run) -> CheckResult:
    """4. The Response status, mapped to cancelled, auth-failed, unknown-principal and so on."""
    response = run.state.response
    if response is None:
        return make_result("status", "skip", NO_RESPONSE)
    status = child(response, SAMLP_TAG["Status"])
    top = child(status, SAMLP_TAG["StatusCode"])
    top_code = top.get("Value", "") if top is not None else ""
    second = child(top, SAMLP_TAG["StatusCode"])
    second_code = second.get("Value", "") if second is not None else ""
    message = text_of(child(status, SAMLP_TAG["StatusMessage"]))
    data = {"status": top_code, "substatus": second_code, "message": message[:200]}
    shown = short_status(top_code) + (f" / {short_status(second_code)}" if second_code else "")
    if message:
        shown += f' ("{message[:200]}")'
    if top_code == STATUS + "Success":
        return make_result("status", "pass", "De makelaar meldt Success: de gebruiker is ingelogd.", data=data)
    diagnosis = _status_diagnosis(top_code, second_code, message)
    detail = f"De makelaar meldt status {shown}."
    if diagnosis == "stopped-at-broker":
        detail += (
            " Het bericht zegt niet duidelijk of de gebruiker annuleerde of een verkeerd wachtwoord of een"
            " verkeerde code gebruikte. Vraag de gebruiker wat hij of zij zag."
        )
    return make_result("status", "fail", detail, diagnosis, data)


def _status_diagnosis(top: str, second: str, message: str) -> str:
    if second == STATUS + "AuthnFailed":
        # Cancel and a wrong password or code both arrive like this; only the optional message can say which.
        return authn_failed_cause(message)
    if second == STATUS + "UnknownPrincipal":
        return "unknown-principal"
    if second == STATUS + "RequestUnsupported":
        return "request-unsupported"
    if top == STATUS + "Requester":
        return "config-error"
    return "broker-error"


def _bearer_data(assertion: etree._Element) -> etree._Element | None:
    """The SubjectConfirmationData of the one bearer SubjectConfirmation; None when that is not unique."""
    confirmations = children(assertion, SAML_TAG["Subject"], SAML_TAG["SubjectConfirmation"])
    bearer = [c for c in confirmations if c.get("Method") == BEARER]
    if len(bearer) != 1:
        return None
    data = children(bearer[0], SAML_TAG["SubjectConfirmationData"])
    return data[0] if len(data) == 1 else None


def _attribute_values(assertion: etree._Element) -> dict[str, list[etree._Element]]:
    """The AttributeValues of the assertion's own attribute statements, by attribute Name."""
    values: dict[str, list[etree._Element]] = {}
    for attribute in children(assertion, SAML_TAG["AttributeStatement"], SAML_TAG["Attribute"]):
        values.setdefault(attribute.get("Name", ""), []).extend(children(attribute, SAML_TAG["AttributeValue"]))
    return values
