"""The servicedesk console at ``/servicedesk``: server-rendered, works without JavaScript, login required."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from diagnostics import page_frame, reference, roundtrip, roundtrip_view
from diagnostics.beheerder_card import ticket_reply
from diagnostics.brokers import BrokerRegistry
from diagnostics.catalogue import load_catalogue
from diagnostics.deps import RegistryDep, SettingsDep, StoreDep
from diagnostics.notices import in_force
from diagnostics.ratelimit import RateLimiter
from diagnostics.redirects import safe_redirect_target
from diagnostics.resources import resources_in
from diagnostics.servicedesk import accounts, chart, paste, records, sessions, wording
from diagnostics.servicedesk.guards import ConsoleUser, CsrfChecked, FormExpired, LoginRequired, logged_in_user
from diagnostics.servicedesk.paste_limit import MAX_PASTE_BYTES
from diagnostics.servicedesk.redact import redact
from diagnostics.servicedesk.web_session import Csrf, end_session, session_claims, start_session
from diagnostics.settings import Settings
from diagnostics.store import DiagSession, Store
from diagnostics.verdict import Verdict

HERE = Path(__file__).parent
TEMPLATES = page_frame.TEMPLATES
PERIODS = (7, 30)
# A pasted message larger than this is refused before any parsing (the checker has its own limit too). The body
# limit for the paste box is ``paste_limit.MAX_PASTE_BYTES``; Starlette's own limit of 1 MB per form field,
# which a HAR of one test through the help site already passes, is lifted to the same size.
MAX_PASTE_CHARS = MAX_PASTE_BYTES

router = APIRouter(prefix="/servicedesk", tags=["servicedesk"], include_in_schema=False)


def _page(
    request: Request, settings: Settings, name: str, context: dict[str, Any], *, status_code: int = 200
) -> Response:
    csrf = Csrf(request, settings)
    # The ticket reply carries the machtiging values where the eHerkenningsbeheerder needs them.
    reply = partial(ticket_reply, settings=settings)
    response = TEMPLATES.TemplateResponse(
        request, name, {"csrf_token": csrf.token, "ticket_reply": reply, **context}, status_code=status_code
    )
    response.headers["Cache-Control"] = "no-store"
    return csrf.apply(response)


def install(app: FastAPI) -> None:
    """Answer the console's failed checks (``guards``): FastAPI's handlers are app-wide, but only the
    console's dependencies raise these two."""

    async def login_required(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(f"/servicedesk/login?next={exc.target}", status_code=303)

    async def form_expired(request: Request, _exc: Exception) -> Response:
        resources = resources_in(request.scope)
        user = await to_thread.run_sync(logged_in_user, request, resources)
        return _page(request, resources.settings, "expired_form.html", {"user": user}, status_code=400)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(FormExpired, form_expired)


def _verdict_view(verdict: Verdict) -> dict[str, Any]:
    """The verdict as the templates show it: redacted trace plus the catalogue entry for the diagnosis."""
    data = redact(verdict.model_dump(mode="json"))
    entry = load_catalogue().entry(verdict.diagnosis.id) if verdict.diagnosis else None
    return {"verdict": data, "entry": entry, "who": wording.who_acts(entry) if entry else None}


def _counts(store: Store, now: datetime) -> list[dict[str, Any]]:
    catalogue = load_catalogue()
    periods = []
    for days in PERIODS:
        counts = store.counts_by_diagnosis(now - timedelta(days=days))
        rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        titles = {key: catalogue.entry(key).title if key in catalogue else key for key in counts}
        titles["ok"] = "Gelukt"
        labelled = [(titles[key], count) for key, count in rows]
        periods.append({"days": days, "rows": rows, "titles": titles, "chart": chart.bar_chart(labelled)})
    return periods


@router.get("/console.css")
def read_stylesheet() -> FileResponse:
    """The console's stylesheet (no inline styles: the CSP forbids them)."""
    return FileResponse(HERE / "static" / "console.css", media_type="text/css")


@router.get("/console.js")
def read_script() -> FileResponse:
    """The console's only script: a copy button for the ticket reply (the page works without it)."""
    return FileResponse(HERE / "static" / "console.js", media_type="text/javascript")


@router.get("/login", response_class=HTMLResponse)
def read_login(request: Request, settings: SettingsDep, next: str | None = None) -> Response:
    """The login form."""
    return _page(request, settings, "login.html", {"next": safe_redirect_target(next) or "/servicedesk", "name": ""})


@router.post("/login", response_class=HTMLResponse)
def create_login(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    _csrf: CsrfChecked,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/servicedesk",
) -> Response:
    """Check name and password; five wrong passwords from one address lock the name there for 15 minutes."""
    target = safe_redirect_target(next) or "/servicedesk"
    if not target.startswith("/servicedesk"):
        target = "/servicedesk"
    # The lockout counts per account and address; the address only as the rate limiter's keyed hash.
    limiter = RateLimiter(store.engine, settings.rate_limits, settings.session_secret)
    client = limiter.client_key(request.client.host if request.client else "unknown")
    result = accounts.authenticate(store.engine, name, password, client=client)
    if result.outcome == "ok":
        records.audit(store.engine, result.name, "login")
        response = RedirectResponse(target, status_code=303)
        start_session(response, settings, result.name, sessions.open_session(store.engine, result.name))
        return response
    context = {"next": target, "name": name[:64], "outcome": result.outcome, "locked_until": result.locked_until}
    return _page(request, settings, "login.html", context, status_code=429 if result.outcome == "locked" else 401)


@router.post("/logout")
def delete_login(request: Request, settings: SettingsDep, store: StoreDep, _csrf: CsrfChecked) -> Response:
    """Log out of the console."""
    claims = session_claims(request, settings)
    if claims is not None:
        sessions.close_session(store.engine, claims[1])
    response = RedirectResponse("/servicedesk/login", status_code=303)
    end_session(response)
    return response


@router.get("", response_class=HTMLResponse)
def read_console(request: Request, settings: SettingsDep, store: StoreDep, user: ConsoleUser) -> Response:
    """Start page: look up a reference, paste a message, what breaks most, page feedback."""
    now = datetime.now(UTC)
    context = {
        "user": user,
        "brokers": settings.brokers,
        "periods": _counts(store, now),
        "feedback": records.feedback_counts(store.engine),
        "reference_value": "",
        "broker_notices": in_force(settings, store.engine, resources_in(request.scope).outage),
    }
    return _page(request, settings, "console.html", context)


@router.post("/zoek", response_class=HTMLResponse)
def create_lookup(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    user: ConsoleUser,
    _csrf: CsrfChecked,
    code: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Look up a reference code typed in the form (any case, with or without dashes)."""
    ref = reference.normalise(code)
    if ref is None:
        context = {
            "user": user,
            "brokers": settings.brokers,
            "periods": _counts(store, datetime.now(UTC)),
            "feedback": records.feedback_counts(store.engine),
            "reference_value": code,
            "broker_notices": in_force(settings, store.engine, resources_in(request.scope).outage),
            "reference_error": reference.LOOKALIKE_MESSAGE
            if reference.has_lookalikes(code)
            else "Vul een referentiecode in zoals BHP-7K3Q-9D2F.",
        }
        return _page(request, settings, "console.html", context, status_code=400)
    return RedirectResponse(f"/servicedesk/referentie/{ref}", status_code=303)


@router.get("/referentie/{code}", response_class=HTMLResponse)
async def read_reference(
    request: Request, settings: SettingsDep, store: StoreDep, registry: RegistryDep, user: ConsoleUser, code: str
) -> Response:
    """One diagnostics session by reference code: times, broker, verdict, redacted check trace."""
    ref = reference.normalise(code)
    await to_thread.run_sync(records.audit, store.engine, user, "lookup", ref or code[:16])
    session: DiagSession | None = await to_thread.run_sync(store.get_session, ref) if ref else None
    if session is None:
        return _page(request, settings, "not_found.html", {"user": user, "code": ref or code[:20]}, status_code=404)
    context = {"user": user, **await _session_view(settings, registry, session)}
    return _page(request, settings, "reference.html", context)


async def _session_view(settings: Settings, registry: BrokerRegistry, session: DiagSession) -> dict[str, Any]:
    """One stored test as ``_session.html`` shows it: facts, outcome, redacted trace and ticket reply."""
    # With the user's answer to "Wat zag u?" applied, as on the result page (a stopped-at-broker test that the
    # user answered shows the diagnosis the answer led to).
    verdict = roundtrip.session_verdict(settings, session) if session.verdict is not None else None
    view: dict[str, Any] = _verdict_view(verdict) if verdict is not None else {"verdict": None, "entry": None}
    if verdict is None and session.diagnosis_id in load_catalogue():
        view["entry"] = load_catalogue().entry(session.diagnosis_id or "")
        view["who"] = wording.who_acts(view["entry"])
    option = roundtrip.answer_option(session.no_response_answer) if session.no_response_answer else None
    return {
        "session": session,
        "broker_name": roundtrip_view.broker_name(settings, session.broker_id),
        "supplier": await roundtrip_view.supplier_name(registry, session.broker_id, session.supplier_id),
        "scenario": wording.scenario_text(settings, session.broker_id, session.scenario),
        "answer": option.label if option else session.no_response_answer,
        **view,
    }


async def _chosen_file(upload: UploadFile | None) -> str:
    """The text of the file chosen instead of pasting, or "" (no file). The body limit bounds its size; bytes
    that are not UTF-8 become U+FFFD, and the reader then says the text is not usable."""
    if upload is None or not upload.filename:
        return ""
    return (await upload.read(MAX_PASTE_BYTES)).decode("utf-8", errors="replace")


def _known_broker(settings: Settings, broker: str) -> str:
    """The posted broker id when it is configured, else the first broker (a form value is never trusted)."""
    return broker if broker in {b.id for b in settings.brokers} else settings.brokers[0].id


@router.post("/analyse", response_class=HTMLResponse, form_limits={"max_part_size": MAX_PASTE_BYTES})
async def create_analysis(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    registry: RegistryDep,
    user: ConsoleUser,
    _csrf: CsrfChecked,
    message: Annotated[str, Form(max_length=MAX_PASTE_CHARS)] = "",
    broker: Annotated[str, Form(max_length=64)] = "",
    bestand: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Check a pasted (or chosen) SAML message or HAR file; nothing is stored unless the user asks for it."""
    broker_id = _known_broker(settings, broker)
    context: dict[str, Any] = {"user": user, "brokers": settings.brokers, "broker_id": broker_id}
    if not message.strip():
        message = await _chosen_file(bestand)
    if not message.strip():
        return _page(request, settings, "analysis.html", {**context, "message_error": True}, status_code=400)
    result = await paste.read(settings, registry, store, message, broker_id)
    if isinstance(result, paste.ArtifactOnly):
        # No answer to check or save; the test it names is a lookup, audited under its code.
        await to_thread.run_sync(records.audit, store.engine, user, "analyse", result.chosen.reference)
        words = {
            "why": wording.artifact_only(result.kind, came_back=result.chosen.came_back),
            "maker": wording.artifact_maker(result.chosen.broker_name),
            "who": wording.WHO_IN_CONSOLE["servicedesk"],
        }
        context.update(artifact_only=result, artifact_words=words)
        if result.chosen.session is not None:
            context.update(await _session_view(settings, registry, result.chosen.session))
        return _page(request, settings, "analysis.html", context)
    await to_thread.run_sync(records.audit, store.engine, user, "analyse", None)
    return _page(request, settings, "analysis.html", {**context, "message": message, **_verdict_view(result)})


@router.post("/analyse/bewaar", form_limits={"max_part_size": MAX_PASTE_BYTES})
async def create_saved_analysis(
    settings: SettingsDep,
    store: StoreDep,
    registry: RegistryDep,
    user: ConsoleUser,
    _csrf: CsrfChecked,
    message: Annotated[str, Form(max_length=MAX_PASTE_CHARS)] = "",
    broker: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Store the verdict (never the message) under a new reference code."""
    if not message.strip():
        raise FormExpired()  # the form cannot send an empty message: this one did not come from our page
    broker_id = _known_broker(settings, broker)
    verdict = await paste.read(settings, registry, store, message, broker_id)
    if isinstance(verdict, paste.ArtifactOnly):
        raise FormExpired()  # our page offers no saving for artifacts: they hold no answer to keep

    def save() -> str:
        session = store.create_session(broker_id=broker_id, supplier_id=None, request_id=None, scenario=wording.PASTED)
        store.finish_session(session.reference, verdict)
        records.audit(store.engine, user, "save", session.reference)
        return session.reference

    ref = await to_thread.run_sync(save)
    return RedirectResponse(f"/servicedesk/referentie/{ref}", status_code=303)


@router.get("/logboek", response_class=HTMLResponse)
def read_audit_log(request: Request, settings: SettingsDep, store: StoreDep, user: ConsoleUser) -> Response:
    """The latest audit lines: who looked up which reference, and when."""
    return _page(request, settings, "audit.html", {"user": user, "lines": records.audit_lines(store.engine, 200)})
