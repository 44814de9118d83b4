"""The ``tidings`` command group and what every command shares: opening the archive and
turning tidings errors into one-line messages and exit codes.

Exit status: 0 on success; 1 when some input could not be handled (files
that failed to import are listed, feeds that failed to update) or the archive
failed; 2 on a usage error or input that cannot be used at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import InvalidInputError, TidingsError
from ..version import __version__

if TYPE_CHECKING:
    from ..archive import Archive

#: The environment variable naming the database (also read by :mod:`tidings.archive`).
DATABASE_ENV = "TIDINGS_DB"

__all__ = ["cli", "fail", "open_from_context", "print_json", "when"]


class _State:
    def __init__(self, db: Path | None) -> None:
        self.db = db


@contextmanager
def open_from_context(ctx: click.Context) -> Iterator[Archive]:
    """Open the archive named by --db/TIDINGS_DB; turn tidings errors into clean exits."""
    from ..archive import default_database_path, open_archive

    state = ctx.find_object(_State)
    db = state.db if state is not None else None
    try:
        with open_archive(db or default_database_path()) as archive:
            yield archive
    except InvalidInputError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(2)
    except TidingsError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(1)


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=DATABASE_ENV,
    help=f"The archive database (default: ${DATABASE_ENV}, else the user's data folder).",
)
@click.version_option(__version__, prog_name="tidings")
@click.pass_context
def cli(ctx: click.Context, db: Path | None) -> None:
    """tidings keeps the news: every article and every version of it."""
    ctx.obj = _State(db)


def fail(ctx: click.Context, message: str, status: int = 2) -> None:
    """Print one line on stderr and exit (2: unusable input, 1: something failed)."""
    click.echo(f"error: {message}", err=True)
    ctx.exit(status)


def when(moment: Any) -> str:
    """A time as the tables print it (UTC, to the minute), or "-"."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "-"
