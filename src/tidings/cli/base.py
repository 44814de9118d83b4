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
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ..errors import InvalidInputError, TidingsError
from ..version import __version__

if TYPE_CHECKING:
    from ..archive import Archive
    from ..config import Settings

__all__ = ["cli", "fail", "open_from_context", "plural", "print_json", "settings_from_context", "when"]


class _State:
    def __init__(self, db: str | None, config: Path | None) -> None:
        self.db = db
        self.config = config


def settings_from_context(ctx: click.Context, **flags: object | None) -> Settings:
    """The settings in effect: these flags (None: not given), then --db, the environment,
    the configuration file, the defaults. A bad configuration is a one-line error, exit 2."""
    import os

    from ..config import load_settings

    state = ctx.find_object(_State)
    if state is not None:
        flags.setdefault("database", state.db)
    try:
        return load_settings(
            config_file=state.config if state is not None else None, environ=os.environ, flags=flags
        )
    except InvalidInputError as exc:
        fail(ctx, str(exc))


@contextmanager
def open_from_context(ctx: click.Context) -> Iterator[Archive]:
    """Open the archive the settings name; turn tidings errors into clean exits."""
    from ..archive import open_archive

    settings = settings_from_context(ctx)
    try:
        with open_archive(
            settings.database,
            rules_dir=settings.rules,
            user_agent=settings.user_agent,
            images=settings.images,
            keep_responses=settings.keep_responses,
            warc_size=settings.warc_size,
            media=settings.media,
            warc=settings.warc,
        ) as archive:
            yield archive
    except InvalidInputError as exc:
        fail(ctx, str(exc), 2)
    except TidingsError as exc:
        fail(ctx, str(exc), 1)


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    metavar="PATH",
    help="The archive database (default: $TIDINGS_DB, else `database` in the configuration"
    " file, else tidings.sqlite3 in the user's data folder).",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The configuration file (default: $TIDINGS_CONFIG, else tidings.toml in the user's"
    " configuration folder, if there is one).",
)
@click.version_option(__version__, prog_name="tidings")
@click.pass_context
def cli(ctx: click.Context, db: str | None, config: Path | None) -> None:
    """tidings keeps the news: every article and every version of it."""
    ctx.obj = _State(db, config)


def fail(ctx: click.Context, message: str, status: int = 2) -> NoReturn:
    """Print one line on stderr and exit (2: unusable input, 1: something failed)."""
    click.echo(f"error: {message}", err=True)
    ctx.exit(status)
    raise AssertionError("not reached")  # ctx.exit raises


def when(moment: Any) -> str:
    """A time as the tables print it (UTC, to the minute), or "-"."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


def plural(count: int, noun: str) -> str:
    """``1 article``, ``2 articles``: a count and its noun (English plural in -s)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
