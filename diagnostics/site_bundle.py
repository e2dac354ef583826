"""After ``mkdocs build``: our own ``extra_css`` and ``extra_javascript`` go out as one small file each.

The sources stay separate files (``theme/assets/``; each widget has its own, and people edit them side by
side); only the built site gets the bundle. One stylesheet and one script instead of three and five: fewer
requests, and one compressed stream instead of eight, so a first visit of the start page stays under its
100 kB (``tests/browser/test_transfer.py``). The bundle is named after a hash of its content, like
Material's own (``assets/javascripts/inloghulp.1a2b3c4d.min.js``), so ``site_mount`` may let browsers keep
it for a year: a changed source gives a new name.

A step of ``inloghulp build`` (``sitebuild.build_site``), not a MkDocs hook: ``mkdocs.yml`` stays free of
``hooks:`` so Zensical can read it (``make site-canary``); a bare ``mkdocs build`` gives the same site with
the separate files. The step writes the bundles and, in every built page, puts one tag for each bundle where
the first source's tag was and drops the others.

"Minified" only as far as is safe without a parser: comment lines and indentation go, code stays as it
is. That holds for our sources: each script is one function expression (``(function () { … })();``)
without template literals, so no string spans a line and a line that starts with ``//`` or ``/*`` is a
comment; the scripts are joined with ``;`` so none can run on into the next. An entry with attributes
(``defer``, ``type: module``) is left out of the bundle and keeps its own tag.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml

BUNDLE_NAME = "inloghulp"

_BLOCK_COMMENT_LINES = re.compile(r"^[ \t]*/\*.*?\*/[ \t]*\n?", re.MULTILINE | re.DOTALL)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def minify_js(source: str) -> str:
    """Comment lines (``//`` and ``/* … */`` that start a line) and indentation removed."""
    source = _BLOCK_COMMENT_LINES.sub("", source)
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//"))


def minify_css(source: str) -> str:
    """Comments and indentation removed (our stylesheets hold no ``/*`` inside a string)."""
    lines = (line.strip() for line in _CSS_COMMENT.sub("", source).splitlines())
    return "\n".join(line for line in lines if line)


def bundle_js(sources: list[str]) -> str:
    return "".join(f"{minify_js(source)}\n;\n" for source in sources)


def bundle_css(sources: list[str]) -> str:
    return "".join(f"{minify_css(source)}\n" for source in sources)


def bundle_path(folder: str, text: str, suffix: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"assets/{folder}/{BUNDLE_NAME}.{digest}.min.{suffix}"


class BundleError(RuntimeError):
    """A built page names some of the sources but not in the form or order MkDocs writes them."""


# How MkDocs' Material writes an extra_css and a plain extra_javascript entry into a page; {prefix} is the
# page's way to the site root ("../", "/" on the 404 page and the service frame, "" on the start page).
_TAGS = {
    "css": ('<link rel="stylesheet" href="', '">'),
    "js": ('<script src="', '"></script>'),
}


class _PlainLoader(yaml.SafeLoader):
    """Reads mkdocs.yml as plain data: its ``!ENV`` and other tags read as nothing (only the lists matter)."""


_PlainLoader.add_multi_constructor("!", lambda _loader, _suffix, _node: None)


def _read_config(config_file: Path) -> dict[str, Any]:
    config: dict[str, Any] = yaml.load(config_file.read_text(encoding="utf-8"), Loader=_PlainLoader)
    return config


def _source(folders: list[Path], path: str) -> Path:
    """Where MkDocs takes an extra file from: the docs first, then our theme folder."""
    for folder in folders:
        if (candidate := folder / path).is_file():
            return candidate
    raise FileNotFoundError(f"{path}: not in docs_dir or the theme's custom_dir")


def _point_at_bundle(html: str, suffix: str, sources: list[str], bundle: str) -> str:
    """``html`` with the first source's tag naming ``bundle`` and the other sources' tags gone."""
    opening, closing = (re.escape(part) for part in _TAGS[suffix])
    found = [
        re.search(rf"(?P<lead>\n?[ \t]*){opening}(?P<prefix>[^\"]*?){re.escape(source)}{closing}", html)
        for source in sources
    ]
    if not any(found):
        return html  # a page without our assets: nothing to do
    matches = [match for match in found if match is not None]
    if len(matches) != len(sources) or [m.start() for m in matches] != sorted(m.start() for m in matches):
        raise BundleError(f"a page names only some of {sources}, or not in the order of mkdocs.yml")
    first = matches[0]
    tag = f"{first['lead']}{_TAGS[suffix][0]}{first['prefix']}{bundle}{_TAGS[suffix][1]}"
    pieces, at = [], 0
    for match in matches:
        pieces += [html[at : match.start()], tag if match is first else ""]
        at = match.end()
    return "".join(pieces) + html[at:]


def bundle_site(config_file: Path, site_dir: Path) -> list[str]:
    """Write the bundles into ``site_dir`` and point every built page at them; the bundles' site paths."""
    config = _read_config(config_file)
    root = config_file.parent
    theme = config.get("theme") or {}
    folders = [
        root / config.get("docs_dir", "docs"),
        *([root / theme["custom_dir"]] if theme.get("custom_dir") else []),
    ]
    pages = {page: page.read_text(encoding="utf-8") for page in site_dir.rglob("*.html")}
    written = []
    for key, folder, suffix, bundle in (
        ("extra_css", "stylesheets", "css", bundle_css),
        ("extra_javascript", "javascripts", "js", bundle_js),
    ):
        # Entries with attributes are mappings in mkdocs.yml; they keep their own tags.
        sources = [entry for entry in config.get(key) or [] if isinstance(entry, str)]
        if not sources:
            continue
        text = bundle([_source(folders, path).read_text(encoding="utf-8") for path in sources])
        name = bundle_path(folder, text, suffix)
        target = site_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(name)
        pages = {page: _point_at_bundle(html, suffix, sources, name) for page, html in pages.items()}
    for page, html in pages.items():
        page.write_text(html, encoding="utf-8")
    return written
