"""One Jinja environment for the service, with a loader per area; the simulator keeps its own."""

from __future__ import annotations

import re
from pathlib import Path

from diagnostics import errors, page_frame, templating
from diagnostics.servicedesk import router as console
from diagnostics.simulator import router as simulator

ROOT = Path(__file__).resolve().parent.parent
# Where a Jinja environment may be made: the service's one, and the simulator's (another party's site).
MAKERS = {"diagnostics/templating.py", "diagnostics/simulator/router.py"}


def test_every_service_page_and_the_card_render_through_one_environment() -> None:
    assert page_frame.TEMPLATES.env is templating.ENVIRONMENT
    assert console.TEMPLATES is page_frame.TEMPLATES
    assert errors.TEMPLATES is page_frame.TEMPLATES
    assert simulator.templates.env is not templating.ENVIRONMENT


def test_only_the_service_and_the_simulator_make_an_environment() -> None:
    making = re.compile(r"(?<![`\w])(?:Environment|Jinja2Templates)\((?!env=)")
    found = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "diagnostics").rglob("*.py")
        if making.search(path.read_text(encoding="utf-8"))
    }
    assert found == MAKERS


def test_no_template_name_is_in_two_areas() -> None:
    # The loader searches the areas in order: with no name in two of them, the order never picks the file.
    seen: dict[str, str] = {}
    for area, folder in templating.AREAS.items():
        for path in folder.rglob("*.html"):
            name = path.relative_to(folder).as_posix()
            assert name not in seen, f"{name} is in {seen[name]} and {area}"
            seen[name] = area
