"""tools/site_canary.py: what it reports about two builds of the site (no Zensical run here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import site_canary

PAGE = """<html><head><link rel="stylesheet" href="../assets/stylesheets/inloghulp.css"></head><body>
<a href="#inhoud">Naar de inhoud</a><h1 id="inhoud">Titel</h1><h2 id="stap-1">Stap 1</h2>
<a href="../begrippen/#eherkenning">eHerkenning</a>
<section class="inloghulp-contact"><h2 id="hulp-nodig">Hulp nodig?</h2></section>{extra}</body></html>"""


def _site(root: Path, pages: dict[str, str]) -> Path:
    for name, html in pages.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(html, encoding="utf-8")
    return root


def test_compare_names_missing_pages_ids_marks_and_dead_anchors(tmp_path: Path) -> None:
    begrippen = '<h1 id="begrippen">Begrippen</h1><dt id="eherkenning">eHerkenning</dt>'
    mkdocs = _site(
        tmp_path / "mkdocs",
        {
            "index.html": PAGE.format(extra=""),
            "begrippen/index.html": begrippen,
            "service_frame.html": "<!--inloghulp:content-->",
        },
    )
    zensical = _site(
        tmp_path / "zensical",
        {
            # The override's section and stylesheet are gone, one heading lost its id.
            "index.html": PAGE.format(extra="")
            .replace('<h2 id="stap-1">', "<h2>")
            .replace("inloghulp-contact", "x")
            .replace("inloghulp.css", "main.css"),
            "begrippen/index.html": begrippen.replace(' id="eherkenning"', ""),
        },
    )
    report = "\n".join(site_canary.compare(mkdocs, zensical, {"inloghulp.css": "assets/stylesheets/inloghulp.css"}))
    assert "pages only MkDocs made (1): `service_frame.html`" in report
    assert "ids only in MkDocs (1): `stap-1`" in report
    assert "`class inloghulp-contact`" in report and "`link inloghulp.css`" in report
    assert "index.html -> begrippen/index.html#eherkenning" in report
    assert "our static files missing from the Zensical build (1): `inloghulp.css`" in report


def test_identical_builds_report_no_difference(tmp_path: Path) -> None:
    pages = {"index.html": PAGE.format(extra=""), "begrippen/index.html": '<h1 id="eherkenning">x</h1>'}
    report = site_canary.compare(_site(tmp_path / "a", pages), _site(tmp_path / "b", pages), {})
    assert report == [
        "- pages: MkDocs 2, Zensical 2",
        "- differing ids over the pages both made: 0; differing marks of ours: 0",
    ]


def test_cannot_run_without_the_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert site_canary.main(["--source", str(tmp_path / "nothing"), "--out", str(tmp_path / "out")]) == 2
    assert "site canary cannot run" in capsys.readouterr().err
