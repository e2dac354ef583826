"""A tiny element helper shared by the simulator's message builders (the names are in ``saml_names``)."""

from __future__ import annotations

from lxml import etree


def sub(parent: etree._Element, ns: str, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    """Append ``{ns}tag`` with ``attrs`` (and ``text``) to ``parent``."""
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element
