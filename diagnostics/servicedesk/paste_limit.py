"""How large a body the console's paste box takes: a whole HAR file, but only from a logged-in console user.

The app refuses any body above ``middleware.max_body_bytes`` (1.6 MB by default), which is plenty for one
SAML message. A HAR saved in the browser also holds the pages' scripts, styles and images: one test that
starts on the help site's home page came to 1.4 MB in Chromium, 1.9 MB as a form field. So the paste box
allows ``MAX_PASTE_BYTES``, and only to a request with a valid signed console session cookie (an HMAC check,
no database): anyone else still gets the app's own limit, so the larger limit is no lever for strangers.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.types import Scope

from diagnostics.servicedesk.web_session import session_claims
from diagnostics.settings import Settings

# A HAR of a few tests with their pages. Parsing it (JSON, twice: the answer, then the tests it names) takes
# some ten times this in memory, once, for one servicedesk user.
MAX_PASTE_BYTES = 16 * 1024 * 1024
PASTE_PATHS = frozenset({"/servicedesk/analyse", "/servicedesk/analyse/bewaar"})


def body_limit(settings: Settings) -> Callable[[Scope], int | None]:
    """For ``middleware.BodySizeLimitMiddleware``: the paste box's limit for a console user, else None."""

    def limit(scope: Scope) -> int | None:
        if scope.get("method") != "POST" or scope.get("path") not in PASTE_PATHS:
            return None
        return MAX_PASTE_BYTES if session_claims(Request(scope), settings) is not None else None

    return limit
