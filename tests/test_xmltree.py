"""The tree helpers must answer exactly what lxml's find/findall would: the checker's decisions rest on them."""

from __future__ import annotations

import pytest
from lxml import etree

from diagnostics.xmltree import Tags, child, children, text_of

NS = "urn:example"
DOCUMENT = f"""
<r xmlns="{NS}" xmlns:o="urn:other">
  <a/>
  <!-- a comment between elements -->
  <a><?pi x?><b>1</b><o:b>not ours</o:b><b>2</b></a>
  <a><b>3</b><b><c>deep</c></b></a>
  <o:a><b>other namespace</b></o:a>
</r>
"""
PATHS = [
    ("a",),
    ("b",),
    ("a", "b"),
    ("a", "b", "c"),
    ("a", "x"),
    ("x", "b"),
]


def _tags(path: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{{{NS}}}{name}" for name in path)


@pytest.mark.parametrize("path", PATHS, ids="/".join)
def test_children_and_child_match_lxml_findall_and_find(path: tuple[str, ...]) -> None:
    root = etree.fromstring(DOCUMENT)
    tags = _tags(path)
    expected_all = root.findall("/".join(tags))
    assert children(root, *tags) == expected_all
    assert child(root, *tags) is (expected_all[0] if expected_all else None)
    assert child(root, *tags) == root.find("/".join(tags))


def test_child_skips_a_first_match_without_the_deeper_part() -> None:
    # find("a/b") looks past the first <a>, which has no <b>: child() must do the same.
    root = etree.fromstring(DOCUMENT)
    found = child(root, *_tags(("a", "b")))
    assert found is not None and found.text == "1"


def test_helpers_accept_a_missing_element() -> None:
    assert children(None, "x") == []
    assert child(None, "x") is None
    assert text_of(None) == ""


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        ("<v>  plain  </v>", "plain"),
        ("<v></v>", ""),
        ("<v/>", ""),
        ("<v> ab<!-- hidden -->cd </v>", "abcd"),
        ("<v>ab<?pi hidden?>cd</v>", "abcd"),
        ("<v> a<x>b</x>c </v>", "abc"),
    ],
)
def test_text_of_ignores_comments_and_processing_instructions(xml: str, expected: str) -> None:
    assert text_of(etree.fromstring(xml)) == expected


def test_tags_builds_qualified_names_once() -> None:
    tags = Tags(NS)
    assert tags["Assertion"] == f"{{{NS}}}Assertion"
    assert tags["Assertion"] is tags["Assertion"]
    assert len(tags) == 1
