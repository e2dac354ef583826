"""Checks 12-15: the level, the service, the identifiers (decrypted, shown masked) and replay."""

from __future__ import annotations

import re
from datetime import timedelta

from lxml import etree

from diagnostics import crypto, privacy
from diagnostics.checks.state import CLASS_REF_PATH, NO_ASSERTION, SAML_TAG, Run, make_result, parse_instant
from diagnostics.loa import Loa, loa_rank
from diagnostics.saml_names import ACTING_SUBJECT, LEGAL_SUBJECT, SERVICE_ID, SERVICE_UUID
from diagnostics.verdict import CheckResult
from diagnostics.xmltree import child, text_of

_SERVICE_ID_RE = re.compile(r"^urn:etoegang:DV:(\d{20}):services:(\d+)$")


def check_loa(run: Run) -> CheckResult:
    """12. The level received is at least the level our service requires."""
    assertion = run.state.assertion
    if assertion is None:
        return make_result("loa", "skip", NO_ASSERTION)
    received = text_of(child(assertion, *CLASS_REF_PATH))
    required = run.context.required_loa
    data = {"required": required, "received": received}
    received_label = _label(received) or received or "geen niveau"
    required_label = _label(required) or required
    if loa_rank(received) < 0 or loa_rank(received) < loa_rank(required):
        return make_result(
            "loa",
            "fail",
            f"Ingelogd met {received_label}; nodig is minimaal {required_label}.",
            "loa-too-low",
            data,
        )
    return make_result("loa", "pass", f"Ingelogd met {received_label} (nodig: {required_label}).", data=data)


def _label(uri: str) -> str | None:
    level = Loa.of(uri)
    return level.label if level is not None else None


def check_service(run: Run) -> CheckResult:
    """13. The machtiging is for our ServiceID."""
    if run.state.assertion is None:
        return make_result("service", "skip", NO_ASSERTION)
    expected = run.context.service_id
    found = [text_of(value) for value in run.state.attributes.get(SERVICE_ID, [])]
    uuids = [text_of(value) for value in run.state.attributes.get(SERVICE_UUID, [])]
    data = {"expected": expected, "service_id": ", ".join(found), "service_uuid": ", ".join(uuids)}
    if not any(_same_service(value, expected) for value in found):
        return make_result(
            "service",
            "fail",
            f"De machtiging is voor dienst {', '.join(found) or '(geen ServiceID)'}, niet voor onze dienst {expected}.",
            "wrong-service",
            data,
        )
    return make_result("service", "pass", f"De machtiging is voor onze dienst {expected}.", data=data)


def check_identifiers(run: Run) -> CheckResult:
    """14. LegalSubjectID and ActingSubjectID can be decrypted with our key; shown masked."""
    if run.state.assertion is None:
        return make_result("identifiers", "skip", NO_ASSERTION)
    legal = run.state.attributes.get(LEGAL_SUBJECT, [])
    acting = run.state.attributes.get(ACTING_SUBJECT, [])
    needs_key = any(child(value, SAML_TAG["EncryptedID"]) is not None for value in legal + acting)
    if needs_key and not run.context.sp_key_pems:
        run.state.missing_config.append("identifiers")
        return make_result(
            "identifiers",
            "skip",
            "Niet ontsleuteld: er is geen privésleutel van onze dienst ingesteld.",
        )
    data: dict[str, str] = {}
    shown: list[str] = []
    warnings: list[str] = []
    for label, values in (("LegalSubjectID", legal), ("ActingSubjectID", acting)):
        for position, value in enumerate(values, start=1):
            try:
                kind, identifier, cipher = _identifier(run, value)
            except crypto.DecryptionError as exc:
                return make_result("identifiers", "fail", f"{label}: {exc.message}", exc.diagnosis, data)
            masked = privacy.mask_identifier(kind, identifier)
            key = f"{label.lower()}_{position}" if len(values) > 1 else label.lower()
            data[key] = f"{kind}: {masked}"
            if cipher:
                data[f"{key}_cipher"] = cipher
            shown.append(f"{label} {kind} {masked}")
            if kind.lower() == "kvknr" and not re.fullmatch(r"\d{8}", identifier):
                warnings.append(f"het KvK-nummer in {label} heeft niet 8 cijfers")
    if not legal:
        return make_result(
            "identifiers",
            "fail",
            "De assertion noemt geen organisatie (LegalSubjectID ontbreekt).",
            "malformed",
            data,
        )
    if not acting:
        warnings.append("de persoon (ActingSubjectID) ontbreekt")
    detail = "Identificaties ontsleuteld (gemaskeerd): " + "; ".join(shown) + "."
    if warnings:
        return make_result("identifiers", "warn", detail + " Let op: " + "; ".join(warnings) + ".", data=data)
    return make_result("identifiers", "pass", detail, data=data)


def _identifier(run: Run, value: etree._Element) -> tuple[str, str, str]:
    """(identifier type, canonical value, block cipher) for one AttributeValue."""
    encrypted = child(value, SAML_TAG["EncryptedID"])
    cipher = ""
    if encrypted is not None:
        name_id = crypto.decrypt_id(encrypted, run.context.sp_key_pems)
        if name_id.tag != SAML_TAG["NameID"]:
            raise crypto.DecryptionError("Het EncryptedID bevat geen NameID maar iets anders.")
        cipher = crypto.block_cipher(encrypted).rsplit("#", 1)[-1]
    else:
        plain = child(value, SAML_TAG["NameID"])
        if plain is None:
            # Any other element (an xenc EncryptedElement, something unknown) is not an identifier we could
            # read: its text would be ciphertext or markup, and showing it as a value claims a decryption
            # that never happened. Only a value without elements is plain text.
            unknown = next((element for element in value.iterchildren() if isinstance(element.tag, str)), None)
            if unknown is not None:
                raise crypto.DecryptionError(
                    f"De waarde bevat {etree.QName(unknown).localname} in plaats van EncryptedID of NameID; "
                    "die kunnen wij niet lezen."
                )
            return "waarde", text_of(value), cipher
        name_id = plain
    qualifier = name_id.get("NameQualifier", "")
    kind = qualifier.split("EntityConcernedID:", 1)[-1] if "EntityConcernedID:" in qualifier else "onbekend"
    return kind, text_of(name_id), cipher


def check_replay(run: Run) -> CheckResult:
    """15. This assertion ID was not used before (shared store, so across workers)."""
    assertion = run.state.assertion
    if assertion is None:
        return make_result("replay", "skip", NO_ASSERTION)
    remember = run.context.remember_assertion
    assertion_id = assertion.get("ID", "")
    if remember is None:
        return make_result("replay", "skip", "Niet gecontroleerd: er is geen geheugen van eerder geziene assertions.")
    if not run.state.signature_verified:
        # Only remember IDs the broker really signed: otherwise a forger could block future IDs.
        return make_result("replay", "skip", "Niet gecontroleerd: de handtekening is niet bewezen.")
    bearer, conditions = run.state.bearer, run.state.conditions
    until = [
        parse_instant(bearer.get("NotOnOrAfter")) if bearer is not None else None,
        parse_instant(conditions.get("NotOnOrAfter")) if conditions is not None else None,
    ]
    expires = max((moment for moment in until if moment is not None), default=run.now + timedelta(hours=1))
    expires += timedelta(seconds=run.context.allowed_skew_seconds)
    if not remember(assertion_id, expires):
        return make_result(
            "replay",
            "fail",
            f"Deze assertion ({assertion_id}) is al eerder gebruikt. Een assertion geldt maar een keer.",
            "replay",
            {"assertion_id": assertion_id},
        )
    return make_result("replay", "pass", "Deze assertion is niet eerder gebruikt.", data={"assertion_id": assertion_id})


def _same_service(found: str, expected: str) -> bool:
    """ServiceIDs are equal when OIN and index match; leading zeros in the index do not count."""
    a, b = _SERVICE_ID_RE.fullmatch(found), _SERVICE_ID_RE.fullmatch(expected)
    if a is None or b is None:
        return found == expected
    return a[1] == b[1] and int(a[2]) == int(b[2])
