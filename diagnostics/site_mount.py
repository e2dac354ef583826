"""The built help site at ``/``, leaving every path the service owns to the service.

A mount at ``/`` matches every path, and Starlette takes the first full match over a route that
matched only the path (wrong method). So the site must not match a path the service owns: then the
router answers a known path with the wrong method with the service's 405, whose ``Allow`` names the
methods of every route for that path (``PUT /saml/acs`` gets ``Allow: GET, POST``, not the file
server's ``GET, HEAD``; see ``diagnostics.allow``), through the one error handler in
``diagnostics.security``. Owned are ``/api/...`` (an unknown API path gets the API's JSON 404, not
the site's HTML 404) and every path a service route before the mount matches with any method; that
set comes from the app's own route list at request time, so a new route is covered without a list here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from starlette.routing import BaseRoute, Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from diagnostics.security import is_api_path


class SiteMount(Mount):
    """A mount that never matches an API path or a path a service route owns."""

    def __init__(self, site_dir: Path, service_routes: Sequence[BaseRoute]) -> None:
        super().__init__("/", app=StaticFiles(directory=site_dir, html=True), name="site")
        # The app's live route list (this mount is in it, last): routes added later are seen too.
        self._service_routes = service_routes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and (is_api_path(scope["path"]) or self._owned_by_service(scope)):
            return Match.NONE, {}
        return super().matches(scope)

    def _owned_by_service(self, scope: Scope) -> bool:
        # The router only gets here when no route before this mount matched fully, so a match now is a
        # partial one: the path is the service's, the method is not allowed there.
        for route in self._service_routes:
            if route is self:
                return False
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return True
        return False


def site_mount(site_dir: Path, service_routes: Sequence[BaseRoute]) -> SiteMount:
    """The help site's static files at ``/`` (``index.html`` for folders, ``404.html`` when missing).

    ``service_routes`` is the app's route list; append the mount to it last.
    """
    return SiteMount(site_dir, service_routes)
