"""MkDocs hooks (``hooks:`` in mkdocs.yml): the help site renders the service's shared partials.

Theme templates include them as ``service/<name>`` (e.g. ``service/_partials/help.html``), so the help
block and the footer links are written once, in ``diagnostics/templates/_partials/``.
"""

from __future__ import annotations

from typing import Any

from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, PrefixLoader

from diagnostics.page_frame import TEMPLATES_DIR


def on_env(env: Environment, **_context: Any) -> Environment:
    """Add the service's templates under the prefix ``service/`` to the theme's loader."""
    loaders: list[BaseLoader] = [PrefixLoader({"service": FileSystemLoader(TEMPLATES_DIR)})]
    if env.loader is not None:
        loaders.insert(0, env.loader)
    env.loader = ChoiceLoader(loaders)
    return env
