"""The ``tidings`` command: each command is about one Archive call.

Exit status: 0 on success; 1 when some input could not be handled (files
that failed to import are listed) or the archive failed; 2 on a usage error
or input that cannot be used at all.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .archive import DATABASE_ENV, Archive, default_database_path, open_archive, read_feed
from .clean import Cleaner
from .errors import InvalidInputError, TidingsError
from .export import FORMATS
from .model import Feed, FeedOptions, FeedState, ParsedEntry, ParsedFeed, iso_utc
from .update import FeedOutcome, UpdateSummary

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
@click.option(
    "--no-derive",
    is_flag=True,
    help="Only import: leave cleaning and indexing to the next update (or reclean).",
)
@click.pass_context
def import_command(
    ctx: click.Context, path: Path, site: str | None, as_json: bool, no_derive: bool
) -> None:
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
        derived = 0 if no_derive else archive.derive()
    for problem in report.errors:
        click.echo(f"error: {problem.path}: {problem.reason}", err=True)
    if as_json:
        _print_json({**asdict(report), "derived": derived})
    elif report.files and report.unchanged == report.files - len(report.errors):
        click.echo(f"nothing new: all {report.unchanged} readable files are already archived")
    else:
        click.echo(
            f"{report.files} files: {report.new_articles} new articles,"
            f" {report.new_revisions} new revisions, {report.unchanged} unchanged,"
            f" {len(report.errors)} failed"
        )
    if derived and not as_json:
        click.echo(f"clean HTML and text derived for {derived} revisions")
    if report.errors:
        ctx.exit(1)


@cli.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    required=True,
    help="documents: the original repository layout; jsonl: one JSON article per line;"
    " opml: the subscriptions.",
)
@click.argument("out", required=False, type=click.Path(path_type=Path))
@click.option("--site", help="Export only this site.")
@click.pass_context
def export_command(ctx: click.Context, fmt: str, out: Path | None, site: str | None) -> None:
    """Export the archive to OUT (a folder for documents; a file or stdout for jsonl and opml)."""
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
        elif fmt == "opml":
            data = archive.export_opml()
            if out is None or str(out) == "-":
                click.echo(data.decode("utf-8"), nl=False)
            else:
                out.write_bytes(data)
                click.echo(f"{len(archive.feeds())} feeds written to {out}", err=True)
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


def entry_json(entry: ParsedEntry) -> dict[str, Any]:
    """The JSON object ``tidings inspect --json`` prints for an entry."""
    return {
        "id": entry.id,
        "link": entry.link,
        "title": entry.title,
        "author": entry.author,
        "published": iso_utc(entry.published),
        "updated": iso_utc(entry.updated),
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
            "updated": iso_utc(feed.updated),
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
@click.argument("source", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the parsed feed as JSON.")
@click.option("--clean", "show_clean", is_flag=True, help="Also show each entry's clean HTML (with --json) and text.")
@click.option("--article", "article_id", type=int, help="Show the clean HTML and text of an archived article instead.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait for a URL.")
@click.pass_context
def inspect_command(
    ctx: click.Context,
    source: str | None,
    as_json: bool,
    show_clean: bool,
    article_id: int | None,
    timeout: float,
) -> None:
    """Parse a feed (a URL, file:// URL or local path) and print what tidings reads in it.

    Exit status 2, with a one-line error, when SOURCE is not a feed.
    """
    if article_id is not None:
        _inspect_article(ctx, article_id, as_json)
        return
    if source is None:
        raise click.UsageError("give a feed SOURCE, or --article ID")
    try:
        feed = read_feed(source, timeout=timeout)
    except InvalidInputError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(2)
    except TidingsError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(1)
    cleaner = Cleaner() if show_clean else None
    if as_json:
        document = feed_json(feed)
        if cleaner is not None:
            for record, entry in zip(document["entries"], feed.entries):
                cleaned = _clean_entry(cleaner, entry)
                record["clean_html"], record["text"] = cleaned.html, cleaned.text
        _print_json(document)
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
        when = iso_utc(entry.published or entry.updated) or "-"
        click.echo(f"- {when}  {entry.title or '(untitled)'}")
        if entry.link:
            click.echo(f"  {entry.link}")
        if cleaner is not None:
            for paragraph in _clean_entry(cleaner, entry).text.split("\n\n"):
                click.echo(f"    {paragraph}")


def _clean_entry(cleaner: Cleaner, entry: ParsedEntry) -> Any:
    content = entry.content if entry.content is not None else entry.summary
    return cleaner.clean(content, base_url=entry.base or entry.link, site_url=entry.link)


def _inspect_article(ctx: click.Context, article_id: int, as_json: bool) -> None:
    with _archive(ctx) as archive:
        article = archive.get_article(article_id)
        revisions = archive.revisions(article_id)
        latest = revisions[-1]
        cleaned = archive.cleaner.clean(latest.content_html, base_url=article.url, site_url=article.url)
    if as_json:
        _print_json(
            {
                "id": article.id,
                "site": article.site,
                "url": article.url,
                "title": latest.title,
                "revisions": len(revisions),
                "clean_html": cleaned.html,
                "text": cleaned.text,
            }
        )
        return
    click.echo(f"{latest.title}\n{article.url}\n{article.site}, {len(revisions)} revisions\n")
    click.echo(cleaned.text)


@cli.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="Results per page.")
@click.option("--cursor", help="Continue after the page that printed this cursor.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.pass_context
def search_command(ctx: click.Context, query: tuple[str, ...], limit: int, cursor: str | None, as_json: bool) -> None:
    """Search the archive. Words and Chinese of any length, "phrases", OR, -word, prefix*,
    site:NAME feed:ID lang:zh since:2023-11-01 until:2023-11-30."""
    with _archive(ctx) as archive:
        page = archive.search(" ".join(query), limit=limit, cursor=cursor)
    if as_json:
        _print_json(
            {
                "hits": [
                    {
                        "id": hit.article_id,
                        "site": hit.site,
                        "title": hit.title,
                        "link": hit.url,
                        "published": iso_utc(hit.published),
                        "snippet": hit.snippet,
                        "score": hit.score,
                        "sources": list(hit.sources),
                    }
                    for hit in page.hits
                ],
                "next_cursor": page.next_cursor,
            }
        )
        return
    if not page.hits:
        click.echo("no results")
    tty = sys.stdout.isatty()
    for hit in page.hits:
        when = hit.published.strftime("%Y-%m-%d") if hit.published else "-"
        click.echo(f"{hit.article_id:>7}  {hit.title}  [{' / '.join(hit.sources)}, {when}]")
        click.echo(f"         {hit.url}")
        click.echo(f"         {_terminal_snippet(hit.snippet, tty)}")
    if page.next_cursor:
        click.echo(f"more: --cursor {page.next_cursor}")


def _terminal_snippet(snippet: str, tty: bool) -> str:
    import html as html_module

    opening, closing = ("\x1b[1m", "\x1b[0m") if tty else ("【", "】")
    return html_module.unescape(snippet.replace("<mark>", opening).replace("</mark>", closing))


@cli.command("reindex")
@click.pass_context
def reindex_command(ctx: click.Context) -> None:
    """Drop the search index and build it again from the archive (nothing else changes)."""
    with _archive(ctx) as archive:
        started = time.perf_counter()
        count = archive.reindex()
        seconds = time.perf_counter() - started
    click.echo(f"{count} articles indexed in {seconds:.1f} s")


@cli.command("reclean")
@click.pass_context
def reclean_command(ctx: click.Context) -> None:
    """Derive clean HTML and text again for every revision (after cleaning rules changed).

    The HTML as received is never changed.
    """
    with _archive(ctx) as archive:
        started = time.perf_counter()
        count = archive.reclean()
        seconds = time.perf_counter() - started
    click.echo(f"{count} revisions cleaned again in {seconds:.1f} s")


def _when(moment: Any) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


def feed_record(feed: Feed) -> dict[str, Any]:
    """The JSON object ``tidings feeds --json`` prints for a feed."""
    return {
        "id": feed.id,
        "site": feed.site,
        "url": feed.url,
        "title": feed.title,
        "state": feed.state.value,
        "interval_minutes": feed.interval_seconds / 60,
        "current_interval_minutes": feed.current_interval_seconds / 60,
        "last_fetch": iso_utc(feed.last_fetch),
        "last_success": iso_utc(feed.last_success),
        "next_fetch": iso_utc(feed.next_fetch),
        "last_status": feed.last_status,
        "articles": feed.article_count,
        "consecutive_errors": feed.error_count,
        "error_kind": feed.error_kind,
        "error_message": feed.error_message,
        "options": asdict(feed.options),
    }


_RULE_OPTIONS = [
    ("--keep-title", "keep_title", "Keep only entries whose title matches REGEX."),
    ("--keep-category", "keep_category", "Keep only entries with a category matching REGEX."),
    ("--keep-author", "keep_author", "Keep only entries whose author matches REGEX."),
    ("--block-title", "block_title", "Drop entries whose title matches REGEX."),
    ("--block-category", "block_category", "Drop entries with a category matching REGEX."),
    ("--block-author", "block_author", "Drop entries whose author matches REGEX."),
]


def _rule_options(func: F) -> F:
    for flag, name, text in reversed(_RULE_OPTIONS):
        func = click.option(flag, name, metavar="REGEX", help=text)(func)
    return func


@cli.command("add")
@click.argument("url", required=False)
@click.option("--site", help="Site the feed's articles belong to (default: the URL's host).")
@click.option("--interval", type=click.FloatRange(min=1), default=60, show_default=True, help="Minutes between fetches (adapted to how often the feed publishes).")
@click.option("--preset", is_flag=False, flag_value="original", default=None, help="Subscribe to a shipped list of feeds (default: original, the original system's feeds).")
@click.option("--full-text", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True, help="When to fetch article pages for the full text.")
@_rule_options
@click.pass_context
def add_command(
    ctx: click.Context,
    /,
    url: str | None,
    site: str | None,
    interval: float,
    preset: str | None,
    full_text: str,
    **rules: str | None,
) -> None:
    """Subscribe to a feed: an http(s) URL, a file:// URL or a local path."""
    if (url is None) == (preset is None):
        raise click.UsageError("give a feed URL or --preset, not both or neither")
    with _archive(ctx) as archive:
        if preset is not None:
            added = archive.add_preset(preset)
            for feed in added:
                click.echo(f"added {feed.id}: {feed.site}  {feed.url}")
            click.echo(f"{len(added)} feeds added from preset {preset!r}")
            return
        assert url is not None
        options = FeedOptions(full_text=full_text, **{k: v for k, v in rules.items() if v})
        feed = archive.add_feed(url, site=site, interval_minutes=interval, options=options)
    click.echo(f"added {feed.id}: {feed.site}  {feed.url}")


@cli.command("remove")
@click.argument("feed")
@click.pass_context
def remove_command(ctx: click.Context, feed: str) -> None:
    """Unsubscribe from FEED (its id or URL). Its articles stay in the archive."""
    with _archive(ctx) as archive:
        removed = archive.remove_feed(feed)
    click.echo(f"removed {removed.id}: {removed.url} ({removed.article_count} articles kept)")


@cli.command("pause")
@click.argument("feed")
@click.pass_context
def pause_command(ctx: click.Context, feed: str) -> None:
    """Stop fetching FEED (its id or URL); it stays subscribed and shown."""
    _set_state(ctx, feed, FeedState.PAUSED)


@cli.command("resume")
@click.argument("feed")
@click.pass_context
def resume_command(ctx: click.Context, feed: str) -> None:
    """Fetch a paused (or gone) FEED again; it is due at once."""
    _set_state(ctx, feed, FeedState.ACTIVE)


def _set_state(ctx: click.Context, ref: str, state: FeedState) -> None:
    with _archive(ctx) as archive:
        feed = archive.set_feed_state(ref, state)
    click.echo(f"{feed.id}: {feed.url} is {feed.state.value}")


@cli.command("feeds")
@click.option("--json", "as_json", is_flag=True, help="Print the feeds as JSON.")
@click.pass_context
def feeds_command(ctx: click.Context, as_json: bool) -> None:
    """List subscriptions with their health: last fetch and success, next fetch, errors."""
    with _archive(ctx) as archive:
        feeds = archive.feeds()
    if as_json:
        _print_json([feed_record(f) for f in feeds])
        return
    if not feeds:
        click.echo("no feeds (add one with: tidings add URL)")
    for feed in feeds:
        health = "ok" if not feed.error_count else f"{feed.error_count} errors, last: {feed.error_kind}"
        click.echo(f"{feed.id:>4}  {feed.site}  [{feed.state.value}]  {feed.url}")
        click.echo(
            f"      {feed.article_count} articles; last fetch {_when(feed.last_fetch)},"
            f" last success {_when(feed.last_success)}, next {_when(feed.next_fetch)}; {health}"
        )
        if feed.error_message:
            click.echo(f"      {feed.error_message}")


@cli.command("import-opml")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def import_opml_command(ctx: click.Context, file: Path) -> None:
    """Subscribe to every feed of an OPML file (feeds already subscribed are skipped)."""
    with _archive(ctx) as archive:
        added, known = archive.import_opml(file)
    click.echo(f"{len(added)} feeds added, {known} already subscribed")


def _summary_json(summary: UpdateSummary) -> dict[str, Any]:
    data = asdict(summary)
    data["outcomes"] = [asdict(o) for o in summary.outcomes]
    return data


def _print_summary(summary: UpdateSummary) -> None:
    for outcome in summary.outcomes:
        if outcome.status in ("failed", "gone"):
            click.echo(f"failed: {outcome.url}: [{outcome.error_kind}] {outcome.error_message}", err=True)
    click.echo(
        f"{summary.feeds} feeds: {summary.fetched} fetched, {summary.not_modified} not modified,"
        f" {summary.failed} failed; {summary.new_articles} new articles,"
        f" {summary.changed_articles} changed, {summary.extracted} full texts extracted"
        f" ({summary.seconds:.1f} s; cleaning {summary.derived} revisions {summary.derive_seconds:.1f} s)"
    )


@cli.command("update")
@click.option("--feed", "feed_refs", multiple=True, help="Update this feed (id or URL); repeatable.")
@click.option("--all", "update_all", is_flag=True, help="Update every active feed, due or not.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def update_command(ctx: click.Context, feed_refs: tuple[str, ...], update_all: bool, as_json: bool) -> None:
    """Fetch the feeds that are due and store what is new or changed (one pass)."""
    with _archive(ctx) as archive:
        if sys.stderr.isatty() and not as_json:
            with click.progressbar(length=1, label="updating", file=sys.stderr) as bar:

                def progress(done: int, total: int, outcome: FeedOutcome) -> None:
                    bar.length = total
                    bar.update(done - bar.pos)

                summary = archive.update(feeds=list(feed_refs) or None, due_only=not update_all, progress=progress)
        else:
            summary = archive.update(feeds=list(feed_refs) or None, due_only=not update_all)
    if as_json:
        _print_json(_summary_json(summary))
    else:
        _print_summary(summary)


@cli.command("run")
@click.pass_context
def run_command(ctx: click.Context) -> None:
    """Keep the archive up to date: update feeds as they fall due, until SIGINT or SIGTERM."""

    async def serve(archive: Archive) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)

        def report(summary: UpdateSummary) -> None:
            _print_summary(summary)

        await archive.run(stop, on_pass=report)

    with _archive(ctx) as archive:
        click.echo(f"tidings {__version__}: updating {len(archive.feeds())} feeds as they fall due; Ctrl-C stops")
        asyncio.run(serve(archive))
    click.echo("stopped")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback unless told otherwise).")
@click.option("--port", type=int, default=8080, show_default=True, help="Port to listen on.")
@click.option("--token", envvar="TIDINGS_TOKEN", help="Token for changes: API calls present it, people sign in with it (default: $TIDINGS_TOKEN; none: changes are off).")
@click.option("--images", type=click.Choice(["proxy", "none", "direct"]), default="proxy", show_default=True, help="Article images: through this server (refusing private addresses), shown as links, or loaded from their sites.")
@click.option("--base-url", help="The address readers reach the archive at (behind a proxy): ids and links of its Atom/JSON feeds.")
@click.option("--private", is_flag=True, help="Reading needs the token too (sign-in page, Bearer, or HTTP Basic password).")
@click.pass_context
def serve_command(
    ctx: click.Context, host: str, port: int, token: str | None, images: str, base_url: str | None, private: bool
) -> None:
    """Serve the archive in a browser and as a JSON API (OpenAPI at /api/openapi.json)."""
    import uvicorn

    from .web import create_app

    if private and not token:
        raise click.UsageError("--private needs --token (or $TIDINGS_TOKEN): the token is how readers get in")
    with _archive(ctx) as archive:  # opens (and migrates) the database before serving
        database = archive.store.path  # type: ignore[attr-defined]
    click.echo(f"serving {database} at http://{host}:{port}/ (Ctrl-C stops)")
    uvicorn.run(create_app(database, token=token, images=images, private=private, base_url=base_url), host=host, port=port, log_level="warning")


def main() -> None:
    """Entry point of the ``tidings`` command."""
    cli(prog_name="tidings")
