"""The ``tidings`` command: each command is about one Archive call.

Exit status: 0 on success; 1 when some input could not be handled (files
that failed to import are listed) or the archive failed; 2 on a usage error
or input that cannot be used at all.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .archive import DATABASE_ENV, Archive, default_database_path, open_archive, read_feed
from .errors import InvalidInputError, TidingsError
from .export import FORMATS
from .model import ParsedEntry, ParsedFeed

F = TypeVar("F", bound=Callable[..., Any])


class _State:
    def __init__(self, db: Path | None) -> None:
        self.db = db


@contextmanager
def _archive(ctx: click.Context) -> Iterator[Archive]:
    """Open the archive named by --db/TIDINGS_DB; turn tidings errors into clean exits."""
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


def _print_json(value: Any) -> None:
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


@cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--site", help="Put every article in this site instead of the folder's.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def import_command(ctx: click.Context, path: Path, site: str | None, as_json: bool) -> None:
    """Import archive documents: a repository (articles/<site>/…), a folder, or one file.

    Files that cannot be read are reported with the reason; the others are
    imported and the exit status is 1. Importing the same files again adds
    nothing.
    """
    with _archive(ctx) as archive:
        if sys.stderr.isatty() and not as_json:
            with click.progressbar(length=0, label="importing", file=sys.stderr) as bar:

                def progress(done: int, total: int) -> None:
                    bar.length = total
                    bar.update(done - bar.pos)

                report = archive.import_documents(path, site=site, progress=progress)
        else:
            report = archive.import_documents(path, site=site)
    for problem in report.errors:
        click.echo(f"error: {problem.path}: {problem.reason}", err=True)
    if as_json:
        _print_json(asdict(report))
    elif report.files and report.unchanged == report.files - len(report.errors):
        click.echo(f"nothing new: all {report.unchanged} readable files are already archived")
    else:
        click.echo(
            f"{report.files} files: {report.new_articles} new articles,"
            f" {report.new_revisions} new revisions, {report.unchanged} unchanged,"
            f" {len(report.errors)} failed"
        )
    if report.errors:
        ctx.exit(1)


@cli.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    required=True,
    help="documents: the original repository layout; jsonl: one JSON article per line.",
)
@click.argument("out", required=False, type=click.Path(path_type=Path))
@click.option("--site", help="Export only this site.")
@click.pass_context
def export_command(ctx: click.Context, fmt: str, out: Path | None, site: str | None) -> None:
    """Export the archive to OUT (a folder for documents; a file or stdout for jsonl)."""
    with _archive(ctx) as archive:
        if fmt == "documents":
            if out is None:
                raise click.UsageError("--format documents needs an OUT folder")
            report = archive.export_documents(out, site=site)
            for problem in report.renamed:
                click.echo(f"note: {problem.path}: {problem.reason}", err=True)
            click.echo(
                f"{report.articles} articles: {report.written} files written,"
                f" {report.unchanged} unchanged, in {out}"
            )
        elif out is None or str(out) == "-":
            archive.export_jsonl(sys.stdout, site=site)
        else:
            with open(out, "w", encoding="utf-8", newline="\n") as handle:
                count = archive.export_jsonl(handle, site=site)
            click.echo(f"{count} articles written to {out}", err=True)


@cli.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_context
def stats_command(ctx: click.Context, as_json: bool) -> None:
    """Show how many sites, feeds, articles and revisions the archive holds."""
    with _archive(ctx) as archive:
        stats = archive.stats()
        sites = archive.sites()
    if as_json:
        _print_json({**asdict(stats), "site_names": sites})
        return
    click.echo(f"sites:     {stats.sites}")
    click.echo(f"feeds:     {stats.feeds}")
    click.echo(f"articles:  {stats.articles}")
    click.echo(f"revisions: {stats.revisions}")
    click.echo(f"database:  {stats.database_bytes / 1_048_576:.1f} MiB")


def _iso(moment: Any) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def entry_json(entry: ParsedEntry) -> dict[str, Any]:
    """The JSON object ``tidings inspect --json`` prints for an entry."""
    return {
        "id": entry.id,
        "link": entry.link,
        "title": entry.title,
        "author": entry.author,
        "published": _iso(entry.published),
        "updated": _iso(entry.updated),
        "summary": entry.summary,
        "content": entry.content,
        "enclosures": [
            {"url": e.url, "type": e.type, "length": e.length, "medium": e.medium, "title": e.title}
            for e in entry.enclosures
        ],
        "categories": list(entry.categories),
        "language": entry.language,
    }


def feed_json(feed: ParsedFeed) -> dict[str, Any]:
    """The JSON document ``tidings inspect --json`` prints."""
    return {
        "feed": {
            "title": feed.title,
            "link": feed.link,
            "language": feed.language,
            "id": feed.id,
            "subtitle": feed.subtitle,
            "updated": _iso(feed.updated),
            "author": feed.author,
            "image": feed.image,
            "ttl_minutes": feed.ttl_minutes,
            "categories": list(feed.categories),
            "version": feed.version,
            "encoding": feed.encoding,
            "recovered": feed.recovered,
            "problems": list(feed.problems),
        },
        "entries": [entry_json(e) for e in feed.entries],
    }


@cli.command("inspect")
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print the parsed feed as JSON.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait for a URL.")
@click.pass_context
def inspect_command(ctx: click.Context, source: str, as_json: bool, timeout: float) -> None:
    """Parse a feed (a URL, file:// URL or local path) and print what tidings reads in it.

    Exit status 2, with a one-line error, when SOURCE is not a feed.
    """
    try:
        feed = read_feed(source, timeout=timeout)
    except InvalidInputError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(2)
    except TidingsError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(1)
    if as_json:
        _print_json(feed_json(feed))
        return
    click.echo(f"{feed.title or '(untitled)'}  [{feed.version}, {feed.encoding}]")
    if feed.link:
        click.echo(feed.link)
    if feed.language:
        click.echo(f"language: {feed.language}")
    for problem in feed.problems:
        click.echo(f"problem: {problem}")
    click.echo(f"{len(feed.entries)} entries")
    for entry in feed.entries:
        when = _iso(entry.published or entry.updated) or "-"
        click.echo(f"- {when}  {entry.title or '(untitled)'}")
        if entry.link:
            click.echo(f"  {entry.link}")


def main() -> None:
    """Entry point of the ``tidings`` command."""
    cli(prog_name="tidings")
