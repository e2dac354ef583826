"""The ``Allow`` header of a 405: every method the routes for that path accept, not only the first route's.

Starlette answers a wrong method with the ``Allow`` of the first route that matched the path only, so
``PUT /saml/acs`` (one route for GET, one for POST) would name GET alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Scope

# The methods tried, in the order the header lists them.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> list[str]:
    """The methods for which a route fully matches the request's path; empty when only mounts serve it.

    Mounts are left out: they match a path whatever the method, and the app behind one (the help site's
    file server) sets its own ``Allow``.
    """
    result = []
    for method in METHODS:
        # A fresh scope: the request's own carries the routing state of the route that refused it.
        probe: Scope = {
            "type": "http",
            "method": method,
            "path": scope["path"],
            "root_path": scope.get("app_root_path", scope.get("root_path", "")),
            "headers": scope.get("headers", []),
        }
        if any(not isinstance(route, Mount) and route.matches(probe)[0] is Match.FULL for route in routes):
            result.append(method)
    return result
