"""Reading a parsed SAML tree: child elements by name, and text values.

The checker walks the same few levels of every message many times. lxml's ``find()`` with a path
(``a/b``) goes through its Python ElementPath engine; following the children directly is several
times faster, and these helpers keep that fast path readable. Semantics match ``find``/``findall``:
direct children only, in document order, exact ``{namespace}name`` tags.
"""

from __future__ import annotations

from lxml import etree


def children(element: etree._Element | None, *path: str) -> list[etree._Element]:
    """All elements at ``path`` below ``element``, like ``element.findall("a/b")``."""
    found = [element] if element is not None else []
    for tag in path:
        found = [node for parent in found for node in parent.iterchildren(tag)]
    return found


def child(element: etree._Element | None, *path: str) -> etree._Element | None:
    """The first element at ``path`` below ``element`` in document order, like ``element.find("a/b")``."""
    if element is None:
        return None
    if len(path) == 1:  # the common case: no lists, no recursion
        return next(element.iterchildren(path[0]), None)
    found = children(element, *path)
    return found[0] if found else None


def text_of(element: etree._Element | None) -> str:
    """The text value of ``element``: comments and processing instructions do not count, outer spaces do not."""
    if element is None:
        return ""
    if not len(element):  # no child nodes of any kind: the element's own text is all of it
        return (element.text or "").strip()
    return "".join(str(part) for part in element.itertext()).strip()


class Tags(dict[str, str]):
    """``{namespace}name`` tags of one namespace: ``Tags(SAML)["Assertion"]``, built once, then looked up."""

    def __init__(self, namespace: str) -> None:
        super().__init__()
        self.namespace = namespace

    def __missing__(self, name: str) -> str:
        tag = self[name] = f"{{{self.namespace}}}{name}"
        return tag
