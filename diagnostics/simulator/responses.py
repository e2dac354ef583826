"""eHerkenning-shaped SAML Responses for every scenario, and the ArtifactResponse that carries them.

The HTTP flow and :func:`issue` (test fixtures, benchmarks) use the same builders, so a fixture is
exactly what the simulator would send over SOAP.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lxml import etree

from diagnostics import certs, crypto
from diagnostics.loa import Loa
from diagnostics.saml.authn import instant, new_id
from diagnostics.saml_names import (
    ACTING_SUBJECT,
    BEARER,
    KVK_NUMBER,
    LEGAL_SUBJECT,
    PERSISTENT,
    PSEUDONYM,
    SAML,
    SAMLP,
    SERVICE_ID,
    SERVICE_UUID,
    STATUS,
    TRANSIENT,
)
from diagnostics.settings import Settings
from diagnostics.simulator import entities
from diagnostics.simulator.keys import SimulatorKeys, keys_for
from diagnostics.simulator.scenarios import Scenario, find_scenario
from diagnostics.simulator.sp import SpTrust, own_sp
from diagnostics.simulator.xml import sub

VALIDITY = timedelta(minutes=4)
# How far the clock is off in the expired / not-yet-valid scenarios: far beyond any sane skew.
CLOCK_OFFSET = timedelta(minutes=10)
OTHER_ACS = "https://andere-dienst.example.nl/saml/acs"
OTHER_DV = "urn:etoegang:DV:00000009999999999002:entities:9001"
VESTIGING_ATTRIBUTE = "urn:etoegang:1.9:ServiceRestriction:Vestigingsnr"
NSMAP = {"samlp": SAMLP, "saml": SAML}


class NoResponse(ValueError):
    """The scenario never sends anything back to the service (no machtiging)."""


@dataclass(frozen=True)
class Login:
    """What the tester chose, and what the AuthnRequest asked for."""

    request_id: str
    acs_url: str
    supplier_id: str
    kvk: str = entities.DEFAULT_KVK
    person: str = entities.DEFAULT_PERSON
    # 12-digit branch number when the machtiging is limited to one vestiging; usually absent.
    vestiging: str | None = None
    # The ServiceID the AuthnRequest named; None means our own service.
    service_id: str | None = None


def _status(parent: etree._Element, code: str, sub_code: str | None = None, message: str | None = None) -> None:
    status = sub(parent, SAMLP, "Status")
    top = sub(status, SAMLP, "StatusCode", Value=code)
    if sub_code:
        sub(top, SAMLP, "StatusCode", Value=sub_code)
    if message:
        sub(status, SAMLP, "StatusMessage", message)


def _subject(
    parent: etree._Element, *, transient: str, qualifier: str, recipient: str, request_id: str | None, until: str
) -> None:
    subject = sub(parent, SAML, "Subject")
    sub(subject, SAML, "NameID", transient, Format=TRANSIENT, NameQualifier=qualifier)
    confirmation = sub(subject, SAML, "SubjectConfirmation", Method=BEARER)
    data = sub(confirmation, SAML, "SubjectConfirmationData", Recipient=recipient, NotOnOrAfter=until)
    if request_id:
        data.set("InResponseTo", request_id)


@dataclass(frozen=True)
class _Period:
    """The issue instant and the end of validity, as text: one answer repeats them a dozen times."""

    start: str
    until: str

    @classmethod
    def at(cls, moment: datetime) -> _Period:
        return cls(instant(moment), instant(moment + VALIDITY))


def _conditions(parent: etree._Element, *, period: _Period, audience: str) -> None:
    conditions = sub(parent, SAML, "Conditions", NotBefore=period.start, NotOnOrAfter=period.until)
    sub(sub(conditions, SAML, "AudienceRestriction"), SAML, "Audience", audience)


def _authn_statement(parent: etree._Element, *, at: str, loa: str, authority: str | None) -> None:
    statement = sub(parent, SAML, "AuthnStatement", AuthnInstant=at)
    context = sub(statement, SAML, "AuthnContext")
    sub(context, SAML, "AuthnContextClassRef", loa)
    if authority:
        sub(context, SAML, "AuthenticatingAuthority", authority)


def _attribute(statement: etree._Element, name: str, value: str | etree._Element) -> None:
    attribute = sub(statement, SAML, "Attribute", Name=name)
    holder = sub(attribute, SAML, "AttributeValue")
    if isinstance(value, str):
        holder.text = value
    else:
        holder.append(value)


def _assertion(issuer: str, at: str) -> etree._Element:
    assertion = etree.Element(f"{{{SAML}}}Assertion", nsmap={"saml": SAML}, ID=new_id(), Version="2.0")
    assertion.set("IssueInstant", at)
    sub(assertion, SAML, "Issuer", issuer)
    return assertion


def _encrypted(name_id_value: str, qualifier: str, trust: SpTrust) -> etree._Element:
    name_id = etree.Element(f"{{{SAML}}}NameID", nsmap={"saml": SAML}, Format=PERSISTENT, NameQualifier=qualifier)
    name_id.text = name_id_value
    return crypto.encrypt_id(name_id, trust.encryption_cert_pem, recipient=trust.entity_id)


def service_uuid(settings: Settings, service_id: str) -> str:
    """The ServiceUUID the answer carries: ours from the settings; for another dienst a stable stand-in.

    A real broker reads it from the dienstencatalogus, which the simulator does not have.
    """
    if service_id == settings.service.service_id:
        return settings.service.uuid
    return str(uuid.uuid5(uuid.NAMESPACE_URL, service_id))


def _other_service(settings: Settings, service_id: str) -> tuple[str, str]:
    base, _, index = service_id.rpartition(":")
    other = f"{base}:{9999 if index != '9999' else 9998}"
    return other, service_uuid(settings, other)


def _advice(
    parent: etree._Element,
    keys: SimulatorKeys,
    *,
    login: Login,
    scene: Scenario,
    period: _Period,
    transient: str,
    service: tuple[str, str],
) -> None:
    """The AD's and the MR's own signed assertions, as the broker received them."""
    advice = sub(parent, SAML, "Advice")

    def addressed_to_broker(issuer: str) -> etree._Element:
        # Both parties speak about the same transient subject, and to the broker, not to us.
        assertion = _assertion(issuer, period.start)
        _subject(
            assertion,
            transient=transient,
            qualifier=login.supplier_id,
            recipient=entities.BROKER_ENTITY_ID,
            request_id=None,
            until=period.until,
        )
        _conditions(assertion, period=period, audience=entities.BROKER_ENTITY_ID)
        return assertion

    ad = addressed_to_broker(login.supplier_id)
    _authn_statement(ad, at=period.start, loa=scene.loa, authority=None)
    supplier_pair = keys.supplier(login.supplier_id)
    crypto.sign(ad, supplier_pair.key_pem, supplier_pair.cert_pem)
    advice.append(ad)

    mr = addressed_to_broker(entities.MR_ENTITY_ID)
    statement = sub(mr, SAML, "AttributeStatement")
    _attribute(statement, SERVICE_ID, service[0])
    organisation = next((o for o in entities.ORGANISATIONS if o.kvk == login.kvk), None)
    if organisation is not None:
        _attribute(statement, "urn:etoegang:1.11:attribute-represented:CompanyName", organisation.name)
    crypto.sign(mr, keys.mr.key_pem, keys.mr.cert_pem)
    advice.append(mr)


def build_response(
    settings: Settings,
    scene: Scenario,
    login: Login,
    *,
    now: datetime | None = None,
    keys: SimulatorKeys | None = None,
    trust: SpTrust | None = None,
) -> etree._Element:
    """The ``samlp:Response`` the broker sends for ``scene`` (assertion signed and, per scenario, spoiled).

    ``trust`` is the dienst that asked (default: our own SP): its entity id is the audience, its
    encryption certificate locks the identifiers.
    """
    if not scene.returns:
        raise NoResponse(f"scenario {scene.id} never returns to the service")
    keys = keys or keys_for(settings.simulator.key_dir)
    trust = trust or own_sp(settings)
    at = (now or datetime.now(UTC)).replace(microsecond=0)
    if scene.tamper == "expired":
        at -= CLOCK_OFFSET
    elif scene.tamper == "not-yet-valid":
        at += CLOCK_OFFSET
    destination = OTHER_ACS if scene.tamper == "wrong-destination" else login.acs_url
    period = _Period.at(at)

    response = etree.Element(
        f"{{{SAMLP}}}Response",
        nsmap=NSMAP,
        ID=new_id(),
        Version="2.0",
        IssueInstant=period.start,
        Destination=destination,
        InResponseTo=login.request_id,
    )
    sub(response, SAML, "Issuer", entities.BROKER_ENTITY_ID)
    _status(response, scene.status, scene.sub_status, scene.status_message)
    if not scene.success:
        return response

    service_id = login.service_id or settings.service.service_id
    service = (
        _other_service(settings, service_id)
        if scene.tamper == "wrong-service"
        else (service_id, service_uuid(settings, service_id))
    )
    transient = new_id()
    assertion = _assertion(entities.BROKER_ENTITY_ID, period.start)
    _subject(
        assertion,
        transient=transient,
        qualifier=login.supplier_id,
        recipient=destination,
        request_id=login.request_id,
        until=period.until,
    )
    audience = OTHER_DV if scene.tamper == "wrong-audience" else trust.entity_id
    _conditions(assertion, period=period, audience=audience)
    _advice(assertion, keys, login=login, scene=scene, period=period, transient=transient, service=service)
    _authn_statement(assertion, at=period.start, loa=scene.loa, authority=login.supplier_id)
    statement = sub(assertion, SAML, "AttributeStatement")
    _attribute(statement, SERVICE_ID, service[0])
    _attribute(statement, SERVICE_UUID, service[1])
    _attribute(statement, LEGAL_SUBJECT, _encrypted(login.kvk, KVK_NUMBER, trust))
    pseudonym = entities.pseudonym(login.person, login.kvk, trust.entity_id)
    _attribute(statement, ACTING_SUBJECT, _encrypted(pseudonym, PSEUDONYM, trust))
    if login.vestiging:
        _attribute(statement, VESTIGING_ATTRIBUTE, login.vestiging)

    signer = keys.untrusted if scene.tamper == "untrusted-key" else keys.broker
    if scene.tamper != "unsigned":
        crypto.sign(assertion, signer.key_pem, signer.cert_pem)
    if scene.tamper == "bad-signature":
        # The classic attack: raise the level after the broker signed.
        ref = assertion.find(f"{{{SAML}}}AuthnStatement/{{{SAML}}}AuthnContext/{{{SAML}}}AuthnContextClassRef")
        assert ref is not None
        ref.text = Loa.EH4.uri
    response.append(assertion)
    return response


def artifact_response(
    keys: SimulatorKeys,
    message: etree._Element | None,
    *,
    in_response_to: str,
    signer: certs.KeyPair | None = None,
    now: datetime | None = None,
) -> bytes:
    """:func:`artifact_response_element` serialised, with an XML declaration (fixtures, ``issue``)."""
    wrapper = artifact_response_element(keys, message, in_response_to=in_response_to, signer=signer, now=now)
    return etree.tostring(wrapper, xml_declaration=True, encoding="UTF-8")


def artifact_response_element(
    keys: SimulatorKeys,
    message: etree._Element | None,
    *,
    in_response_to: str,
    signer: certs.KeyPair | None = None,
    now: datetime | None = None,
) -> etree._Element:
    """A signed ``samlp:ArtifactResponse`` (always status Success) wrapping ``message`` (moved into it).

    Without a message (artifact unknown or used) the inner Response says Requester, as the reference
    sheet describes: errors live in the inner status, never in the outer one. The ARS puts the element
    itself in its SOAP envelope: serialising it here and parsing it back there cost a tenth of a millisecond.
    """
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    wrapper = etree.Element(
        f"{{{SAMLP}}}ArtifactResponse",
        nsmap=NSMAP,
        ID=new_id(),
        Version="2.0",
        IssueInstant=instant(now),
        InResponseTo=in_response_to,
    )
    sub(wrapper, SAML, "Issuer", entities.BROKER_ENTITY_ID)
    _status(wrapper, STATUS + "Success")
    if message is None:
        message = etree.Element(f"{{{SAMLP}}}Response", nsmap=NSMAP, ID=new_id(), Version="2.0")
        message.set("IssueInstant", instant(now))
        sub(message, SAML, "Issuer", entities.BROKER_ENTITY_ID)
        _status(message, STATUS + "Requester", message="Artifact unknown, expired or already resolved.")
    wrapper.append(message)
    pair = signer or keys.broker
    crypto.sign(wrapper, pair.key_pem, pair.cert_pem)
    return wrapper


def response_signer(keys: SimulatorKeys, scene: Scenario) -> certs.KeyPair:
    """An impostor signs the whole answer with its own key; every other scenario uses the broker's."""
    return keys.untrusted if scene.tamper == "untrusted-key" else keys.broker


def issue(settings: Settings, scenario: str, *, request_id: str, now: datetime | None = None) -> bytes:
    """A complete ArtifactResponse for ``scenario`` (an id) answering AuthnRequest ``request_id``.

    Uses the first supplier and the first test organisation. ``no-authorisation`` raises
    :class:`NoResponse`: the real chain never answers in that case.
    """
    scene = find_scenario(scenario)
    keys = keys_for(settings.simulator.key_dir)
    login = Login(request_id=request_id, acs_url=settings.acs_url, supplier_id=entities.SUPPLIERS[0].entity_id)
    response = build_response(settings, scene, login, now=now, keys=keys)
    return artifact_response(keys, response, in_response_to=new_id(), signer=response_signer(keys, scene), now=now)
