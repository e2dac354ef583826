"""No dead end after the broker: this browser's open test on every page, and ``/terug``.

A broker that refuses (no machtiging) never sends the user back, so the user must find the way back to answer
"Wat zag u?". Three ways lead there (which test counts as open: ``diagnostics.ownership.open_test``):

- every service page shows "Uw inlogtest van 20:19 is niet afgerond. Vertel ons wat u zag." at the top of its
  content. :class:`OpenTestMiddleware` looks the test up off the event loop before the page renders, and
  ``page_frame``'s frame puts ``_partials/open_test_banner.html`` in (templates render synchronously, and a
  database read must not block the loop);
- every help page (static) asks ``GET /api/v1/open-test`` from ``roundtrip.js`` and fills the same partial's
  empty live region;
- ``/terug``, the short address the chooser gives before the broker, leads to the test's question.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from diagnostics import ownership, page_frame, roundtrip
from diagnostics.deps import ResourcesDep
from diagnostics.resources import Resources, resources_in

log = logging.getLogger(__name__)

TEMPLATES = page_frame.TEMPLATES
# The request state attribute page_frame's frame reads (page_frame cannot import this module: a cycle).
BANNER_STATE = "open_test_banner"
WAY_BACK = "/terug"
_NO_STORE = {"Cache-Control": "no-store"}
# Requests that never render a service page: no database read for them, even from a browser with tests.
_NOT_PAGES = (
    "/api/",
    "/assets/",
    "/static/",
    "/saml/",
    "/simulator",
    "/search/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    WAY_BACK,
)

router = APIRouter(tags=["roundtrip"])


class OpenTestOut(BaseModel):
    time: str = Field(description="Begintijd van de test in Nederlandse tijd: '20:19' of 'gisteren 20:19'.")
    text: str = Field(description="De melding, bijvoorbeeld 'Uw inlogtest van 20:19 is niet afgerond.'")
    link_text: str = Field(description="Tekst van de link naar de vraag wat de gebruiker zag.")
    url: str = Field(description="De vraag op de pagina van de test: /diagnose/{referentiecode}#vraag.")


async def lookup(request: Request, resources: Resources) -> ownership.OpenTest | None:
    """This browser's open test; None without one, and None when the database does not answer (a page must not
    fail over its banner)."""
    return await _open_among(ownership.owned(request, resources.settings), resources)


async def _open_among(refs: list[str], resources: Resources) -> ownership.OpenTest | None:
    if not refs:
        return None  # no cookie of ours: no database read
    try:
        return await resources.store.run(ownership.open_test, resources.settings, resources.store, refs)
    except Exception as exc:  # any driver error; /readyz and the page's own reads report the database
        log.warning("open test not looked up (%s); the page shows no banner", type(exc).__name__)
        return None


def _is_page(path: str) -> bool:
    """A service page's address: not a file (a dot in the last part), not a help page (a folder address, "/…/",
    served from the built site, whose banner comes from roundtrip.js), not one of ``_NOT_PAGES``."""
    return not path.startswith(_NOT_PAGES) and not path.endswith("/") and "." not in path.rsplit("/", 1)[-1]


class OpenTestMiddleware:
    """Puts this browser's open test in the request state for the frame of a service page (``BANNER_STATE``).

    Not on the test's own page: that page asks the question itself.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and _is_page(scope["path"]):
            resources = resources_in(scope)
            refs = ownership.owned(Request(scope), resources.settings)
            # Only the latest test can be open, and its own page shows no banner: no read for it (the page a
            # browser sees right after every round trip).
            if refs and scope["path"] != roundtrip.relay_state_for(refs[-1]):
                found = await _open_among(refs, resources)
                if found is not None:
                    scope.setdefault("state", {})[BANNER_STATE] = found
        await self.app(scope, receive, send)


@router.get("/api/v1/open-test", response_model=OpenTestOut | None)
async def read_open_test(request: Request, response: Response, resources: ResourcesDep) -> OpenTestOut | None:
    """De inlogtest van deze browser die niet is afgerond (voor de melding op de helpsite), anders null."""
    response.headers.update(_NO_STORE)  # this browser's own test
    found = await lookup(request, resources)
    if found is None:
        return None
    return OpenTestOut(time=found.time, text=found.text, link_text=found.link_text, url=found.url)


@router.get(WAY_BACK, response_class=Response)
async def read_way_back(request: Request, resources: ResourcesDep) -> Response:
    """The short way back from the broker: to this browser's open test, or a page that says what to do."""
    found = await lookup(request, resources)
    if found is not None:
        return RedirectResponse(found.url, status_code=303, headers=_NO_STORE)
    # No open test here: perhaps it came back after all, or was answered. Its result is still worth a link.
    last = ownership.latest(request, resources.settings)
    session = await resources.store.run(resources.store.get_session, last) if last else None
    return TEMPLATES.TemplateResponse(
        request,
        "roundtrip/terug.html",
        {"last": roundtrip.relay_state_for(session.reference) if session is not None else None},
        headers=_NO_STORE,
    )


def install(app: FastAPI) -> None:
    """The routes and the middleware. Call it before ``middleware.install``: middleware added first runs
    innermost, so a request refused for its host, size or rate costs no database read."""
    app.include_router(router)
    app.add_middleware(OpenTestMiddleware)
