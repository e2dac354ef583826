"""Checks 5-7: the broker sent it, the broker signed it, and only what it signed is read."""

from __future__ import annotations

from collections import Counter

from lxml import etree

from diagnostics import crypto
from diagnostics.checks.state import NO_MESSAGE, SAML_TAG, Run, make_result
from diagnostics.verdict import CheckResult
from diagnostics.xmltree import child, text_of


def check_issuer(run: Run) -> CheckResult:
    """5. Every Issuer is the broker we trust."""
    expected = run.context.broker_entity_id
    elements = [
        (name, element)
        for name, element in (
            ("ArtifactResponse", run.state.artifact_response),
            ("Response", run.state.response),
            ("Assertion", run.state.assertion),
        )
        if element is not None
    ]
    if not elements:
        return make_result("issuer", "skip", NO_MESSAGE)
    found = {name: text_of(child(element, SAML_TAG["Issuer"])) for name, element in elements}
    data = {f"issuer_{name.lower()}": value for name, value in found.items()}
    if not expected:
        run.state.missing_config.append("issuer")
        return make_result(
            "issuer", "skip", "Niet gecontroleerd: de entity-ID van de makelaar is niet ingesteld.", data=data
        )
    data["expected"] = expected
    if run.state.assertion is not None and not found.get("Assertion"):
        return make_result("issuer", "fail", "De Assertion noemt geen Issuer.", "wrong-issuer", data)
    wrong = [f"{name}: {value or 'geen'}" for name, value in found.items() if value and value != expected]
    if wrong:
        return make_result(
            "issuer",
            "fail",
            f"Het bericht komt van een andere afzender dan de makelaar ({'; '.join(wrong)}); verwacht {expected}.",
            "wrong-issuer",
            data,
        )
    return make_result("issuer", "pass", f"Afzender is de makelaar {expected}.", data=data)


def check_signature(run: Run) -> CheckResult:
    """6. Signatures verify with the broker's configured certificates; the assertion must be signed."""
    if run.state.response is None:
        return make_result("signature", "skip", NO_MESSAGE)
    if not run.context.trusted_certs:
        run.state.missing_config.append("signature")
        return make_result(
            "signature",
            "skip",
            "Niet gecontroleerd: er is geen vertrouwd certificaat van de makelaar ingesteld (metadata).",
        )
    data: dict[str, str] = {}
    verified: list[str] = []
    optional = [("ArtifactResponse", run.state.artifact_response), ("Response", run.state.response)]
    for name, element in optional:
        if element is None or child(element, crypto.DS_SIGNATURE) is None:
            continue
        try:
            info = crypto.verify(element, run.context.trusted_certs, ids=_ids_for(run, element))
        except crypto.SignatureError as exc:
            return make_result("signature", "fail", f"{name}: {exc.message}", exc.diagnosis, data)
        verified.append(_describe(info, data, name.lower()))
    assertion = run.state.assertion
    if assertion is None:
        if verified:
            return make_result("signature", "pass", "Ondertekend: " + "; ".join(verified) + ".", data=data)
        return make_result("signature", "skip", "Geen assertion en geen handtekening: alleen de status is gelezen.")
    try:
        info = crypto.verify(assertion, run.context.trusted_certs, ids=_ids_for(run, assertion))
    except crypto.SignatureError as exc:
        return make_result("signature", "fail", f"Assertion: {exc.message}", exc.diagnosis, data)
    verified.append(_describe(info, data, "assertion"))
    run.state.signature_verified = True
    return make_result("signature", "pass", "Ondertekend door de makelaar: " + "; ".join(verified) + ".", data=data)


def _ids_for(run: Run, element: etree._Element) -> Counter[str] | None:
    # The shared count is only valid for elements of the message itself or the decrypted assertion.
    document = run.state.root.getroottree().getroot() if run.state.root is not None else None
    if element.getroottree().getroot() is document or run.state.encrypted_assertion is not None:
        return run.state.ids
    return None


def _describe(info: crypto.SignatureInfo, data: dict[str, str], key: str) -> str:
    data[f"{key}_certificate_sha256"] = info.certificate_fingerprint
    data[f"{key}_algorithm"] = f"{info.signature_algorithm} / {info.digest_algorithm}"
    data[f"{key}_id"] = info.element_id
    return (
        f"{info.element} {info.element_id} met {info.signature_algorithm} ({info.digest_algorithm}), "
        f"certificaat SHA-256 {info.certificate_fingerprint[:16]}…"
    )


def check_wrapping(run: Run) -> CheckResult:
    """7. Only the signed assertion is read: no second assertion, no duplicate IDs."""
    root, assertion = run.state.root, run.state.assertion
    if root is None or assertion is None:
        return make_result("wrapping", "skip", "Overgeslagen: er is geen assertion om te lezen.")
    seen = run.state.ids
    duplicates = sorted(value for value, count in seen.items() if count > 1)
    if duplicates:
        return make_result(
            "wrapping",
            "fail",
            f"Dezelfde ID komt meer dan eens voor ({', '.join(duplicates)[:120]}). Dat wijst op een vervalsing.",
            "bad-signature",
        )
    advice = child(assertion, SAML_TAG["Advice"])
    stray = [
        node
        for node in root.iter(SAML_TAG["Assertion"], SAML_TAG["EncryptedAssertion"])
        if node is not assertion
        and node is not run.state.encrypted_assertion
        and (advice is None or not _inside(node, advice))
    ]
    if stray:
        return make_result(
            "wrapping",
            "fail",
            f"Er staan {len(stray)} extra assertions buiten de gebruikte assertion. Dat wijst op signature wrapping.",
            "bad-signature",
        )
    if not run.state.signature_verified:
        return make_result(
            "wrapping",
            "skip",
            "Niet vastgesteld: zonder geldige handtekening is niet bewezen welke assertion de makelaar stuurde.",
        )
    return make_result(
        "wrapping",
        "pass",
        f"Alleen de ondertekende assertion {assertion.get('ID')} wordt gelezen; Advice telt niet mee.",
        data={"assertion_id": assertion.get("ID", "")},
    )


def _inside(node: etree._Element, ancestor: etree._Element) -> bool:
    parent = node.getparent()
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.getparent()
    return False
