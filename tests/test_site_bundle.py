"""The build step that sends our extra_css and extra_javascript out as one file each (diagnostics/site_bundle.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

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


def built_page(prefix: str, lists: dict[str, list[str]]) -> str:
    """A page as MkDocs' Material writes our extra files into it, between two of Material's own tags."""
    css = "".join(f'\n    <link rel="stylesheet" href="{prefix}{path}">' for path in lists["extra_css"])
    js = "".join(f'\n    <script src="{prefix}{path}"></script>' for path in lists["extra_javascript"])
    return (
        f'<head>\n    <link rel="stylesheet" href="{prefix}assets/stylesheets/main.57a0d79d.min.css">{css}\n</head>'
        f'<body>\n    <script src="{prefix}assets/javascripts/bundle.a5f9d56c.min.js"></script>{js}\n</body>'
    )


def test_every_built_page_names_one_hashed_stylesheet_and_one_script(tmp_path: Path) -> None:
    lists = mkdocs_lists()
    assert len(lists["extra_css"]) > 1 and len(lists["extra_javascript"]) > 1
    # The start page, a page one folder down, and the 404 page (absolute addresses, served at any depth).
    pages = {"index.html": "", "eherkenning/index.html": "../", "404.html": "/"}
    for page, prefix in pages.items():
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / page).write_text(built_page(prefix, lists), encoding="utf-8")
    css, js = site_bundle.bundle_site(ROOT / "mkdocs.yml", tmp_path)
    assert re.fullmatch(r"assets/stylesheets/inloghulp\.[0-9a-f]{8}\.min\.css", css)
    assert re.fullmatch(r"assets/javascripts/inloghulp\.[0-9a-f]{8}\.min\.js", js)
    for page, prefix in pages.items():
        html = (tmp_path / page).read_text(encoding="utf-8")
        assert re.findall(r'href="([^"]*)"', html) == [
            f"{prefix}assets/stylesheets/main.57a0d79d.min.css",
            prefix + css,
        ]
        assert re.findall(r'src="([^"]*)"', html) == [f"{prefix}assets/javascripts/bundle.a5f9d56c.min.js", prefix + js]
    script = (tmp_path / js).read_text(encoding="utf-8")
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


def write_site_config(tmp_path: Path, script: str) -> Path:
    (tmp_path / "docs" / "js").mkdir(parents=True, exist_ok=True)
    (tmp_path / "docs" / "js" / "a.js").write_text(script, encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        "site_url: !ENV [MKDOCS_SITE_URL, 'http://x/']\nextra_javascript:\n  - js/a.js\n"
        "  - path: js/m.js\n    type: module\n",
        encoding="utf-8",
    )
    return config


def test_a_changed_source_gets_a_new_name_and_entries_with_attributes_keep_their_tag(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    page = '<script src="js/a.js"></script>\n<script src="js/m.js" type="module"></script>'
    (site / "index.html").write_text(page, encoding="utf-8")
    config = write_site_config(tmp_path, "(function () {\n  // why\n  go();\n})();\n")
    [first] = site_bundle.bundle_site(config, site)
    assert (site / "index.html").read_text(encoding="utf-8") == (
        f'<script src="{first}"></script>\n<script src="js/m.js" type="module"></script>'
    )
    write_site_config(tmp_path, "(function () {\n  stop();\n})();\n")
    [second] = site_bundle.bundle_site(config, site)
    assert first != second


def test_a_page_that_names_only_some_sources_stops_the_build(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    lists = mkdocs_lists()
    html = built_page("", lists).replace(f'<script src="{lists["extra_javascript"][-1]}"></script>', "")
    (site / "index.html").write_text(html, encoding="utf-8")
    with pytest.raises(site_bundle.BundleError):
        site_bundle.bundle_site(ROOT / "mkdocs.yml", site)


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
    (tmp_path / "index.html").write_text(built_page("", mkdocs_lists()), encoding="utf-8")
    _, script = site_bundle.bundle_site(ROOT / "mkdocs.yml", tmp_path)
    result = subprocess.run(["node", "--check", str(tmp_path / script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
