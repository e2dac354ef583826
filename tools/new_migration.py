"""Write the next revision: ``.venv/bin/python -m tools.new_migration "what changes"``.

It brings a scratch SQLite database to the current head, lets Alembic compare it with
``diagnostics.models`` and writes ``versions/<next number>_<slug>.py`` with the difference, formatted
by ruff when ruff is installed. Read what it wrote before you commit it (see the package docstring).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import Script

from diagnostics import db, migrations


def _format_with_ruff(config: Config) -> None:
    """Alembic's post-write hooks: the revision passes ``make lint`` as written."""
    ruff = Path(sys.executable).with_name("ruff")
    executable = str(ruff) if ruff.exists() else shutil.which("ruff")
    if executable is None:
        return
    config.set_section_option("post_write_hooks", "hooks", "ruff_fix, ruff_format")
    for hook, options in (("ruff_fix", "check --fix --quiet"), ("ruff_format", "format --quiet")):
        config.set_section_option("post_write_hooks", f"{hook}.type", "exec")
        config.set_section_option("post_write_hooks", f"{hook}.executable", executable)
        config.set_section_option("post_write_hooks", f"{hook}.options", f"{options} REVISION_SCRIPT_FILENAME")


def new_revision(message: str, *, directory: Path | None = None, autogenerate: bool = True) -> Path:
    """The path of the new revision, numbered one above the current head; ``directory`` defaults to
    ``versions/``. ``autogenerate=False`` writes an empty one (for a data migration)."""
    rev_id = f"{db.latest_version() + 1:04d}"
    with tempfile.TemporaryDirectory() as scratch:
        engine = db.make_engine(f"sqlite:///{Path(scratch) / 'head.sqlite3'}")
        try:
            db.create_schema(engine)
            with engine.begin() as connection:
                config = migrations.alembic_config(connection)
                _format_with_ruff(config)
                written = command.revision(
                    config,
                    message=message,
                    autogenerate=autogenerate,
                    rev_id=rev_id,
                    version_path=None if directory is None else str(directory),
                )
        finally:
            engine.dispose()
    if not isinstance(written, Script):
        raise RuntimeError(f"expected one revision, Alembic wrote {written!r}")
    return Path(written.path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.new_migration", description=__doc__)
    parser.add_argument("message", help='what the revision changes, e.g. "servicedesk_login_attempt: locked_until"')
    parser.add_argument("--empty", action="store_true", help="no autogenerate: an empty revision for data changes")
    args = parser.parse_args(argv)
    path = new_revision(args.message, autogenerate=not args.empty)
    print(f"written: {path}")  # noqa: T201


if __name__ == "__main__":
    main()
