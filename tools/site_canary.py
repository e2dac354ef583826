"""Site canary: build the help site with Zensical beside MkDocs and list what differs. It reports; it never gates.

    make site-canary                      # after `make build` has rendered the snippets
    .venv/bin/python tools/site_canary.py [--source DIR] [--out build/site-canary]

Material for MkDocs 9 is in maintenance; Zensical, by the same makers, reads ``mkdocs.yml``. This shows how
far this site is from building with it. Both builds start from one copy of the site's sources (symbolic
links resolved, so the partials shared with the service come along), so neither touches the working tree
(Zensical keeps a ``.cache`` beside its configuration). ``--source`` builds another tree, for example a
copy with a fix you are trying. The report, also written to ``<out>/report.md``, lists:

- pages (HTML files) that only one of the two builds made;
- per page, the ``id`` attributes (headings, anchors, landmarks) that only one has;
- per page, our own marks that only one has: classes starting with ``inloghulp``, the ``<!--inloghulp:…-->``
  slots that ``diagnostics/page_frame.py`` cuts the service frame at, and links to our stylesheets and
  scripts: this shows whether the theme overrides in ``theme/`` were applied;
- our static files (``theme/assets``, ``docs/assets``) that the Zensical build lacks.

Exit 0 whenever it ran, with or without differences, also when Zensical fails on this site (that is then
the finding, with its error). Exit 2 only when it cannot run at all: Zensical is not installed, a source is
missing, or the MkDocs build it compares against fails. Nothing here is part of the product.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
# What mkdocs.yml reads: the pages, the theme overrides, the snippets' base paths.
SITE_SOURCES = ("mkdocs.yml", "docs", "theme", "includes", "build/snippets")
OUR_ASSET_DIRS = ("theme/assets", "docs/assets")
# Lines of a failed build's output kept in the report (the error, not the whole traceback).
ERROR_LINES = 6
LISTED = 12


class CannotRun(Exception):
    """The canary cannot compare anything (exit 2)."""


@dataclass
class Page:
    ids: set[str] = field(default_factory=set)
    marks: set[str] = field(default_factory=set)
    # Links inside the site: (target page, fragment, the link's text).
    links: set[tuple[str, str, str]] = field(default_factory=set)


def _site_target(page: str, href: str) -> tuple[str, str] | None:
    """The built file and fragment a link points at, or None for a link that leaves the site."""
    split = urlsplit(href)
    if split.scheme or split.netloc or not (split.path or split.fragment):
        return None
    resolved = urlsplit(urljoin(f"/{page}", href))
    path = resolved.path.lstrip("/")
    if path == "" or path.endswith("/"):
        path += "index.html"
    elif "." not in path.rsplit("/", 1)[-1]:
        path += "/index.html"
    return path, resolved.fragment


class _PageParser(HTMLParser):
    def __init__(self, name: str, our_assets: set[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.name = name
        self.page = Page()
        self.our_assets = our_assets
        self.link: tuple[str, str] | None = None
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        if self.link is not None:
            self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.link is not None:
            self.page.links.add((*self.link, " ".join("".join(self.text).split())))
            self.link = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if values.get("id"):
            self.page.ids.add(values["id"])
        if tag == "a" and "href" in values:
            self.link, self.text = _site_target(self.name, values["href"]), [values.get("aria-label", "")]
        for name in values.get("class", "").split():
            if name.startswith("inloghulp"):
                self.page.marks.add(f"class {name}")
        for attribute in ("href", "src"):
            reference = values.get(attribute, "").split("?")[0]
            if reference.rsplit("/", 1)[-1] in self.our_assets:
                self.page.marks.add(f"{tag} {reference.rsplit('/', 1)[-1]}")

    def handle_comment(self, data: str) -> None:
        if data.strip().startswith("inloghulp:"):
            self.page.marks.add(f"slot <!--{data.strip()}-->")


def _pages(site: Path, our_assets: set[str]) -> dict[str, Page]:
    pages = {}
    for path in sorted(site.rglob("*.html")):
        name = path.relative_to(site).as_posix()
        parser = _PageParser(name, our_assets)
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        pages[name] = parser.page
    return pages


def _our_assets(source: Path) -> dict[str, str]:
    """Our static files: name -> path inside the built site."""
    found = {}
    for directory in OUR_ASSET_DIRS:
        base = source / directory
        # Both theme/assets/x and docs/assets/x land at assets/x in the built site.
        for path in base.rglob("*") if base.is_dir() else ():
            if path.is_file():
                found[path.name] = path.relative_to(base.parent).as_posix()
    return found


def copy_sources(source: Path, work: Path) -> Path:
    """The site's sources, copied with symbolic links resolved; returns the copy's mkdocs.yml."""
    if work.exists():
        shutil.rmtree(work)
    for name in SITE_SOURCES:
        origin = source / name
        if not origin.exists():
            raise CannotRun(f"{origin} is missing (`make build` renders build/snippets)")
        target = work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, target, symlinks=False)
        else:
            shutil.copy2(origin, target)
    return work / "mkdocs.yml"


@dataclass
class Build:
    tool: str
    seconds: float
    ok: bool
    error: str = ""


def _run(tool: str, command: list[str], cwd: Path) -> Build:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env.setdefault("MKDOCS_SITE_URL", "http://127.0.0.1:8000/")
    started = time.monotonic()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False)
    seconds = time.monotonic() - started
    if result.returncode == 0:
        return Build(tool, seconds, True)
    # A Python traceback's frames ("  File …", source lines) say where; the lines after them say what.
    telling = [
        line
        for line in (result.stderr.strip() or result.stdout).splitlines()
        if line.strip() and not line.startswith("  ") and not line.startswith("Traceback (")
    ]
    # Zensical prints its progress ("Build started", "No issues found") before the error: start at the error.
    first_error = next((index for index, line in enumerate(telling) if "Error:" in line), 0)
    return Build(tool, seconds, False, "\n".join(telling[first_error:][-ERROR_LINES:]))


def zensical_command() -> list[str]:
    beside = Path(sys.executable).with_name("zensical")
    found = str(beside) if beside.exists() else shutil.which("zensical")
    if found is None:
        raise CannotRun("Zensical is not installed: `.venv/bin/pip install -e '.[dev]'` (PyPI package zensical)")
    return [found]


def zensical_version(command: list[str]) -> str:
    result = subprocess.run([*command, "--version"], capture_output=True, text=True, check=False)
    return "Zensical " + ((result.stdout or result.stderr).strip() or "of unknown version")


def _listed(items: set[str] | list[str]) -> str:
    ordered = sorted(items)
    shown = ", ".join(f"`{item}`" for item in ordered[:LISTED])
    return shown + (f" and {len(ordered) - LISTED} more" if len(ordered) > LISTED else "")


def _shown(links: set[tuple[str, str, str]]) -> set[str]:
    return {f'{target}{"#" + fragment if fragment else ""} "{text}"' for target, fragment, text in links}


def _broken(pages: dict[str, Page]) -> set[str]:
    """Links to a page the build lacks, or to an id that page lacks: "page -> target#fragment"."""
    found = set()
    for name, page in pages.items():
        for target, fragment, _text in page.links:
            if target in pages and (not fragment or fragment in pages[target].ids):
                continue
            if target.endswith(".html"):
                found.add(f"{name} -> {target}{'#' + fragment if fragment else ''}")
    return found


def compare(mkdocs_site: Path, zensical_site: Path, assets: dict[str, str]) -> list[str]:
    """The differences, as report lines."""
    ours = set(assets)
    before, after = _pages(mkdocs_site, ours), _pages(zensical_site, ours)
    lines = [f"- pages: MkDocs {len(before)}, Zensical {len(after)}"]
    if missing := set(before) - set(after):
        lines.append(f"- pages only MkDocs made ({len(missing)}): {_listed(missing)}")
    if extra := set(after) - set(before):
        lines.append(f"- pages only Zensical made ({len(extra)}): {_listed(extra)}")
    ids_total = marks_total = 0
    for name in sorted(set(before) & set(after)):
        page_lines = []
        if lost := before[name].ids - after[name].ids:
            page_lines.append(f"  - ids only in MkDocs ({len(lost)}): {_listed(lost)}")
        if gained := after[name].ids - before[name].ids:
            page_lines.append(f"  - ids only in Zensical ({len(gained)}): {_listed(gained)}")
        if lost_marks := before[name].marks - after[name].marks:
            page_lines.append(f"  - our marks only in MkDocs: {_listed(lost_marks)}")
        if gained_marks := after[name].marks - before[name].marks:
            page_lines.append(f"  - our marks only in Zensical: {_listed(gained_marks)}")
        if lost_links := before[name].links - after[name].links:
            page_lines.append(f"  - links only in MkDocs ({len(lost_links)}): {_listed(_shown(lost_links))}")
        if gained_links := after[name].links - before[name].links:
            page_lines.append(f"  - links only in Zensical ({len(gained_links)}): {_listed(_shown(gained_links))}")
        ids_total += len(before[name].ids ^ after[name].ids)
        marks_total += len(before[name].marks ^ after[name].marks)
        if page_lines:
            lines.extend([f"- `{name}`", *page_lines])
    lines.append(f"- differing ids over the pages both made: {ids_total}; differing marks of ours: {marks_total}")
    if broken := _broken(after) - _broken(before):
        lines.append(f"- links that lead nowhere in the Zensical build only ({len(broken)}): {_listed(broken)}")
    absent = {name for name, path in assets.items() if not (zensical_site / path).exists()}
    if absent:
        lines.append(f"- our static files missing from the Zensical build ({len(absent)}): {_listed(absent)}")
    return lines


def run(source: Path, out: Path) -> list[str]:
    command = zensical_command()
    work = out / "source"
    config = copy_sources(source, work)
    mkdocs_site, zensical_site = out / "mkdocs", out / "zensical"
    for directory in (mkdocs_site, zensical_site):
        if directory.exists():
            shutil.rmtree(directory)
    mkdocs = _run(
        "mkdocs",
        [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config), "-d", str(mkdocs_site)],
        work,
    )
    if not mkdocs.ok:
        raise CannotRun(f"the MkDocs build to compare against failed:\n{mkdocs.error}")
    zensical = _run("zensical", [*command, "build", "--clean", "-f", str(config)], work)
    # Zensical writes to site_dir, which mkdocs.yml leaves at its default: "site" beside the configuration.
    if (work / "site").exists():
        shutil.move(work / "site", zensical_site)
    else:
        zensical_site.mkdir(parents=True)
    lines = [
        "# Site canary: Zensical beside MkDocs",
        "",
        f"- source: `{source}`; {zensical_version(command)}",
        f"- MkDocs build: {mkdocs.seconds:.1f} s; Zensical build: {zensical.seconds:.1f} s, "
        + ("finished" if zensical.ok else "**failed**"),
    ]
    if not zensical.ok:
        lines += ["", "Zensical could not build this site:", "", "```text", zensical.error, "```", ""]
        lines.append("What it wrote before it stopped, compared with the MkDocs build:")
    lines += ["", *compare(mkdocs_site, zensical_site, _our_assets(work))]
    lines += ["", f"Both builds: `{mkdocs_site}`, `{zensical_site}`. This report does not gate anything."]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--source", type=Path, default=ROOT, help="the tree with mkdocs.yml (default: this one)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "site-canary", help="where both builds go")
    args = parser.parse_args(argv)
    try:
        lines = run(args.source.resolve(), args.out.resolve())
    except CannotRun as exc:
        print(f"site canary cannot run: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    report = "\n".join(lines) + "\n"
    (args.out / "report.md").write_text(report, encoding="utf-8")
    print(report, end="")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
