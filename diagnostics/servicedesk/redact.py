"""A last line of defence before a trace is shown: mask anything that still looks like an identifier.

The verdict contract already masks every check's detail and data (``diagnostics.verdict``); the console
passes what it shows through the same masker (``diagnostics.privacy.mask_text``) once more, so a value
that reached it some other way is masked too. There is one masker, not a second set of patterns here.
"""

from __future__ import annotations

from diagnostics.privacy import mask_text as redact_text
from diagnostics.privacy import mask_tree as redact

__all__ = ["redact", "redact_text"]
