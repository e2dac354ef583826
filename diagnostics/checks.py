"""The checker: one SAML answer from the broker in, one verdict with an ordered check trace out.

The round trip, ``inloghulp explain`` and the servicedesk paste box all call :func:`run`. Each check
says pass, fail, warn or skip in plain Dutch, with measured values in ``data``. The first failing check
decides the diagnosis; the checks after it still run, so the trace shows everything that is wrong.
Only the top-level assertion whose own signature was verified is ever read (no signature wrapping),
and anything not proven valid is not ``ok``.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from lxml import etree

from diagnostics import crypto, privacy, xmlsafe
from diagnostics.settings import LOA_LABELS, Settings, loa_rank
from diagnostics.verdict import CheckResult, CheckStatus, Diagnosis, Verdict
from diagnostics.xmltree import Tags, child, children, text_of

if TYPE_CHECKING:
    from diagnostics.brokers import BrokerInfo

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
DS = crypto.DS
SOAP_NAMESPACES = ("http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope")
STATUS = "urn:oasis:names:tc:SAML:2.0:status:"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
SERVICE_ID = "urn:etoegang:core:ServiceID"
SERVICE_UUID = "urn:etoegang:core:ServiceUUID"
LEGAL_SUBJECT = "urn:etoegang:core:LegalSubjectID"
ACTING_SUBJECT = "urn:etoegang:core:ActingSubjectID"
SAML_TAG = Tags(SAML)
SAMLP_TAG = Tags(SAMLP)
_CLASS_REF_PATH = (SAML_TAG["AuthnStatement"], SAML_TAG["AuthnContext"], SAML_TAG["AuthnContextClassRef"])
_SERVICE_ID_RE = re.compile(r"^urn:etoegang:DV:(\d{20}):services:(\d+)$")
_CANCEL_WORDS = ("cancel", "annule", "afgebroken")
_INSTANT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")

RememberAssertion = Callable[[str, datetime], bool]

# Short Dutch names of the checks, in the order they run (for reports and the result page).
CHECK_TITLES: dict[str, str] = {
    "input": "Invoer leesbaar en veilig",
    "structure": "Opbouw van het bericht",
    "artifact-status": "Status van de ArtifactResponse",
    "status": "Status van de makelaar",
    "issuer": "Afzender",
    "signature": "Handtekening",
    "wrapping": "Ondertekende assertion gebruikt",
    "destination": "Bestemming",
    "audience": "Bedoeld voor onze dienst",
    "in-response-to": "Antwoord op ons verzoek",
    "time": "Tijd en geldigheid",
    "loa": "Betrouwbaarheidsniveau",
    "service": "Dienst (ServiceID)",
    "identifiers": "Identificaties",
    "replay": "Niet eerder gebruikt",
}


@dataclass(frozen=True)
class CheckContext:
    """What the answer is checked against: our SP, the trusted broker, the request, the clock."""

    sp_entity_id: str
    acs_url: str
    required_loa: str
    service_id: str
    trusted_certs: Sequence[x509.Certificate]
    broker_entity_id: str | None
    sp_key_pems: Sequence[bytes]
    expected_request_id: str | None = None
    now: datetime | None = None
    allowed_skew_seconds: int = 60
    max_bytes: int = xmlsafe.DEFAULT_MAX_BYTES
    # Returns False when the assertion ID was seen before (shared store: works across workers).
    remember_assertion: RememberAssertion | None = None


def context_from_settings(
    settings: Settings,
    broker: BrokerInfo | Sequence[x509.Certificate],
    broker_entity_id: str | None = None,
    *,
    expected_request_id: str | None = None,
    now: datetime | None = None,
    remember_assertion: RememberAssertion | None = None,
) -> CheckContext:
    """A context for our own SP from the settings, trusting ``broker`` (a BrokerInfo or its signing certs)."""
    if isinstance(broker, Sequence):
        trusted: Sequence[x509.Certificate] = tuple(broker)
    else:
        trusted = broker.signing_certs
        broker_entity_id = broker_entity_id or broker.entity_id
    return CheckContext(
        sp_entity_id=settings.sp.entity_id,
        acs_url=settings.acs_url,
        required_loa=settings.service.required_loa,
        service_id=settings.service.service_id,
        trusted_certs=trusted,
        broker_entity_id=broker_entity_id,
        sp_key_pems=_read_keys([settings.sp.key_file]),
        expected_request_id=expected_request_id,
        now=now,
        allowed_skew_seconds=settings.allowed_clock_skew_seconds,
        max_bytes=settings.max_message_bytes,
        remember_assertion=remember_assertion,
    )


def _read_keys(paths: Sequence[Path]) -> tuple[bytes, ...]:
    keys = []
    for path in paths:
        try:
            keys.append(path.read_bytes())
        except OSError:
            continue
    return tuple(keys)


# --- small XML helpers ----------------------------------------------------------------------------


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


@functools.lru_cache(maxsize=256)
def parse_instant(value: str | None) -> datetime | None:
    """An xs:dateTime as SAML uses it (UTC); None when absent or not a full date and time."""
    if not value or not _INSTANT_RE.fullmatch(value.strip()):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _show(moment: datetime | None) -> str:
    # isoformat is several times faster than strftime; the first 19 characters are "YYYY-MM-DD HH:MM:SS".
    return moment.astimezone(UTC).isoformat(" ", "seconds")[:19] + " UTC" if moment else "ontbreekt"


def _short(urn: str) -> str:
    return urn.removeprefix(STATUS)


class _Stop(Exception):
    """A check cannot go on; carries its result."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result


@dataclass
class _State:
    """What the checks found so far; later checks build on it."""

    root: etree._Element | None = None
    artifact_response: etree._Element | None = None
    response: etree._Element | None = None
    assertion: etree._Element | None = None
    encrypted_assertion: etree._Element | None = None
    # How often each ID value occurs in the whole message (and a decrypted assertion): computed once.
    ids: Counter[str] = field(default_factory=Counter)
    # Parts of the assertion read once by the structure check; the later checks use them.
    bearer: etree._Element | None = None
    conditions: etree._Element | None = None
    attributes: dict[str, list[etree._Element]] = field(default_factory=dict)  # AttributeValues by Name
    success: bool = False
    signature_verified: bool = False
    # Checks that could not run for lack of configuration make the verdict inconclusive.
    missing_config: list[str] = field(default_factory=list)


def _result(
    check_id: str,
    status: CheckStatus,
    detail: str,
    diagnosis: str | None = None,
    data: dict[str, str] | None = None,
) -> CheckResult:
    return CheckResult(id=check_id, status=status, detail=detail, diagnosis=diagnosis, data=data or {})


class _Checker:
    def __init__(self, message: bytes, context: CheckContext) -> None:
        self.message = message
        self.context = context
        self.now = (context.now or datetime.now(UTC)).astimezone(UTC)
        self.state = _State()

    # -- 1. input ---------------------------------------------------------------------------------

    def check_input(self) -> CheckResult:
        try:
            root = xmlsafe.parse(self.message, max_bytes=self.context.max_bytes)
        except xmlsafe.UnsafeXmlError as exc:
            return _result("input", "fail", exc.detail, exc.diagnosis)
        if etree.QName(root).namespace in SOAP_NAMESPACES:
            body = root.find(_q(etree.QName(root).namespace or "", "Body"))
            contents = [node for node in body if isinstance(node.tag, str)] if body is not None else []
            if len(contents) != 1:
                return _result("input", "fail", "Het SOAP-bericht heeft geen (of meer dan een) inhoud.", "malformed")
            if etree.QName(contents[0]).localname == "Fault":
                fault = text_of(contents[0].find("faultstring")) or text_of(contents[0])
                return _result(
                    "input",
                    "fail",
                    f"De makelaar gaf een SOAP-fout terug in plaats van een antwoord: {fault[:200]}",
                    "artifact-resolve-failed",
                )
            root = contents[0]
        self.state.root = root
        return _result(
            "input",
            "pass",
            f"Het bericht is veilige, leesbare XML ({len(self.message)} bytes, zonder DTD of entiteiten).",
            data={"bytes": str(len(self.message))},
        )

    # -- 2. structure -----------------------------------------------------------------------------

    def check_structure(self) -> CheckResult:
        root = self.state.root
        if root is None:
            return _result("structure", "skip", "Overgeslagen: het bericht is niet leesbaar.")
        problems: list[str] = []
        self.state.ids = crypto.id_counts(root.getroottree().getroot())
        if root.tag == SAMLP_TAG["ArtifactResponse"]:
            self.state.artifact_response = root
            self._protocol_problems(root, "ArtifactResponse", problems)
            inner = [child for child in root if child.tag == SAMLP_TAG["Response"]]
            response = inner[0] if len(inner) == 1 else None
            if response is None and not inner and self._status_code(root) == STATUS + "Success":
                problems.append("De ArtifactResponse bevat geen Response.")
        elif root.tag == SAMLP_TAG["Response"]:
            response = root
        else:
            return _result(
                "structure",
                "fail",
                f"Dit is geen SAML Response of ArtifactResponse maar {etree.QName(root).localname}.",
                "malformed",
            )
        responses = list(root.iter(SAMLP_TAG["Response"]))
        if len(responses) > 1:
            return _result(
                "structure",
                "fail",
                f"Het bericht bevat {len(responses)} Response-elementen; er hoort er 1 te zijn. "
                "Dat wijst op een vervalsing (signature wrapping).",
                "bad-signature",
            )
        if response is not None:
            self.state.response = response
            self._protocol_problems(response, "Response", problems)
            self.state.success = self._status_code(response) == STATUS + "Success"
            if self.state.success:
                self._assertion_structure(response, problems)
        if problems:
            return _result("structure", "fail", " ".join(problems), "malformed")
        kind = etree.QName(root).localname
        if self.state.assertion is not None:
            detail = f"{kind} met precies een Response en een Assertion; alle verplichte onderdelen zijn er."
        else:
            detail = f"{kind} met een Response zonder Assertion (foutstatus); de verplichte onderdelen zijn er."
        return _result("structure", "pass", detail, data={"message": kind})

    def _protocol_problems(self, element: etree._Element, name: str, problems: list[str]) -> None:
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

    def _assertion_structure(self, response: etree._Element, problems: list[str]) -> None:
        assertions = children(response, SAML_TAG["Assertion"])
        encrypted = children(response, SAML_TAG["EncryptedAssertion"])
        if encrypted and not assertions and len(encrypted) == 1:
            try:
                decrypted = crypto.decrypt_id(encrypted[0], self.context.sp_key_pems)
            except crypto.DecryptionError as exc:
                raise _Stop(_result("structure", "fail", f"De versleutelde assertion: {exc.detail}", exc.diagnosis))
            if decrypted.tag != SAML_TAG["Assertion"]:
                problems.append("De EncryptedAssertion bevat geen Assertion.")
                return
            # Kept beside the tree, not put into it: the outer signatures cover the encrypted form.
            self.state.encrypted_assertion = encrypted[0]
            self.state.ids.update(crypto.id_counts(decrypted))
            assertions, encrypted = [decrypted], []
        count = len(assertions) + len(encrypted)
        if count > 1:
            # More than one assertion is the classic signature-wrapping shape: treat it as forgery.
            raise _Stop(
                _result(
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
        self.state.assertion = assertion
        self.state.bearer = _bearer_data(assertion)
        self.state.conditions = child(assertion, SAML_TAG["Conditions"])
        self.state.attributes = _attribute_values(assertion)
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
        if self.state.bearer is None:
            problems.append(
                "De Assertion heeft geen SubjectConfirmation met methode bearer en SubjectConfirmationData."
            )
        if len(children(assertion, *_CLASS_REF_PATH)) != 1:
            problems.append("De Assertion noemt niet precies een niveau (AuthnContextClassRef).")

    @staticmethod
    def _status_code(element: etree._Element) -> str:
        code = child(element, SAMLP_TAG["Status"], SAMLP_TAG["StatusCode"])
        return code.get("Value", "") if code is not None else ""

    # -- 3. ArtifactResponse status --------------------------------------------------------------

    def check_artifact_status(self) -> CheckResult:
        wrapper = self.state.artifact_response
        if wrapper is None:
            if self.state.response is not None:
                return _result("artifact-status", "skip", "Geen ArtifactResponse: het bericht is een losse Response.")
            return _result("artifact-status", "skip", "Overgeslagen: geen bruikbaar bericht.")
        code = self._status_code(wrapper)
        if code != STATUS + "Success":
            return _result(
                "artifact-status",
                "fail",
                f"De ArtifactResponse heeft status {_short(code) or 'onbekend'}; het artefact is niet opgehaald.",
                "artifact-resolve-failed",
                {"status": code},
            )
        return _result("artifact-status", "pass", "De ArtifactResponse heeft status Success.", data={"status": code})

    # -- 4. Response status ----------------------------------------------------------------------

    def check_status(self) -> CheckResult:
        response = self.state.response
        if response is None:
            return _result("status", "skip", "Overgeslagen: geen Response gevonden.")
        status = child(response, SAMLP_TAG["Status"])
        top = child(status, SAMLP_TAG["StatusCode"])
        top_code = top.get("Value", "") if top is not None else ""
        second = child(top, SAMLP_TAG["StatusCode"])
        second_code = second.get("Value", "") if second is not None else ""
        message = text_of(child(status, SAMLP_TAG["StatusMessage"]))
        data = {"status": top_code, "substatus": second_code, "message": message[:200]}
        shown = _short(top_code) + (f" / {_short(second_code)}" if second_code else "")
        if message:
            shown += f' ("{message[:200]}")'
        if top_code == STATUS + "Success":
            return _result("status", "pass", "De makelaar meldt Success: de gebruiker is ingelogd.", data=data)
        diagnosis = self._status_diagnosis(top_code, second_code, message)
        return _result("status", "fail", f"De makelaar meldt status {shown}.", diagnosis, data)

    @staticmethod
    def _status_diagnosis(top: str, second: str, message: str) -> str:
        if second == STATUS + "AuthnFailed":
            return "cancelled" if any(word in message.lower() for word in _CANCEL_WORDS) else "auth-failed"
        if second == STATUS + "UnknownPrincipal":
            return "unknown-principal"
        if second == STATUS + "RequestUnsupported":
            return "request-unsupported"
        if top == STATUS + "Requester":
            return "config-error"
        return "broker-error"

    # -- 5. issuer -------------------------------------------------------------------------------

    def check_issuer(self) -> CheckResult:
        expected = self.context.broker_entity_id
        elements = [
            (name, element)
            for name, element in (
                ("ArtifactResponse", self.state.artifact_response),
                ("Response", self.state.response),
                ("Assertion", self.state.assertion),
            )
            if element is not None
        ]
        if not elements:
            return _result("issuer", "skip", "Overgeslagen: geen bruikbaar bericht.")
        found = {name: text_of(child(element, SAML_TAG["Issuer"])) for name, element in elements}
        data = {f"issuer_{name.lower()}": value for name, value in found.items()}
        if not expected:
            self.state.missing_config.append("issuer")
            return _result(
                "issuer", "skip", "Niet gecontroleerd: de entity-ID van de makelaar is niet ingesteld.", data=data
            )
        data["expected"] = expected
        if self.state.assertion is not None and not found.get("Assertion"):
            return _result("issuer", "fail", "De Assertion noemt geen Issuer.", "wrong-issuer", data)
        wrong = [f"{name}: {value or 'geen'}" for name, value in found.items() if value and value != expected]
        if wrong:
            return _result(
                "issuer",
                "fail",
                f"Het bericht komt van een andere afzender dan de makelaar ({'; '.join(wrong)}); verwacht {expected}.",
                "wrong-issuer",
                data,
            )
        return _result("issuer", "pass", f"Afzender is de makelaar {expected}.", data=data)

    # -- 6. signature ----------------------------------------------------------------------------

    def check_signature(self) -> CheckResult:
        if self.state.response is None:
            return _result("signature", "skip", "Overgeslagen: geen bruikbaar bericht.")
        if not self.context.trusted_certs:
            self.state.missing_config.append("signature")
            return _result(
                "signature",
                "skip",
                "Niet gecontroleerd: er is geen vertrouwd certificaat van de makelaar ingesteld (metadata).",
            )
        data: dict[str, str] = {}
        verified: list[str] = []
        optional = [("ArtifactResponse", self.state.artifact_response), ("Response", self.state.response)]
        for name, element in optional:
            if element is None or child(element, crypto.DS_SIGNATURE) is None:
                continue
            try:
                info = crypto.verify(element, self.context.trusted_certs, ids=self._ids_for(element))
            except crypto.SignatureError as exc:
                return _result("signature", "fail", f"{name}: {exc.detail}", exc.diagnosis, data)
            verified.append(self._describe(info, data, name.lower()))
        assertion = self.state.assertion
        if assertion is None:
            if verified:
                return _result("signature", "pass", "Ondertekend: " + "; ".join(verified) + ".", data=data)
            return _result("signature", "skip", "Geen assertion en geen handtekening: alleen de status is gelezen.")
        try:
            info = crypto.verify(assertion, self.context.trusted_certs, ids=self._ids_for(assertion))
        except crypto.SignatureError as exc:
            return _result("signature", "fail", f"Assertion: {exc.detail}", exc.diagnosis, data)
        verified.append(self._describe(info, data, "assertion"))
        self.state.signature_verified = True
        return _result("signature", "pass", "Ondertekend door de makelaar: " + "; ".join(verified) + ".", data=data)

    def _ids_for(self, element: etree._Element) -> Counter[str] | None:
        # The shared count is only valid for elements of the message itself or the decrypted assertion.
        document = self.state.root.getroottree().getroot() if self.state.root is not None else None
        if element.getroottree().getroot() is document or self.state.encrypted_assertion is not None:
            return self.state.ids
        return None

    @staticmethod
    def _describe(info: crypto.SignatureInfo, data: dict[str, str], key: str) -> str:
        data[f"{key}_certificate_sha256"] = info.certificate_fingerprint
        data[f"{key}_algorithm"] = f"{info.signature_algorithm} / {info.digest_algorithm}"
        data[f"{key}_id"] = info.element_id
        return (
            f"{info.element} {info.element_id} met {info.signature_algorithm} ({info.digest_algorithm}), "
            f"certificaat SHA-256 {info.certificate_fingerprint[:16]}…"
        )

    # -- 7. wrapping -----------------------------------------------------------------------------

    def check_wrapping(self) -> CheckResult:
        root, assertion = self.state.root, self.state.assertion
        if root is None or assertion is None:
            return _result("wrapping", "skip", "Overgeslagen: er is geen assertion om te lezen.")
        seen = self.state.ids
        duplicates = sorted(value for value, count in seen.items() if count > 1)
        if duplicates:
            return _result(
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
            and node is not self.state.encrypted_assertion
            and (advice is None or not _inside(node, advice))
        ]
        if stray:
            return _result(
                "wrapping",
                "fail",
                f"Er staan {len(stray)} extra assertions buiten de gebruikte assertion. Dat wijst op signature wrapping.",
                "bad-signature",
            )
        if not self.state.signature_verified:
            return _result(
                "wrapping",
                "skip",
                "Niet vastgesteld: zonder geldige handtekening is niet bewezen welke assertion de makelaar stuurde.",
            )
        return _result(
            "wrapping",
            "pass",
            f"Alleen de ondertekende assertion {assertion.get('ID')} wordt gelezen; Advice telt niet mee.",
            data={"assertion_id": assertion.get("ID", "")},
        )

    # -- 8. destination --------------------------------------------------------------------------

    def check_destination(self) -> CheckResult:
        response = self.state.response
        if response is None:
            return _result("destination", "skip", "Overgeslagen: geen Response gevonden.")
        expected = self.context.acs_url
        destination = response.get("Destination")
        data = {"expected": expected, "destination": destination or ""}
        problems = []
        if destination is None:
            if self.state.success:
                problems.append("De Response noemt geen Destination.")
        elif destination != expected:
            problems.append(f"De Response is bestemd voor {destination}.")
        if self.state.assertion is not None:
            bearer = self.state.bearer
            recipient = bearer.get("Recipient") if bearer is not None else None
            data["recipient"] = recipient or ""
            if recipient != expected:
                problems.append(f"De assertion is bestemd voor {recipient or 'niemand (Recipient ontbreekt)'}.")
        if problems:
            return _result(
                "destination", "fail", " ".join(problems) + f" Ons adres is {expected}.", "wrong-destination", data
            )
        return _result("destination", "pass", f"Bestemd voor ons adres {expected}.", data=data)

    # -- 9. audience -----------------------------------------------------------------------------

    def check_audience(self) -> CheckResult:
        assertion = self.state.assertion
        if assertion is None:
            return _result("audience", "skip", "Overgeslagen: er is geen assertion.")
        expected = self.context.sp_entity_id
        restrictions = children(assertion, SAML_TAG["Conditions"], SAML_TAG["AudienceRestriction"])
        audiences = [[text_of(a) for a in children(r, SAML_TAG["Audience"])] for r in restrictions]
        data = {"expected": expected, "audience": ", ".join(a for group in audiences for a in group)}
        # Every AudienceRestriction must include us (SAML core §2.5.1.4); none at all is not enough either.
        if not audiences or any(expected not in group for group in audiences):
            found = data["audience"] or "geen"
            return _result(
                "audience",
                "fail",
                f"De assertion is bedoeld voor {found}, niet voor onze dienst {expected}.",
                "wrong-audience",
                data,
            )
        return _result("audience", "pass", f"De assertion is bedoeld voor onze dienst {expected}.", data=data)

    # -- 10. InResponseTo ------------------------------------------------------------------------

    def check_in_response_to(self) -> CheckResult:
        response = self.state.response
        if response is None:
            return _result("in-response-to", "skip", "Overgeslagen: geen Response gevonden.")
        values = {"Response": response.get("InResponseTo")}
        if self.state.assertion is not None:
            bearer = self.state.bearer
            values["SubjectConfirmationData"] = bearer.get("InResponseTo") if bearer is not None else None
        data = {k.lower(): v or "" for k, v in values.items()}
        expected = self.context.expected_request_id
        present = {v for v in values.values() if v}
        if len(present) > 1:
            return _result(
                "in-response-to",
                "fail",
                "De Response en de assertion antwoorden op verschillende verzoeken.",
                "unsolicited",
                data,
            )
        if expected is None:
            return _result(
                "in-response-to",
                "skip",
                f"Niet vergeleken: geen verwacht verzoek-ID opgegeven (gevonden: {next(iter(present), 'geen')}).",
                data=data,
            )
        data["expected"] = expected
        missing = [name for name, value in values.items() if not value]
        if missing:
            return _result(
                "in-response-to",
                "fail",
                f"Het antwoord noemt geen verzoek ({', '.join(missing)} zonder InResponseTo): ongevraagd antwoord.",
                "unsolicited",
                data,
            )
        if present != {expected}:
            return _result(
                "in-response-to",
                "fail",
                f"Het antwoord hoort bij verzoek {next(iter(present))}, niet bij ons verzoek {expected}.",
                "unsolicited",
                data,
            )
        return _result("in-response-to", "pass", f"Het antwoord hoort bij ons verzoek {expected}.", data=data)

    # -- 11. time window -------------------------------------------------------------------------

    def check_time(self) -> CheckResult:
        response = self.state.response
        if response is None:
            return _result("time", "skip", "Overgeslagen: geen Response gevonden.")
        skew = timedelta(seconds=self.context.allowed_skew_seconds)
        now = self.now
        issued = parse_instant(response.get("IssueInstant"))
        data = {
            "server_time": _show(now),
            "response_issue_instant": _show(issued),
            "allowed_skew_seconds": str(self.context.allowed_skew_seconds),
        }
        too_early: list[str] = []
        too_late: list[str] = []
        if issued is not None:
            data["measured_skew_seconds"] = str(int((issued - now).total_seconds()))
            if issued > now + skew:
                too_early.append(f"de Response is gemaakt op {_show(issued)}")
        assertion = self.state.assertion
        if assertion is not None:
            conditions = self.state.conditions
            not_before = parse_instant(conditions.get("NotBefore")) if conditions is not None else None
            not_after = parse_instant(conditions.get("NotOnOrAfter")) if conditions is not None else None
            bearer = self.state.bearer
            bearer_after = parse_instant(bearer.get("NotOnOrAfter")) if bearer is not None else None
            # The Web SSO profile forbids NotBefore here; when a broker sends one anyway, it still binds.
            bearer_before = parse_instant(bearer.get("NotBefore")) if bearer is not None else None
            assertion_issued = parse_instant(assertion.get("IssueInstant"))
            data |= {
                "assertion_issue_instant": _show(assertion_issued),
                "not_before": _show(not_before),
                "not_on_or_after": _show(not_after),
                "subject_confirmation_not_on_or_after": _show(bearer_after),
            }
            if assertion_issued is not None and assertion_issued > now + skew:
                too_early.append(f"de assertion is gemaakt op {_show(assertion_issued)}")
            if not_before is not None and now + skew < not_before:
                too_early.append(f"de assertion geldt pas vanaf {_show(not_before)}")
            if bearer_before is not None and now + skew < bearer_before:
                too_early.append(f"de bevestiging (SubjectConfirmationData) geldt pas vanaf {_show(bearer_before)}")
            if not_after is not None and now - skew >= not_after:
                too_late.append(f"de assertion gold tot {_show(not_after)}")
            if bearer_after is None:
                too_late.append("de bevestiging (SubjectConfirmationData) heeft geen eindtijd")
            elif now - skew >= bearer_after:
                too_late.append(f"de bevestiging gold tot {_show(bearer_after)}")
        clock = f"Servertijd {_show(now)}, toegestane afwijking {self.context.allowed_skew_seconds} s"
        if too_late:
            return _result("time", "fail", f"Te laat: {'; '.join(too_late)}. {clock}.", "expired", data)
        if too_early:
            return _result("time", "fail", f"Te vroeg: {'; '.join(too_early)}. {clock}.", "not-yet-valid", data)
        return _result("time", "pass", f"Binnen de geldigheid. {clock}.", data=data)

    # -- 12. level -------------------------------------------------------------------------------

    def check_loa(self) -> CheckResult:
        assertion = self.state.assertion
        if assertion is None:
            return _result("loa", "skip", "Overgeslagen: er is geen assertion.")
        received = text_of(child(assertion, *_CLASS_REF_PATH))
        required = self.context.required_loa
        data = {"required": required, "received": received}
        received_label = LOA_LABELS.get(received, received or "geen niveau")
        required_label = LOA_LABELS.get(required, required)
        if loa_rank(received) < 0 or loa_rank(received) < loa_rank(required):
            return _result(
                "loa",
                "fail",
                f"Ingelogd met {received_label}; nodig is minimaal {required_label}.",
                "loa-too-low",
                data,
            )
        return _result("loa", "pass", f"Ingelogd met {received_label} (nodig: {required_label}).", data=data)

    # -- 13. service -----------------------------------------------------------------------------

    def check_service(self) -> CheckResult:
        if self.state.assertion is None:
            return _result("service", "skip", "Overgeslagen: er is geen assertion.")
        expected = self.context.service_id
        found = [text_of(value) for value in self.state.attributes.get(SERVICE_ID, [])]
        uuids = [text_of(value) for value in self.state.attributes.get(SERVICE_UUID, [])]
        data = {"expected": expected, "service_id": ", ".join(found), "service_uuid": ", ".join(uuids)}
        if not any(_same_service(value, expected) for value in found):
            return _result(
                "service",
                "fail",
                f"De machtiging is voor dienst {', '.join(found) or '(geen ServiceID)'}, niet voor onze dienst {expected}.",
                "wrong-service",
                data,
            )
        return _result("service", "pass", f"De machtiging is voor onze dienst {expected}.", data=data)

    # -- 14. identifiers -------------------------------------------------------------------------

    def check_identifiers(self) -> CheckResult:
        if self.state.assertion is None:
            return _result("identifiers", "skip", "Overgeslagen: er is geen assertion.")
        legal = self.state.attributes.get(LEGAL_SUBJECT, [])
        acting = self.state.attributes.get(ACTING_SUBJECT, [])
        needs_key = any(child(value, SAML_TAG["EncryptedID"]) is not None for value in legal + acting)
        if needs_key and not self.context.sp_key_pems:
            self.state.missing_config.append("identifiers")
            return _result(
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
                    kind, identifier, cipher = self._identifier(value)
                except crypto.DecryptionError as exc:
                    return _result("identifiers", "fail", f"{label}: {exc.detail}", exc.diagnosis, data)
                masked = privacy.mask_identifier(kind, identifier)
                key = f"{label.lower()}_{position}" if len(values) > 1 else label.lower()
                data[key] = f"{kind}: {masked}"
                if cipher:
                    data[f"{key}_cipher"] = cipher
                shown.append(f"{label} {kind} {masked}")
                if kind.lower() == "kvknr" and not re.fullmatch(r"\d{8}", identifier):
                    warnings.append(f"het KvK-nummer in {label} heeft niet 8 cijfers")
        if not legal:
            return _result(
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
            return _result("identifiers", "warn", detail + " Let op: " + "; ".join(warnings) + ".", data=data)
        return _result("identifiers", "pass", detail, data=data)

    def _identifier(self, value: etree._Element) -> tuple[str, str, str]:
        """(identifier type, canonical value, block cipher) for one AttributeValue."""
        encrypted = child(value, SAML_TAG["EncryptedID"])
        cipher = ""
        if encrypted is not None:
            name_id = crypto.decrypt_id(encrypted, self.context.sp_key_pems)
            if name_id.tag != SAML_TAG["NameID"]:
                raise crypto.DecryptionError("Het EncryptedID bevat geen NameID maar iets anders.")
            cipher = crypto.block_cipher(encrypted).rsplit("#", 1)[-1]
        else:
            plain = child(value, SAML_TAG["NameID"])
            if plain is None:
                return "waarde", text_of(value), cipher
            name_id = plain
        qualifier = name_id.get("NameQualifier", "")
        kind = qualifier.split("EntityConcernedID:", 1)[-1] if "EntityConcernedID:" in qualifier else "onbekend"
        return kind, text_of(name_id), cipher

    # -- 15. replay ------------------------------------------------------------------------------

    def check_replay(self) -> CheckResult:
        assertion = self.state.assertion
        if assertion is None:
            return _result("replay", "skip", "Overgeslagen: er is geen assertion.")
        remember = self.context.remember_assertion
        assertion_id = assertion.get("ID", "")
        if remember is None:
            return _result("replay", "skip", "Niet gecontroleerd: er is geen geheugen van eerder geziene assertions.")
        if not self.state.signature_verified:
            # Only remember IDs the broker really signed: otherwise a forger could block future IDs.
            return _result("replay", "skip", "Niet gecontroleerd: de handtekening is niet bewezen.")
        bearer, conditions = self.state.bearer, self.state.conditions
        until = [
            parse_instant(bearer.get("NotOnOrAfter")) if bearer is not None else None,
            parse_instant(conditions.get("NotOnOrAfter")) if conditions is not None else None,
        ]
        expires = max((moment for moment in until if moment is not None), default=self.now + timedelta(hours=1))
        expires += timedelta(seconds=self.context.allowed_skew_seconds)
        if not remember(assertion_id, expires):
            return _result(
                "replay",
                "fail",
                f"Deze assertion ({assertion_id}) is al eerder gebruikt. Een assertion geldt maar een keer.",
                "replay",
                {"assertion_id": assertion_id},
            )
        return _result("replay", "pass", "Deze assertion is niet eerder gebruikt.", data={"assertion_id": assertion_id})

    # -- the run ---------------------------------------------------------------------------------

    def results(self) -> list[CheckResult]:
        steps = (
            self.check_input,
            self.check_structure,
            self.check_artifact_status,
            self.check_status,
            self.check_issuer,
            self.check_signature,
            self.check_wrapping,
            self.check_destination,
            self.check_audience,
            self.check_in_response_to,
            self.check_time,
            self.check_loa,
            self.check_service,
            self.check_identifiers,
            self.check_replay,
        )
        results = []
        for step in steps:
            try:
                result = step()
            except _Stop as stop:
                result = stop.result
            results.append(result)
            if result.id in ("input", "structure") and result.status == "fail":
                break
        done = {result.id for result in results}
        for step in steps:
            name = step.__name__.removeprefix("check_").replace("_", "-")
            if name not in done:
                results.append(_result(name, "skip", "Overgeslagen: het bericht is niet bruikbaar."))
        return results


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


def _inside(node: etree._Element, ancestor: etree._Element) -> bool:
    parent = node.getparent()
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.getparent()
    return False


def _same_service(found: str, expected: str) -> bool:
    """ServiceIDs are equal when OIN and index match; leading zeros in the index do not count."""
    a, b = _SERVICE_ID_RE.fullmatch(found), _SERVICE_ID_RE.fullmatch(expected)
    if a is None or b is None:
        return found == expected
    return a[1] == b[1] and int(a[2]) == int(b[2])


def _diagnosis(diagnosis_id: str) -> Diagnosis:
    from diagnostics.catalogue import load_catalogue

    return load_catalogue().diagnosis(diagnosis_id)


def verdict_from(results: list[CheckResult], missing_config: Sequence[str] = ()) -> Verdict:
    """The verdict for a check trace: the first failing check decides; missing configuration is inconclusive."""
    failed = next((result for result in results if result.status == "fail"), None)
    if failed is not None:
        return Verdict(verdict="failed", diagnosis=_diagnosis(failed.diagnosis or "malformed"), checks=results)
    if missing_config:
        return Verdict(verdict="inconclusive", diagnosis=None, checks=results)
    return Verdict(verdict="ok", diagnosis=None, checks=results)


def run(message: bytes, context: CheckContext) -> Verdict:
    """Check one broker answer (ArtifactResponse, Response, or either in a SOAP envelope)."""
    checker = _Checker(message, context)
    results = checker.results()
    return verdict_from(results, checker.state.missing_config)
