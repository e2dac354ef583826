"""MkDocs hook: our own ``extra_css`` and ``extra_javascript`` go out as one small file each.

The sources stay separate files (``theme/assets/``; each widget has its own, and people edit them side by
side); only the built site gets the bundle. One stylesheet and one script instead of three and five: fewer
requests, and one compressed stream instead of eight, so a first visit of the start page stays under its
100 kB (``tests/browser/test_transfer.py``). The bundle is named after a hash of its content, like
Material's own (``assets/javascripts/inloghulp.1a2b3c4d.min.js``), so ``site_mount`` may let browsers keep
it for a year: a changed source gives a new name.

"Minified" only as far as is safe without a parser: comment lines and indentation go, code stays as it
is. That holds for our sources: each script is one function expression (``(function () { … })();``)
without template literals, so no string spans a line and a line that starts with ``//`` or ``/*`` is a
comment; the scripts are joined with ``;`` so none can run on into the next. An entry with attributes
(``defer``, ``type: module``) is left out of the bundle and keeps its own tag.

Registered in ``mkdocs.yml`` under ``hooks``; no imports from the service, so a bare ``mkdocs build`` works.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

BUNDLE_NAME = "inloghulp"
# Kept between on_config and on_post_build of one build: {site path: bundled text}.
_BUNDLES: dict[str, str] = {}

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


def _source(config: Any, path: str) -> Path:
    """Where MkDocs takes an extra file from: the docs first, then our theme folder."""
    for folder in (config["docs_dir"], config["theme"].custom_dir):
        if folder and (candidate := Path(folder) / path).is_file():
            return candidate
    raise FileNotFoundError(f"{path}: not in docs_dir or the theme's custom_dir")


def _plain(entry: Any) -> str | None:
    """The path of an entry without attributes; None for one that must keep its own tag."""
    if isinstance(entry, str):
        return entry
    path = getattr(entry, "path", None)
    if isinstance(path, str) and not (getattr(entry, "type", "") or entry.defer or entry.async_):
        return path
    return None


def on_config(config: Any) -> Any:
    _BUNDLES.clear()
    for key, folder, suffix, bundle in (
        ("extra_css", "stylesheets", "css", bundle_css),
        ("extra_javascript", "javascripts", "js", bundle_js),
    ):
        entries = list(config[key])
        plain = [path for path in map(_plain, entries) if path is not None]
        if not plain:
            continue
        text = bundle([_source(config, path).read_text(encoding="utf-8") for path in plain])
        name = bundle_path(folder, text, suffix)
        _BUNDLES[name] = text
        config[key] = [name, *(entry for entry in entries if _plain(entry) is None)]
    return config


def on_post_build(config: Any) -> None:
    for name, text in _BUNDLES.items():
        target = Path(config["site_dir"]) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
