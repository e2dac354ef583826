"""The MkDocs hook that sends our extra_css and extra_javascript out as one file each (diagnostics/site_bundle.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from diagnostics import site_bundle

ROOT = Path(__file__).resolve().parent.parent


def mkdocs_lists() -> dict[str, list[str]]:
    """extra_css and extra_javascript as mkdocs.yml names them (its !ENV tags read as plain text)."""
    loader = type("Loader", (yaml.SafeLoader,), {})
    loader.add_multi_constructor("!", lambda _loader, _suffix, _node: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=loader)
    return {key: config[key] for key in ("extra_css", "extra_javascript")}


def fake_config(tmp_path: Path, css: list[Any], js: list[Any]) -> dict[str, Any]:
    return {
        "docs_dir": str(tmp_path / "docs"),
        "site_dir": str(tmp_path / "site"),
        "theme": SimpleNamespace(custom_dir=str(ROOT / "theme")),
        "extra_css": css,
        "extra_javascript": js,
    }


def test_the_built_site_names_one_hashed_stylesheet_and_one_script(tmp_path: Path) -> None:
    lists = mkdocs_lists()
    assert len(lists["extra_css"]) > 1 and len(lists["extra_javascript"]) > 1
    config = site_bundle.on_config(fake_config(tmp_path, *lists.values()))
    [css], [js] = config["extra_css"], config["extra_javascript"]
    assert re.fullmatch(r"assets/stylesheets/inloghulp\.[0-9a-f]{8}\.min\.css", css)
    assert re.fullmatch(r"assets/javascripts/inloghulp\.[0-9a-f]{8}\.min\.js", js)
    site_bundle.on_post_build(config)
    script = (tmp_path / "site" / js).read_text(encoding="utf-8")
    # Every source is in it, in the order of mkdocs.yml (a later widget may rely on an earlier one).
    firsts = [
        site_bundle.minify_js((ROOT / "theme" / path).read_text(encoding="utf-8")).splitlines()[1]
        for path in lists["extra_javascript"]
    ]
    positions = [script.index(line) for line in firsts]
    assert positions == sorted(positions)
    # Immutable caching in site_mount is safe only because a changed source changes the name.
    from diagnostics.site_mount import HASHED_ASSET

    assert HASHED_ASSET.fullmatch(js) and HASHED_ASSET.fullmatch(css)


def test_a_changed_source_gets_a_new_name_and_entries_with_attributes_keep_their_tag(tmp_path: Path) -> None:
    (tmp_path / "docs" / "js").mkdir(parents=True)
    source = tmp_path / "docs" / "js" / "a.js"
    source.write_text("(function () {\n  // why\n  go();\n})();\n", encoding="utf-8")
    module = SimpleNamespace(path="js/m.js", type="module", defer=False, async_=False)
    first = site_bundle.on_config(fake_config(tmp_path, [], ["js/a.js", module]))["extra_javascript"]
    source.write_text("(function () {\n  stop();\n})();\n", encoding="utf-8")
    second = site_bundle.on_config(fake_config(tmp_path, [], ["js/a.js", module]))["extra_javascript"]
    assert first[1] is module and second[1] is module
    assert first[0] != second[0]


def test_minifying_drops_comment_lines_and_indentation_only() -> None:
    source = '/* head\n * more */\n(function () {\n  // a note\n  var url = "http://x/*y*/";\n})();\n'
    assert site_bundle.minify_js(source) == '(function () {\nvar url = "http://x/*y*/";\n})();'
    assert site_bundle.minify_css("/* c */\n.a {\n  color: red; /* why */\n}\n") == ".a {\ncolor: red;\n}"


def test_our_sources_hold_what_the_safe_minifier_assumes() -> None:
    """No template literal (so no string spans a line) and one function expression per script."""
    for path in mkdocs_lists()["extra_javascript"]:
        text = (ROOT / "theme" / path).read_text(encoding="utf-8")
        assert "`" not in text, path
        code = site_bundle.minify_js(text)
        assert code.startswith("(function () {") and code.endswith("})();"), path


@pytest.mark.skipif(shutil.which("node") is None, reason="node checks the syntax where it is installed")
def test_the_script_bundle_is_valid_javascript(tmp_path: Path) -> None:
    config = site_bundle.on_config(fake_config(tmp_path, *mkdocs_lists().values()))
    site_bundle.on_post_build(config)
    bundle = tmp_path / "site" / config["extra_javascript"][0]
    result = subprocess.run(["node", "--check", str(bundle)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
