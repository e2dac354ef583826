"""Build the help site: render the configuration-driven snippets, run ``mkdocs build``, bundle our assets.

Pages include the snippets with ``--8<--``, so the static site shows the same values as the service
(beheerder card, failure catalogue) and works without JavaScript.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from diagnostics import site_bundle
from diagnostics.settings import Settings

SNIPPET_DIR = Path("build/snippets")

# Each generator returns {file name: Markdown/HTML text}.
SnippetGenerator = Callable[[Settings], dict[str, str]]


def generators() -> list[SnippetGenerator]:
    """The modules whose output the help pages include; add yours to this list."""
    from diagnostics import beheerder_card, catalogue_site

    return [catalogue_site.snippets, beheerder_card.snippets]


def render_snippets(settings: Settings, directory: Path = SNIPPET_DIR) -> list[Path]:
    """Write every registered snippet; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for generator in generators():
        for name, text in generator(settings).items():
            path = directory / name
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def build_site(settings: Settings, *, strict: bool = True, config_file: Path = Path("mkdocs.yml")) -> int:
    """Render snippets and build the site into ``settings.site_dir``; returns mkdocs' exit code."""
    render_snippets(settings)
    # No "-q": mkdocs 1.6 stops counting warnings when quiet, so --strict would pass a broken link.
    command = [sys.executable, "-m", "mkdocs", "build", "-f", str(config_file), "-d", str(settings.site_dir)]
    if strict:
        command.append("--strict")
    # mkdocs.yml reads site_url from MKDOCS_SITE_URL: canonical links and sitemap name the configured host.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "MKDOCS_SITE_URL": f"{settings.public_base_url}/"}
    returncode = subprocess.run(command, env=env, check=False).returncode
    if returncode == 0:
        site_bundle.bundle_site(config_file, settings.site_dir)
    return returncode
