"""The one rule for redirect targets: only a same-origin relative path, in every encoding."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit


def safe_redirect_target(value: str | None) -> str | None:
    """``value`` when it is a same-origin relative path such as ``/x?y``; otherwise None.

    Refused: absolute and scheme-relative URLs (``https://evil``, ``//evil``), backslashes (browsers
    read ``/\\evil`` as ``//evil``), control characters and whitespace, and every percent-encoded
    form of these (decoded repeatedly, because some hops decode once more).
    """
    if not value or len(value) > 2048:
        return None
    candidate = value
    for _ in range(4):
        if not _plain_path(candidate):
            return None
        decoded = unquote(candidate)
        if decoded == candidate:
            return value
        candidate = decoded
    return None  # still changing after several rounds of decoding: not a plain path


def _plain_path(value: str) -> bool:
    if not value.startswith("/") or value.startswith("//"):
        return False
    if "\\" in value or any(ord(char) < 0x21 or ord(char) == 0x7F for char in value):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc
