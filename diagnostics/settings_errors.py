"""A configuration that cannot be used, in readable lines that name the field (CLI and ``inloghulp explain``).

Beside the settings because it reads their validation errors; the commands only print the lines.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

_FIELD_PREFIX = re.compile(r"^(?P<field>[a-z_][a-z0-9_.]*): (?P<message>.*)$", re.DOTALL)

# Dutch first, English after the slash, like the messages of our own validators.
_PYDANTIC_MESSAGES: dict[str, str] = {
    "missing": "ontbreekt / field required",
    "extra_forbidden": "onbekend veld / unknown field",
    "string_too_long": "te lang: maximaal {max_length} tekens / at most {max_length} characters",
    "string_too_short": "te kort: minimaal {min_length} teken(s) / at least {min_length} character(s)",
    "too_short": "te weinig: minimaal {min_length} / at least {min_length} item(s)",
    "literal_error": "kies uit / must be one of: {expected}",
    "enum": "kies uit / must be one of: {expected}",  # a level: loa.Loa
    "less_than_equal": "maximaal {le} / at most {le}",
    "greater_than_equal": "minimaal {ge} / at least {ge}",
    "int_parsing": "geen geheel getal / not an integer",
    "bool_parsing": "verwacht true of false / expected true or false",
    "string_pattern_mismatch": "voldoet niet aan het patroon {pattern} / does not match {pattern}",
    "date_from_datetime_parsing": "verwacht een datum JJJJ-MM-DD / expected a date YYYY-MM-DD",
}


def _pydantic_line(error: Mapping[str, Any]) -> str:
    field = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    # Our model validators start their message with the field they are about.
    named = _FIELD_PREFIX.match(message) if error["type"] == "value_error" else None
    if named:
        field = f"{field}.{named['field']}" if field else named["field"]
        message = named["message"]
    elif error["type"] in _PYDANTIC_MESSAGES:
        message = _PYDANTIC_MESSAGES[error["type"]].format(**error.get("ctx", {}))
    return f"{field or '(bestand)'}: {message}"


def config_errors(exc: Exception) -> list[str]:
    """Readable lines for a configuration that cannot be used, each naming the field."""
    if isinstance(exc, ValidationError):
        return [_pydantic_line(error) for error in exc.errors()]
    if isinstance(exc, tomllib.TOMLDecodeError):
        return [f"(bestand): geen geldige TOML / not valid TOML: {exc}"]
    return [str(exc)]
