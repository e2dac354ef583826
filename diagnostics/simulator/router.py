"""HTTP endpoints of the simulated broker: metadata, AD list, SSO, login screens and the SOAP ARS."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from diagnostics.settings import Settings
from diagnostics.simulator import ars, entities
from diagnostics.simulator.artifacts import store_response
from diagnostics.simulator.host import SettingsDep, StoreDep, host_in
from diagnostics.simulator.metadata import MEDIA_TYPE, ad_list, broker_metadata
from diagnostics.simulator.requests import IncomingRequest, RequestRefused, from_post, from_redirect, trusted_issuer
from diagnostics.simulator.responses import Login, build_response
from diagnostics.simulator.scenarios import DEFAULT_SCENARIO, SCENARIOS, Scenario, scenario
from diagnostics.simulator.state import MAX_AGE_SECONDS, BadState, LoginState, dump_state, load_state
from diagnostics.store import Store

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
STATIC_DIR = Path(__file__).parent / "static"
# The strict CSP allows no inline style or script: the screens load these two files instead.
STATIC_FILES = {"simulator.css": "text/css", "autosubmit.js": "text/javascript"}
KVK_RE = re.compile(r"^\d{8}$")
VESTIGING_RE = re.compile(r"^\d{12}$")
ReturnBinding = Literal["redirect", "post"]


class QueryChoices:
    """Choices passed on the SSO request so tests skip the screens (``scenario=`` switches it on)."""

    def __init__(
        self,
        scenario_id: str | None,
        supplier: str | None,
        kvk: str | None,
        person: str | None,
        ret: str,
        vestiging: str | None = None,
    ):
        self.scenario_id = scenario_id
        self.vestiging = vestiging
        self.supplier = supplier
        self.kvk = kvk
        self.person = person
        self.return_binding: ReturnBinding = "post" if ret == "post" else "redirect"


def _page(
    request: Request,
    settings: Settings,
    name: str,
    context: dict[str, object],
    status: int = 200,
    *,
    acs_url: str | None = None,
) -> HTMLResponse:
    base = {
        "service_name": settings.service.name,
        "example": settings.service.example_values,
        "login_url": f"{settings.public_base_url}/simulator/login",
        "static_url": f"{settings.public_base_url}/simulator/static",
    }
    response = templates.TemplateResponse(request, name, {**base, **context}, status_code=status)
    if acs_url is not None:
        # This page's form ends at the dienst's ACS (posted there, or redirected there after our login form).
        # Browsers allow that only when form-action names the ACS's origin, and another dienst has its own.
        response.headers["Content-Security-Policy"] = host_in(request.scope).form_policy([acs_url])
    return response


def _error(request: Request, settings: Settings, error_id: str, message: str) -> HTMLResponse:
    return _page(request, settings, "error.html", {"error_id": error_id, "message": message}, status=400)


class _RefusalRoute(APIRoute):
    """A simulator route whose RequestRefused, raised anywhere below it, becomes the simulator's error page.

    Scoped to this router only: the rest of the service has its own error pages.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestRefused as exc:
                return _error(request, host_in(request.scope).settings, exc.diagnosis, exc.message)

        return handle


router = APIRouter(prefix="/simulator", tags=["simulator"], route_class=_RefusalRoute)


def _supplier(supplier_id: str | None) -> entities.Supplier | None:
    if supplier_id is None:
        return None
    found = entities.supplier(supplier_id)
    if found is None:
        raise RequestRefused(
            "sim-unknown-supplier",
            "De gekozen eHerkenning-leverancier is niet bekend bij deze makelaar. Kies een leverancier uit de lijst.",
        )
    return found


def _scenario(scenario_id: str) -> Scenario:
    try:
        return scenario(scenario_id)
    except KeyError:
        raise RequestRefused("sim-unknown-scenario", f"Het scenario {scenario_id[:40]!r} bestaat niet in de simulator.")


async def _finish(
    request: Request,
    settings: Settings,
    store: Store,
    state: LoginState,
    supplier: entities.Supplier,
    scene: Scenario,
    *,
    kvk: str,
    person: str,
    return_binding: ReturnBinding,
    vestiging: str | None = None,
) -> Response:
    """End the login: the no-machtiging page, or an artifact back to the ACS."""
    if not KVK_RE.fullmatch(kvk):
        raise RequestRefused("sim-bad-kvk", "Een KvK-nummer bestaat uit precies 8 cijfers.")
    if vestiging and not VESTIGING_RE.fullmatch(vestiging):
        raise RequestRefused("sim-bad-vestiging", "Een vestigingsnummer bestaat uit precies 12 cijfers.")
    if entities.person(person) is None:
        raise RequestRefused("sim-unknown-person", "Deze persoon bestaat niet in de simulator.")
    if not scene.returns:
        organisation = next((o.name for o in entities.ORGANISATIONS if o.kvk == kvk), f"KvK-nummer {kvk}")
        return _page(
            request,
            settings,
            "no_authorisation.html",
            {
                **_dienst(settings, state),
                "supplier": supplier,
                "organisation": organisation,
                "state": dump_state(settings, state),
            },
        )
    # Read again: the dienst may have been removed, or have rolled its encryption key, since the request.
    trust = trusted_issuer(settings, state.sp_entity_id)
    expires = datetime.now(UTC) + timedelta(seconds=MAX_AGE_SECONDS)
    if not await store.run(store.remember_assertion, _login_key(state), expires):
        # One answer per AuthnRequest, like a real broker: a login state (or a signed request URL) sent again
        # would otherwise mint a new artifact, and a new row, every time.
        raise RequestRefused("sim-login-used", "Deze inlogpoging is al afgerond. Begin opnieuw bij de dienst.")
    login = Login(
        state.request_id,
        state.acs_url,
        supplier.entity_id,
        kvk=kvk,
        person=person,
        vestiging=vestiging or None,
        service_id=state.service_id,
    )
    response = build_response(settings, scene, login, trust=trust)
    artifact = await store.run(store_response, store, scene.id, response, trust.entity_id)
    if return_binding == "post":
        return _page(
            request,
            settings,
            "post_artifact.html",
            {"acs_url": state.acs_url, "artifact": artifact, "relay_state": state.relay_state},
            acs_url=state.acs_url,
        )
    query = {"SAMLart": artifact}
    if state.relay_state:
        query["RelayState"] = state.relay_state
    separator = "&" if "?" in state.acs_url else "?"
    return RedirectResponse(f"{state.acs_url}{separator}{urlencode(query)}", status_code=303)


def _login_key(state: LoginState) -> str:
    """The single-use mark of one AuthnRequest of one dienst (kept beside the replay protection's IDs)."""
    digest = hashlib.sha256(f"{state.sp_entity_id}\n{state.request_id}".encode()).hexdigest()
    return f"sim-login:{digest}"


async def _start(
    request: Request, settings: Settings, store: Store, incoming: IncomingRequest, test: QueryChoices
) -> Response:
    """After an accepted AuthnRequest: test mode, the supplier's login screen, or the supplier chooser."""
    supplier = _supplier(incoming.supplier_id or test.supplier)
    state = LoginState(
        incoming.request_id,
        incoming.acs_url,
        incoming.relay_state,
        supplier.entity_id if supplier else None,
        sp_entity_id=incoming.issuer,
        service_id=incoming.service_id,
    )
    if test.scenario_id is not None:
        return await _finish(
            request,
            settings,
            store,
            state,
            supplier or entities.SUPPLIERS[0],
            _scenario(test.scenario_id),
            kvk=test.kvk or entities.DEFAULT_KVK,
            person=test.person or entities.DEFAULT_PERSON,
            return_binding=test.return_binding,
            vestiging=test.vestiging,
        )
    return _login_or_chooser(request, settings, state, supplier)


def _dienst(settings: Settings, state: LoginState) -> dict[str, object]:
    """Who the user logs in for: our service from the settings (perhaps a voorbeeldwaarde), another one by the
    ServiceName in its metadata. Also refuses a dienst that was removed from the trusted list meanwhile."""
    if state.sp_entity_id == settings.sp.entity_id:
        return {}
    trust = trusted_issuer(settings, state.sp_entity_id)
    service = next((s for s in trust.services if s.service_id == state.service_id), None)
    return {"service_name": service.name if service else trust.entity_id, "example": False}


def _login_or_chooser(
    request: Request, settings: Settings, state: LoginState, supplier: entities.Supplier | None
) -> Response:
    token = dump_state(settings, state)
    dienst = _dienst(settings, state)
    if supplier is None:
        return _page(request, settings, "chooser.html", {"suppliers": entities.SUPPLIERS, "state": token, **dienst})
    return _page(
        request,
        settings,
        "login.html",
        {
            **dienst,
            "supplier": supplier,
            "state": token,
            "organisations": entities.ORGANISATIONS,
            "persons": entities.PERSONS,
            "scenarios": SCENARIOS,
            "default_scenario": DEFAULT_SCENARIO,
        },
        acs_url=state.acs_url,
    )


ScenarioQuery = Annotated[str | None, Query(alias="scenario", max_length=64)]
SupplierQuery = Annotated[str | None, Query(alias="supplier", max_length=200)]
KvkQuery = Annotated[str | None, Query(alias="kvk", max_length=16)]
PersonQuery = Annotated[str | None, Query(alias="person", max_length=32)]
VestigingQuery = Annotated[str | None, Query(alias="vestiging", max_length=16)]
ReturnQuery = Annotated[str, Query(alias="return", max_length=16)]


@router.get("/", response_class=HTMLResponse)
def read_index(request: Request, settings: SettingsDep) -> HTMLResponse:
    """What the simulator is, with its metadata links and scenarios."""
    return _page(
        request,
        settings,
        "index.html",
        {
            "base": settings.public_base_url,
            "entity_id": entities.BROKER_ENTITY_ID,
            "suppliers": entities.SUPPLIERS,
            "scenarios": SCENARIOS,
            "service_uuid": settings.service.uuid,
        },
    )


@router.get("/static/{name}")
def read_static(name: str) -> Response:
    """The simulator's stylesheet and auto-submit script."""
    if name not in STATIC_FILES:
        raise HTTPException(status_code=404)
    return Response((STATIC_DIR / name).read_bytes(), media_type=STATIC_FILES[name])


@router.get("/metadata")
def read_metadata(settings: SettingsDep) -> Response:
    """The simulated broker's signed metadata (EntitiesDescriptor)."""
    return Response(broker_metadata(settings), media_type=MEDIA_TYPE)


@router.get("/listAD.xml")
def read_ad_list(
    settings: SettingsDep, service_uuid: Annotated[str | None, Query(alias="ServiceUUID")] = None
) -> Response:
    """The signed list of suppliers (ADs) behind the simulated broker."""
    del service_uuid  # every simulated supplier supports every service
    return Response(ad_list(settings), media_type=MEDIA_TYPE)


@router.get("/sso", response_class=HTMLResponse)
async def start_sso_redirect(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    saml_request: Annotated[str | None, Query(alias="SAMLRequest")] = None,
    relay_state: Annotated[str | None, Query(alias="RelayState")] = None,
    scenario_id: ScenarioQuery = None,
    supplier: SupplierQuery = None,
    kvk: KvkQuery = None,
    person: PersonQuery = None,
    ret: ReturnQuery = "redirect",
    vestiging: VestigingQuery = None,
) -> Response:
    """SSO over HTTP-Redirect: the signature is over the query string."""
    raw_query = request.scope["query_string"].decode("latin-1")
    incoming = from_redirect(settings, raw_query, saml_request, relay_state)
    return await _start(
        request, settings, store, incoming, QueryChoices(scenario_id, supplier, kvk, person, ret, vestiging)
    )


@router.post("/sso", response_class=HTMLResponse)
async def start_sso_post(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    saml_request: Annotated[str | None, Form(alias="SAMLRequest")] = None,
    relay_state: Annotated[str | None, Form(alias="RelayState")] = None,
    scenario_id: ScenarioQuery = None,
    supplier: SupplierQuery = None,
    kvk: KvkQuery = None,
    person: PersonQuery = None,
    ret: ReturnQuery = "redirect",
    vestiging: VestigingQuery = None,
) -> Response:
    """SSO over HTTP-POST: the AuthnRequest carries an enveloped signature."""
    incoming = from_post(settings, saml_request, relay_state)
    return await _start(
        request, settings, store, incoming, QueryChoices(scenario_id, supplier, kvk, person, ret, vestiging)
    )


def _state(settings: Settings, token: str) -> LoginState:
    try:
        return load_state(settings, token)
    except BadState:
        raise RequestRefused(
            "sim-state-invalid", "Deze inlogpoging is verlopen of gewijzigd. Begin opnieuw bij de dienst."
        )


@router.get("/login", response_class=HTMLResponse)
def read_login(
    request: Request,
    settings: SettingsDep,
    state: Annotated[str, Query(max_length=4096)] = "",
    supplier: SupplierQuery = None,
) -> Response:
    """The chosen supplier's login screen, or the supplier chooser when none is chosen."""
    return _login_or_chooser(request, settings, _state(settings, state), _supplier(supplier))


@router.post("/login", response_class=HTMLResponse)
async def submit_login(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    state: Annotated[str, Form(max_length=4096)] = "",
    supplier: Annotated[str, Form(max_length=200)] = "",
    kvk: Annotated[str, Form(max_length=16)] = entities.DEFAULT_KVK,
    person: Annotated[str, Form(max_length=32)] = entities.DEFAULT_PERSON,
    scenario_id: Annotated[str, Form(alias="scenario", max_length=64)] = DEFAULT_SCENARIO,
    return_binding: Annotated[str, Form(max_length=16)] = "redirect",
    action: Annotated[str, Form(max_length=16)] = "login",
    vestiging: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """The tester's choice on the login screen; Annuleren sends the cancel status."""
    login_state = _state(settings, state)
    chosen = _supplier(supplier)
    if chosen is None:
        raise RequestRefused("sim-unknown-supplier", "Er is geen eHerkenning-leverancier gekozen.")
    scene = _scenario("cancelled" if action == "cancel" else scenario_id)
    binding: ReturnBinding = "post" if return_binding == "post" else "redirect"
    return await _finish(
        request,
        settings,
        store,
        login_state,
        chosen,
        scene,
        kvk=kvk,
        person=person,
        return_binding=binding,
        vestiging=vestiging.strip() or None,
    )


def _soap(body: bytes, settings: Settings, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type=f"{settings.simulator.soap_content_type}; charset=utf-8")


@router.post("/ars")
async def resolve_artifact(request: Request, settings: SettingsDep, store: StoreDep) -> Response:
    """SOAP ArtifactResolutionService: each artifact resolves once."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != settings.simulator.soap_content_type:
        return Response(
            f"Content-Type {media_type or '(leeg)'} wordt niet geaccepteerd; gebruik {settings.simulator.soap_content_type}.",
            status_code=415,
            media_type="text/plain; charset=utf-8",
        )
    body = await request.body()
    try:
        # Its one write takes the artifact, so the store may repeat it (``Store.run``).
        resolution = await store.run(ars.resolve, settings, store, body)
    except ars.SoapFault as exc:
        return _soap(ars.fault(exc.code, exc.message), settings, status=500)
    if resolution.pending is not None:
        on_resolve = scenario(resolution.pending.scenario).on_resolve
        if on_resolve == "slow":
            await asyncio.sleep(settings.simulator.slow_delay_seconds)
        elif on_resolve == "broker-error":
            return _soap(ars.fault("Server", "Internal broker error (simulated)."), settings, status=500)
    return _soap(ars.answer(settings, resolution), settings)
