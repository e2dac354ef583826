"""The built help site at ``/``, leaving the JSON API's paths to the API.

A mount at ``/`` matches every path, and Starlette takes the first full match over a route that
matched only the path (wrong method). So ``/api/...`` must not match here: then the router answers
a known API path with the wrong method with 405 and ``Allow``, an unknown one with 404, both as
JSON through the one error handler in ``diagnostics.security``, instead of with the site's HTML 404.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from diagnostics.security import is_api_path


class SiteMount(Mount):
    """A mount that never matches an API path."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and is_api_path(scope["path"]):
            return Match.NONE, {}
        return super().matches(scope)


def site_mount(site_dir: Path) -> SiteMount:
    """The help site's static files at ``/`` (``index.html`` for folders, ``404.html`` when missing)."""
    return SiteMount("/", app=StaticFiles(directory=site_dir, html=True), name="site")
