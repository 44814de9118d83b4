"""Commands about subscriptions: add, remove, pause, resume, feeds, import-opml, update, run, backfill."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import TidingsError
from ..model import BackfillSummary, Feed, FeedOptions, FeedOutcome, FeedState, ImageSummary, UpdateSummary
from ..records import feed_record
from ..version import __version__
from .base import cli, open_from_context, plural, print_json, when

if TYPE_CHECKING:
    from ..archive import Archive

F = TypeVar("F", bound=Callable[..., Any])


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
@click.option("--site", help="Site the feed's articles belong to (default: the URL's host; for a local file, the feed's title, else the file name).")
@click.option("--interval", type=click.FloatRange(min=1), default=60, show_default=True, help="Minutes between fetches (adapted to how often the feed publishes).")
@click.option("--preset", is_flag=False, flag_value="original", default=None, help="Subscribe to a shipped list of feeds (default: original, the original system's feeds).")
@click.option("--full-text", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True, help="When to fetch article pages for the full text.")
@click.option("--no-check", is_flag=True, help="Subscribe to a local path even if no file is there yet.")
@click.option("--no-recheck", is_flag=True, help="Do not look at this feed's young articles' pages again for later edits.")
@click.option("--backfill", is_flag=True, help="Walk the feed's archive once now (see: tidings backfill).")
@click.option("--images", type=click.Choice(["archive", "proxy", "none"]), help="This feed's images: kept in the media folder, shown through the web app's proxy, or as links (default: the archive's setting).")
@click.option("--keep-responses/--no-keep-responses", default=None, help="Keep (or not) this feed's HTTP exchanges as WARC records (default: the archive's keep_responses setting).")
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
    no_check: bool,
    no_recheck: bool,
    backfill: bool,
    images: str | None,
    keep_responses: bool | None,
    **rules: str | None,
) -> None:
    """Subscribe to a feed: an http(s) URL, a file:// URL or a local path.

    A local path must name an existing file (exit status 2 otherwise) unless --no-check.
    """
    if (url is None) == (preset is None):
        raise click.UsageError("give a feed URL or --preset, not both or neither")
    if backfill and preset is not None:
        raise click.UsageError("--backfill is for one feed URL, not a preset")
    with open_from_context(ctx) as archive:
        if preset is not None:
            added = archive.add_preset(preset)
            for feed in added:
                click.echo(f"added {feed.id}: {feed.site}  {feed.url}")
            click.echo(f"{len(added)} feeds added from preset {preset!r}")
            return
        assert url is not None
        chosen: dict[str, Any] = {k: v for k, v in rules.items() if v}
        options = FeedOptions(
            full_text=full_text, recheck=not no_recheck, images=images, keep_responses=keep_responses, **chosen
        )
        feed = archive.add_feed(url, site=site, interval_minutes=interval, options=options, check=not no_check)
        click.echo(f"added {feed.id}: {feed.site}  {feed.url}")
        if backfill:
            summary = archive.backfill(feed.id)
            _print_backfill(summary)
            if summary.failed_url is not None:
                ctx.exit(1)


@cli.command("remove")
@click.argument("feed")
@click.pass_context
def remove_command(ctx: click.Context, feed: str) -> None:
    """Unsubscribe from FEED (its id or URL). Its articles stay in the archive."""
    with open_from_context(ctx) as archive:
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
    with open_from_context(ctx) as archive:
        feed = archive.set_feed_state(ref, state)
    click.echo(f"{feed.id}: {feed.url} is {feed.state.value}")


@cli.command("feeds")
@click.option("--json", "as_json", is_flag=True, help="Print the feeds as JSON.")
@click.pass_context
def feeds_command(ctx: click.Context, as_json: bool) -> None:
    """List subscriptions with their health: last fetch and success, next fetch, errors."""
    with open_from_context(ctx) as archive:
        feeds = archive.feeds()
    if as_json:
        print_json([feed_record(f) for f in feeds])
        return
    if not feeds:
        click.echo("no feeds (add one with: tidings add URL)")
    for feed in feeds:
        click.echo(f"{feed.id:>4}  {feed.title or feed.url}  [{feed.state.value}]")
        click.echo(f"      site: {feed.site}   {feed.url}")
        if feed.last_fetch is None:
            click.echo(f"      {plural(feed.article_count, 'article')}; never fetched")
        else:
            click.echo(
                f"      {plural(feed.article_count, 'article')}; last fetch {when(feed.last_fetch)},"
                f" last success {when(feed.last_success)}, next {when(feed.next_fetch)}; {_health(feed)}"
            )
        if feed.error_message:
            click.echo(f"      {feed.error_message}")
        if feed.problem:
            click.echo(f"      problem: {feed.problem}")


def _health(feed: Feed) -> str:
    if not feed.error_count:
        return "ok, with a problem (below)" if feed.problem else "ok"
    return f"{plural(feed.error_count, 'error')} in a row, last: {feed.error_kind}"


@cli.command("import-opml")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def import_opml_command(ctx: click.Context, file: Path) -> None:
    """Subscribe to every feed of an OPML file (feeds already subscribed are skipped)."""
    with open_from_context(ctx) as archive:
        added, known = archive.import_opml(file)
    click.echo(f"{len(added)} feeds added, {known} already subscribed")


def _summary_json(summary: UpdateSummary) -> dict[str, Any]:
    data = asdict(summary)
    data["outcomes"] = [asdict(o) for o in summary.outcomes]
    return data


def _failure_line(outcome: FeedOutcome) -> str:
    """One line per failed feed, naming its URL once (fetch errors often start with it)."""
    message = outcome.error_message or ""
    for prefix in (outcome.url, _local_path(outcome.url)):
        if prefix and message.startswith(prefix + ": "):
            message = message[len(prefix) + 2 :]
    return f"failed: {outcome.url}: [{outcome.error_kind}] {message}".rstrip()


def _local_path(url: str) -> str | None:
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    return unquote(parts.path) if parts.scheme == "file" else None


def _images_line(images: ImageSummary) -> str:
    return (
        f"images: {images.archived} archived ({images.bytes / 1_048_576:.1f} MiB), {images.already_had} already kept,"
        f" {images.failed} failed, {images.refused} refused, {images.deferred} left for later ({images.seconds:.1f} s)"
    )


def _print_summary(summary: UpdateSummary) -> None:
    for outcome in summary.outcomes:
        if outcome.status in ("failed", "gone"):
            click.echo(_failure_line(outcome), err=True)
    click.echo(
        f"{plural(summary.feeds, 'feed')}: {summary.fetched} fetched, {summary.not_modified} not modified,"
        f" {summary.failed} failed; {plural(summary.new_articles, 'new article')},"
        f" {summary.changed_articles} changed, {plural(summary.extracted, 'full text')} extracted"
        f" ({summary.seconds:.1f} s; cleaning {plural(summary.derived, 'revision')} {summary.derive_seconds:.1f} s)"
    )
    if summary.images is not None and (summary.images.archived or summary.images.failed or summary.images.refused):
        click.echo(_images_line(summary.images))
    if summary.failed:
        everything = " (every one)" if summary.failed == summary.feeds else ""
        click.echo(f"{plural(summary.failed, 'feed')} failed{everything}; exit status 1", err=True)


@cli.command("update")
@click.option("--feed", "feed_refs", multiple=True, help="Update this feed (id or URL); repeatable.")
@click.option("--all", "update_all", is_flag=True, help="Update every active feed, due or not.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--lease", "lease", type=click.FloatRange(min=10), default=600, show_default=True, metavar="SECONDS", help="With PostgreSQL: how long this worker's leases of feeds last if its database session outlives it.")
@click.pass_context
def update_command(
    ctx: click.Context, feed_refs: tuple[str, ...], update_all: bool, as_json: bool, lease: float
) -> None:
    """Fetch the feeds that are due and store what is new or changed (one pass).

    Exit status 1 when any feed failed (its error is recorded on it and printed). On
    PostgreSQL several processes, on several machines, share the feeds.
    """
    with open_from_context(ctx) as archive:
        archive.lease_seconds = lease
        if sys.stderr.isatty() and not as_json:
            with click.progressbar(length=1, label="updating", file=sys.stderr) as bar:

                def progress(done: int, total: int, outcome: FeedOutcome) -> None:
                    bar.length = total
                    bar.update(done - bar.pos)

                summary = archive.update(feeds=list(feed_refs) or None, due_only=not update_all, progress=progress)
        else:
            summary = archive.update(feeds=list(feed_refs) or None, due_only=not update_all)
    if as_json:
        print_json(_summary_json(summary))
    else:
        _print_summary(summary)
    if summary.failed:
        ctx.exit(1)


@cli.command("run")
@click.option("--publish", "mirror", type=click.Path(path_type=Path), help="Publish into this folder after every pass that stored something.")
@click.option("--base-url", help="With --publish: where the mirror is read (see tidings publish).")
@click.option("--git", "use_git", is_flag=True, help="With --publish: commit each publish.")
@click.option("--push", "remote", metavar="REMOTE", help="With --publish: push each publish to REMOTE (implies --git).")
@click.option("--lease", "lease", type=click.FloatRange(min=10), default=600, show_default=True, metavar="SECONDS", help="With PostgreSQL: how long this worker's leases of feeds last if its database session outlives it.")
@click.pass_context
def run_command(
    ctx: click.Context, mirror: Path | None, base_url: str | None, use_git: bool, remote: str | None, lease: float
) -> None:
    """Keep the archive up to date: update feeds as they fall due, until SIGINT or SIGTERM.

    With --publish, the mirror is published once at the start and after every pass that
    stored something (the original bot: fetch, write, commit, push).
    """

    import asyncio

    from .publishing import publish_once

    if mirror is None and (use_git or remote or base_url):
        raise click.UsageError("--git, --push and --base-url go with --publish DIR")

    async def serve(archive: Archive) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)

        def report(summary: UpdateSummary) -> None:
            _print_summary(summary)
            if mirror is not None and (summary.new_articles or summary.changed_articles):
                publish_mirror(archive)

        await archive.run(stop, on_pass=report)

    def publish_mirror(archive: Archive) -> None:
        assert mirror is not None
        try:
            publish_once(archive, mirror, base_url=base_url, git=use_git, remote=remote)
        except TidingsError as exc:  # a mirror that cannot be written never stops the archive
            click.echo(f"error: publish failed: {exc}", err=True)

    with open_from_context(ctx) as archive:
        archive.lease_seconds = lease
        click.echo(f"tidings {__version__}: updating {len(archive.feeds())} feeds as they fall due; Ctrl-C stops")
        if mirror is not None:
            publish_mirror(archive)
        asyncio.run(serve(archive))
    click.echo("stopped")


@cli.command("workers")
@click.option("--json", "as_json", is_flag=True, help="Print the workers as JSON.")
@click.pass_context
def workers_command(ctx: click.Context, as_json: bool) -> None:
    """List the workers (update and run processes) that share this archive on PostgreSQL:
    whether each is alive, the feeds it holds, what its last pass did."""
    with open_from_context(ctx) as archive:
        found = archive.workers()
    if as_json:
        print_json(found)
        return
    if not found:
        click.echo("no workers recorded (a SQLite archive has one process at a time)")
    for worker in found:
        last = worker["last_pass"]
        assert isinstance(last, dict)
        click.echo(
            f"{worker['name']}  {'alive' if worker['alive'] else 'gone'}  {worker['leases']} leases"
            f"  last seen {worker['last_seen']}: {last.get('feeds', 0)} feeds, {last.get('fetched', 0)} fetched,"
            f" {last.get('failed', 0)} failed, {last.get('new_articles', 0)} new in {last.get('seconds', 0)} s"
        )


@cli.command("recheck")
@click.option("--all", "every", is_flag=True, help="Every article under a month old, due or not.")
@click.option("--feed", "feed_refs", multiple=True, help="Only this feed's articles (id or URL); repeatable.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=500, show_default=True, help="Pages to look at, at most.")
@click.option("--per-host", type=click.IntRange(1, 10_000), default=50, show_default=True, help="Pages per host, at most.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def recheck_command(
    ctx: click.Context, every: bool, feed_refs: tuple[str, ...], limit: int, per_host: int, as_json: bool
) -> None:
    """Look again at young articles' pages (one round now) for edits made after they left
    their feed, and at missing ones' links for deletions."""
    with open_from_context(ctx) as archive:
        summary = archive.recheck(feeds=list(feed_refs) or None, every=every, limit=limit, per_host=per_host)
    if as_json:
        print_json(asdict(summary))
        return
    click.echo(
        f"{plural(summary.due, 'article')} due: {summary.checked} looked at, {summary.changed} changed,"
        f" {summary.deleted} deleted, {summary.failed} failed, {summary.left} left for later"
        f" ({summary.seconds:.1f} s)"
    )
    for host in summary.backed_off:
        click.echo(f"backed off: {host} answered 429 or 503; its pages wait for the next round", err=True)


_STOPPED = {
    "complete": "the feed is complete (it has no archive)",
    "no_archive": "the feed links to no archive",
    "end": "the archive ends there",
    "loop": "the next page was already read",
    "nothing_new": "a page added nothing new",
    "pages": "the page bound was reached",
    "time": "the time bound was reached",
    "failed": "a page failed",
}


def _print_backfill(summary: BackfillSummary) -> None:
    if summary.failed_url is not None:
        click.echo(f"failed: {summary.failed_url}: [{summary.error_kind}] {summary.error_message}", err=True)
    reason = _STOPPED.get(summary.stopped_because, summary.stopped_because)
    click.echo(
        f"backfill: {plural(summary.pages, 'archive page')} read, {plural(summary.new_articles, 'new article')},"
        f" {summary.changed} changed; stopped: {reason} ({summary.seconds:.1f} s)"
    )


@cli.command("backfill")
@click.argument("feed")
@click.option("--pages", type=click.IntRange(1, 10_000), default=50, show_default=True, help="Archive pages to read, at most.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def backfill_command(ctx: click.Context, feed: str, pages: int, as_json: bool) -> None:
    """Walk the archive FEED (its id or URL) links to, once (RFC 5005 prev-archive, or
    the next pages of a paged feed), within 120 s, storing every page's entries.

    Exit status 1 when a page failed (what was stored before it is kept).
    """
    with open_from_context(ctx) as archive:
        summary = archive.backfill(feed, pages=pages)
    if as_json:
        print_json(asdict(summary))
    else:
        _print_backfill(summary)
    if summary.failed_url is not None:
        ctx.exit(1)
