"""The "Test de inlog" pages: chooser, start, ACS, result page, the no-response question, and its JSON."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from anyio import to_thread
from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from diagnostics import (
    beheerder_mail,
    errors,
    housekeeping,
    localtime,
    ownership,
    page_frame,
    reference,
    roundtrip,
    roundtrip_view,
    user_answer,
)
from diagnostics.brokers import BrokerError, BrokerRegistry, Supplier
from diagnostics.catalogue import Entry, load_catalogue
from diagnostics.deps import RegistryDep, ResourcesDep, SettingsDep, StoreDep
from diagnostics.notices import Shown, in_force
from diagnostics.resources import Resources
from diagnostics.service_info import service_info
from diagnostics.settings import BrokerConfig, Settings
from diagnostics.store import DiagSession, Store
from diagnostics.verdict import Verdict

log = logging.getLogger(__name__)

TEMPLATES = page_frame.TEMPLATES
SUPPLIER_COOKIE = "inloghulp_leverancier"
ONE_YEAR = 365 * 24 * 3600
# The last step on a problem page: the code on that page is what the servicedesk looks up.
_STILL_NOT = "Lukt het dan nog niet? Neem contact op met de BRO Servicedesk en noem de code hieronder."

router = APIRouter(tags=["roundtrip"])


class SupplierOut(BaseModel):
    entity_id: str = Field(description="EntityID van de authenticatiedienst (gaat mee in Scoping/IDPList).")
    display_name: str = Field(description="Naam zoals de herkenningsmakelaar hem publiceert.")


class BrokerSuppliersOut(BaseModel):
    broker: str = Field(description="Id van de herkenningsmakelaar uit de configuratie.")
    name: str = Field(description="Naam van de herkenningsmakelaar.")
    suppliers: list[SupplierOut] = Field(
        description="De eHerkenningsmakelaars uit de ondertekende AD-lijst, alfabetisch op naam."
    )
    error: str | None = Field(description="Diagnose-id als de lijst nu niet op te halen is.")


class NoticeOut(BaseModel):
    broker: str = Field(description="Id van de herkenningsmakelaar uit de configuratie.")
    broker_name: str = Field(description="Naam van de herkenningsmakelaar.")
    kind: Literal["operator", "automatic"] = Field(
        description="operator: een melding van beheer; automatic: in het afgelopen kwartier mislukten veel "
        "inlogtests aan de kant van deze makelaar."
    )
    title: str = Field(description="Kop van de melding, zoals op /diagnose.")
    text: str = Field(description="Tekst van de melding, zoals op /diagnose.")
    until: datetime | None = Field(description="Alleen bij een melding van beheer: wanneer het voorbij moet zijn.")


def _remembered(request: Request) -> tuple[str | None, str | None]:
    """(broker id, supplier entity id) from the cookie of the last choice."""
    broker_id, _, supplier_id = (request.cookies.get(SUPPLIER_COOKIE) or "").partition("|")
    return (broker_id or None, supplier_id or None)


def _entry(verdict: Verdict) -> Entry | None:
    catalogue = load_catalogue()
    if verdict.diagnosis is None or verdict.diagnosis.id not in catalogue:
        return None
    return catalogue.entry(verdict.diagnosis.id)


async def _session_or_404(settings: Settings, store: Store, raw: str) -> DiagSession:
    # Read only: a test past its timeout is shown as not come back, and the app's lifespan writes that
    # (diagnostics.housekeeping), so no GET page waits on a database write.
    ref = reference.normalise(raw)
    session = await store.run(store.get_session, ref) if ref else None
    if session is None:
        raise HTTPException(status_code=404, detail="not-found")
    return housekeeping.as_seen(settings, session)


# ── chooser ──


async def _broker_notices(resources: Resources) -> list[Shown]:
    """Outages people can see (diagnostics.notices): the database and the outage count, off the event loop.

    In a thread, not ``Store.run``: the outage count holds a thread lock while it queries."""
    return await to_thread.run_sync(in_force, resources.settings, resources.store.engine, resources.outage)


async def _supplier_lists(settings: Settings, registry: BrokerRegistry) -> list[BrokerSuppliersOut]:
    # All brokers at once: one that is down costs the registry's wait once, not once per broker.
    return list(await asyncio.gather(*(_supplier_list(broker, registry) for broker in settings.brokers)))


async def _supplier_list(broker: BrokerConfig, registry: BrokerRegistry) -> BrokerSuppliersOut:
    suppliers: list[Supplier] = []
    error: str | None = None
    try:
        suppliers = await registry.suppliers(broker.id)
    except BrokerError as exc:
        log.warning("AD list of %s unavailable: %s", broker.id, exc.diagnosis)
        error = exc.diagnosis
    return BrokerSuppliersOut(
        broker=broker.id,
        name=broker.name,
        # Alphabetical by name, ignoring case: the afsprakenstelsel asks this of every screen where the user
        # picks a broker, so that no eHerkenningsmakelaar is favoured by its place in the AD list.
        suppliers=[
            SupplierOut(entity_id=s.entity_id, display_name=s.display_name)
            for s in sorted(suppliers, key=lambda supplier: supplier.display_name.casefold())
        ],
        error=error,
    )


@dataclass(frozen=True)
class ChoiceProblem:
    """A start refused because of the user's choice: shown inline on the chooser, in ``broker``'s form."""

    broker: str
    message: str


async def _chooser(request: Request, resources: Resources, *, problem: ChoiceProblem | None = None) -> HTMLResponse:
    settings = resources.settings
    remembered_broker, remembered_supplier = _remembered(request)
    catalogue = load_catalogue()
    lists, broker_notices = await asyncio.gather(
        _supplier_lists(settings, resources.registry), _broker_notices(resources)
    )
    groups = [
        {
            "ads": group,
            "error_entry": catalogue.entry(group.error) if group.error and group.error in catalogue else None,
            "selected": remembered_supplier if remembered_broker == group.broker else None,
            "problem": problem.message if problem is not None and problem.broker == group.broker else None,
        }
        for group in lists
    ]
    return TEMPLATES.TemplateResponse(
        request,
        "roundtrip/chooser.html",
        {
            "groups": groups,
            "broker_notices": broker_notices,
            "info": service_info(settings),
            # The code and the way back, before the broker (diagnostics.ownership.offer; an earlier open test
            # is the banner at the top, diagnostics.routes.open_test).
            "offer": ownership.offer(settings),
            "way_back_url": f"{settings.public_base_url}/terug",
            "has_problem": problem is not None,
        },
        status_code=400 if problem is not None else 200,
        # Made for this browser (the code it is offered, its remembered choice): no shared cache keeps it.
        headers={"Cache-Control": "no-store"},
    )


@router.get("/diagnose", response_class=HTMLResponse)
async def read_chooser(request: Request, resources: ResourcesDep) -> HTMLResponse:
    """The chooser: pick your eHerkenningsmakelaar and test the login, with the beheerder card beside it."""
    return await _chooser(request, resources)


@router.get("/api/v1/notices", response_model=list[NoticeOut])
async def read_notices(response: Response, resources: ResourcesDep) -> list[NoticeOut]:
    """Storingen per herkenningsmakelaar, zoals /diagnose ze toont (voor de widget op de helpsite)."""
    # The same for everyone: a short shared cache, and an ended notice is gone within half a minute.
    response.headers["Cache-Control"] = "public, max-age=30"
    return [
        NoticeOut(
            broker=notice.broker_id,
            broker_name=notice.broker_name,
            kind=notice.kind,
            title=notice.title,
            text=notice.text,
            until=notice.until,
        )
        for notice in await _broker_notices(resources)
    ]


@router.get("/api/v1/suppliers", response_model=list[BrokerSuppliersOut])
async def read_suppliers(settings: SettingsDep, registry: RegistryDep) -> list[BrokerSuppliersOut]:
    """Per herkenningsmakelaar the eHerkenningsmakelaars (suppliers) from its verified AD list."""
    return await _supplier_lists(settings, registry)


@router.post("/diagnose/start", response_class=Response)
async def create_test(
    request: Request,
    resources: ResourcesDep,
    broker: Annotated[str, Form(max_length=32)],
    supplier: Annotated[str | None, Form(max_length=255)] = None,
    scenario: Annotated[str | None, Form(max_length=64)] = None,
    code: Annotated[str | None, Form(max_length=64)] = None,
) -> Response:
    """Start a test: a diagnostics session and a signed AuthnRequest, then off to the broker.

    ``code``: the reference code the chooser showed (``ownership.offer``); without it, or not ours, a fresh one.
    """
    settings = resources.settings
    try:
        started = await roundtrip.start_login(
            resources,
            broker_id=broker,
            supplier_id=supplier or None,
            scenario=scenario,
            reference=ownership.offered(settings, code),
        )
    except roundtrip.ChoiceError as exc:
        # The user's own input: ask again on the same page, like any form, with the error beside the choice.
        return await _chooser(request, resources, problem=ChoiceProblem(broker, exc.message))
    except roundtrip.StartError as exc:
        entry = load_catalogue().entry(exc.diagnosis) if exc.diagnosis in load_catalogue() else None
        return TEMPLATES.TemplateResponse(
            request,
            "roundtrip/problem.html",
            {
                "title": "De test kon niet beginnen",
                "message": exc.message,
                "entry": entry,
                "error_id": exc.diagnosis,
                "action": f"Probeer het over een paar minuten opnieuw. {_STILL_NOT}",
            },
            status_code=400 if exc.diagnosis == "config-error" else 502,
        )
    outgoing = started.request
    response: Response
    if outgoing.binding == "redirect":
        response = RedirectResponse(outgoing.url, status_code=303)
    else:
        response = TEMPLATES.TemplateResponse(
            request, "roundtrip/post_binding.html", {"url": outgoing.url, "form": outgoing.form}
        )
    secure = settings.served_over_https
    if started.session.supplier_id:
        response.set_cookie(
            SUPPLIER_COOKIE,
            f"{broker}|{started.session.supplier_id}",
            max_age=ONE_YEAR,
            httponly=True,
            samesite="lax",
            secure=secure,
        )
    ownership.remember(response, request, settings, started.session.reference)
    return response


# ── the broker sends the user back ──


async def _receive(request: Request, resources: Resources, saml_art: str | None, relay: str | None) -> Response:
    if not saml_art:
        return TEMPLATES.TemplateResponse(
            request,
            "roundtrip/problem.html",
            {
                "title": "Geen inlogbericht ontvangen",
                "message": "Op deze pagina komt u terug na het inloggen bij uw eHerkenningsmakelaar. "
                "Er is geen inlogbericht meegestuurd. Dat gebeurt bijvoorbeeld als u deze pagina als bladwijzer "
                "hebt bewaard.",
                # No catalogue entry: they all explain a message that arrived, and here none did.
                "entry": None,
                "error_id": "malformed",
                "action": f"Begin een nieuwe test. {_STILL_NOT}",
            },
            status_code=400,
        )
    claimed = roundtrip.reference_from_relay_state(relay)
    if claimed is not None and not ownership.started_here(request, resources.settings, claimed):
        # Refused before the artifact is resolved: a forged or stolen one is not spent on someone else's test.
        log.warning("artifact for a test this browser did not start", extra={"reference": claimed})
        return TEMPLATES.TemplateResponse(
            request,
            "roundtrip/problem.html",
            {
                "title": "Dit inlogbericht hoort niet bij een test in deze browser",
                "message": "Deze inlogtest is in een andere browser begonnen. Daarom kijken wij dit bericht niet na.",
                "entry": None,
                "error_id": "not-this-browser",
                "action": "Begin de test opnieuw, in de browser waarin u ook inlogt. "
                "Gebruikt u een privévenster? Doe de hele test dan in dat venster.",
            },
            status_code=403,
        )
    ref = await roundtrip.receive_artifact(resources, saml_art=saml_art.strip(), relay_state=relay)
    if ref is None:
        return TEMPLATES.TemplateResponse(
            request,
            "roundtrip/problem.html",
            {
                "title": "Dit inlogbericht hoort niet bij een test",
                "message": "Wij kunnen dit bericht niet koppelen aan een inlogtest die hier is begonnen. "
                "Begin een nieuwe test.",
                "entry": load_catalogue().entry("unsolicited"),
                "error_id": "unsolicited",
                "action": "Begin hieronder een nieuwe test. Gebruik geen bladwijzer naar de pagina van uw "
                "eHerkenningsmakelaar.",
            },
            status_code=400,
        )
    return RedirectResponse(roundtrip.relay_state_for(ref), status_code=303)


@router.get("/saml/acs", response_class=Response)
async def read_acs(
    request: Request,
    resources: ResourcesDep,
    saml_art: Annotated[str | None, Query(alias="SAMLart", max_length=200)] = None,
    relay_state: Annotated[str | None, Query(alias="RelayState", max_length=200)] = None,
) -> Response:
    """AssertionConsumerService, HTTP-Artifact by GET: resolve, check, show the result."""
    return await _receive(request, resources, saml_art, relay_state)


@router.post("/saml/acs", response_class=Response)
async def create_acs(
    request: Request,
    resources: ResourcesDep,
    saml_art: Annotated[str | None, Form(alias="SAMLart", max_length=200)] = None,
    relay_state: Annotated[str | None, Form(alias="RelayState", max_length=200)] = None,
) -> Response:
    """AssertionConsumerService, HTTP-Artifact by POST: resolve, check, show the result."""
    return await _receive(request, resources, saml_art, relay_state)


# ── result ──


@router.get("/diagnose/{ref}", response_class=HTMLResponse)
async def read_result(
    request: Request, ref: str, settings: SettingsDep, store: StoreDep, registry: RegistryDep, resources: ResourcesDep
) -> HTMLResponse:
    """The result of one test: verdict, timeline, explanation, check trace and the reference code.

    Only the browser that started the test sees the steps, the trace and the question; anyone else who
    has the code sees the verdict and the diagnosis title (``diagnostics.ownership``).
    """
    session = await _session_or_404(settings, store, ref)
    owner = ownership.started_here(request, settings, session.reference)
    verdict = roundtrip.session_verdict(settings, session)
    broker_name = roundtrip_view.broker_name(settings, session.broker_id)
    supplier_name = await roundtrip_view.supplier_name(registry, session.broker_id, session.supplier_id)
    steps = roundtrip_view.timeline(session, verdict, broker_name=broker_name, supplier_name=supplier_name)
    # A failing test with a broker that is down (or said to be): tell the user it is probably not them.
    failed = verdict.verdict == "failed"
    broker_notices = [n for n in await _broker_notices(resources) if n.broker_id == session.broker_id] if failed else []
    entry = _entry(verdict)
    question_open = roundtrip.question_open(session)
    return TEMPLATES.TemplateResponse(
        request,
        "roundtrip/result.html",
        {
            "session": session,
            "verdict": verdict,
            "entry": entry,
            "steps": steps,
            # "Wat zag u?": for a test that has not come back, or came back without saying why.
            "ask": owner and question_open,
            "owner": owner,
            "question": user_answer.QUESTION,
            "answers": user_answer.ANSWERS,
            "supplier_name": supplier_name,
            "timeout": roundtrip.timeout_words(settings),
            "copy_text": _copy_text(verdict, session, supplier_name),
            "broker_notices": broker_notices,
            # Not while "Wat zag u?" is open: the answer can still show that someone else must act.
            "beheerder_mail": None
            if question_open
            else _beheerder_mail(settings, verdict, entry, session, supplier_name, owner=owner),
        },
        headers={"Cache-Control": "no-store"},
    )


def _beheerder_mail(
    settings: Settings,
    verdict: Verdict,
    entry: Entry | None,
    session: DiagSession,
    supplier: str | None,
    *,
    owner: bool,
) -> beheerder_mail.BeheerderMail | None:
    """The mail "Mail naar mijn eHerkenningsbeheerder" opens, where the verdict says the beheerder must act.

    The organisation from the broker's answer only for the browser that started the test, like the trace.
    """
    if entry is None or not beheerder_mail.needs_beheerder(verdict):
        return None
    organisation = beheerder_mail.organisation_hint(verdict) if owner else None
    return beheerder_mail.beheerder_mail(
        settings, entry, reference=session.reference, supplier_name=supplier, organisation=organisation
    )


def _copy_text(verdict: Verdict, session: DiagSession, supplier_name: str | None) -> str:
    words = {"ok": "gelukt", "failed": "mislukt", "inconclusive": "nog geen uitslag"}
    lines = [
        f"Referentiecode: {session.reference}",
        f"Uitslag inlogtest: {words[verdict.verdict]}",
        f"Tijdstip: {localtime.dutch_time(session.created_at, label=True)}",
    ]
    if supplier_name:
        lines.append(f"eHerkenningsmakelaar: {supplier_name}")
    if verdict.diagnosis is not None:
        lines.append(f"Diagnose: {verdict.diagnosis.title}")
    failed = next((check for check in verdict.checks if check.status == "fail"), None)
    if failed is not None:
        # Its Dutch name: the servicedesk finds the test (and every id) by the referentiecode.
        lines.append(f"Eerste controle die niet goed ging: {roundtrip_view.check_title(failed.id)}")
    return "\n".join(lines)


@router.post("/diagnose/{ref}/antwoord", response_class=Response)
async def create_answer(
    request: Request,
    ref: str,
    settings: SettingsDep,
    store: StoreDep,
    antwoord: Annotated[str, Form(max_length=32)],
) -> Response:
    """What the user saw at the eHerkenningsmakelaar when the login never came back, or came back without a reason.

    Only from the browser that started the test: a reference code alone does not let anyone change it.
    """
    session = await _session_or_404(settings, store, ref)
    if not ownership.started_here(request, settings, session.reference):
        return errors.error_response(request, 403, ownership.NOT_THIS_BROWSER)
    if user_answer.answer_option(antwoord) is None:
        raise errors.Reason(400, "Kies een van de antwoorden.")
    # Refused only when the broker's answer came back after all (it outranks the user's): then the result
    # page shows that verdict, which is what the user needs to see, not an error.
    await to_thread.run_sync(roundtrip.record_answer, store, session.reference, antwoord)
    return RedirectResponse(f"{roundtrip.relay_state_for(session.reference)}#uitslag", status_code=303)


@router.get("/api/v1/diagnose/{ref}", response_model=Verdict)
async def read_result_json(request: Request, ref: str, settings: SettingsDep, store: StoreDep) -> Verdict:
    """The verdict of one test (verdict contract), by reference code.

    The checks (with the masked identifiers) only for the browser that started the test; for anyone
    else the verdict and the diagnosis, with an empty ``checks`` list.
    """
    session = await _session_or_404(settings, store, ref)
    verdict = roundtrip.session_verdict(settings, session)
    if ownership.started_here(request, settings, session.reference):
        return verdict
    return verdict.model_copy(update={"checks": []})
