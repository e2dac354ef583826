"""The service's one Jinja environment, with a loader per area (ARCHITECTURE.md, "Templates").

Two areas, one folder each: the service's pages and partials (``templates/``: round trip, beheerder card,
errors, operator pages, the frame's partials) and the servicedesk console (``servicedesk/templates/``). They
are searched in that order; no name is in both (a test keeps it so), so the order never decides which file
a page gets. The console's pages extend the service's ``base.html`` and include its partials, which is why
they share the environment rather than just its settings.

Built once, at import: it holds no resource to open or close (the loaders read a file the first time it is
asked for and keep the compiled template), and the site build renders the beheerder card with it while no
app runs. ``diagnostics.page_frame`` wraps it for responses and adds the frame.

The simulator keeps its own environment (``diagnostics.simulator.router``): it stands for another party's
site, with its own frame and no help-site parts, and must not import the service (import-linter contract).
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from diagnostics import localtime
from diagnostics.roundtrip_view import check_title

HERE = Path(__file__).parent
# Where each area's templates live, in search order.
AREAS: dict[str, Path] = {"service": HERE / "templates", "console": HERE / "servicedesk" / "templates"}


def environment() -> Environment:
    """The environment: autoescaped HTML (the rule Starlette's own environment uses), Dutch times, check names."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(folder) for folder in AREAS.values()]),
        autoescape=select_autoescape(),
    )
    localtime.register(env)
    # The Dutch name of a check in a trace (``{{ check.id | check_title }}``), for the result page and the console.
    env.filters["check_title"] = check_title
    return env


ENVIRONMENT = environment()
