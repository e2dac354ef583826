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


def test_the_partials_the_help_site_shares_use_no_python_methods() -> None:
    # Zensical renders the theme with MiniJinja, which has no Python string methods (`.rstrip`): the partials the
    # theme links in must stay within what both engines run. The site root is the same for every base_url.
    shared = [path for path in (ROOT / "theme" / "partials").iterdir() if path.is_symlink()]
    assert shared
    for path in shared:
        assert not re.search(r"[\w)\]]\.(?!\d)\w+\(", path.read_text(encoding="utf-8")), path.name
    links = templating.ENVIRONMENT.get_template("_partials/site_links.html")
    for base_url, root in ((None, "/"), ("", "/"), (".", "./"), ("../..", "../../"), ("/", "/"), ("/sub/", "/sub/")):
        html = links.render() if base_url is None else links.render(base_url=base_url)
        assert f'href="{root}privacy/"' in html, (base_url, html)
