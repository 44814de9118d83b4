"""Commands that read: inspect a feed, search, show an article and its history."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from ..errors import InvalidInputError, TidingsError
from ..model import ParsedEntry, ParsedFeed, Revision, iso_utc
from .base import cli, open_from_context, plural, print_json, when

if TYPE_CHECKING:
    from ..clean import Cleaner

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
            "item_elements": feed.item_elements,
            "skipped_items": feed.skipped_items,
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
        from ..archive import read_feed

        feed = read_feed(source, timeout=timeout)
    except InvalidInputError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(2)
    except TidingsError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(1)
    from ..clean import Cleaner

    cleaner = Cleaner() if show_clean else None
    if as_json:
        document = feed_json(feed)
        if cleaner is not None:
            for record, entry in zip(document["entries"], feed.entries):
                cleaned = _clean_entry(cleaner, entry)
                record["clean_html"], record["text"] = cleaned.html, cleaned.text
        print_json(document)
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
    with open_from_context(ctx) as archive:
        article = archive.get_article(article_id)
        revisions = archive.revisions(article_id)
        latest = archive.current_revision(article_id, revisions)
        cleaned = archive.cleaner.clean(latest.content_html, base_url=article.url, site_url=article.url)
    if as_json:
        print_json(
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
@click.option(
    "--sort", type=click.Choice(["relevance", "new"]), help="Best matches first, or the last archived first (sort:new)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.pass_context
def search_command(
    ctx: click.Context, query: tuple[str, ...], limit: int, cursor: str | None, sort: str | None, as_json: bool
) -> None:
    """Search the archive. Words and Chinese of any length, "phrases", OR, -word, prefix*,
    site:NAME feed:ID lang:zh since:2023-11-01 until:2023-11-30 sort:new."""
    with open_from_context(ctx) as archive:
        page = archive.search(" ".join(query), limit=limit, cursor=cursor, sort=sort)
        if not page.hits and archive.store.index_missing():
            # A new kind of index came with an upgrade: empty until the next derive stage.
            click.echo("the search index is empty until it is built again: run `tidings reindex`", err=True)
    if as_json:
        print_json(
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




def _revision_label(revision: Revision, dates: dict[int, datetime]) -> str:
    """A revision named by its source and when its content dates from (an imported one by
    its document's date, not the minute of the import)."""
    moment = dates.get(revision.id, revision.seen)
    return f"{revision.source.value}, {moment:%Y-%m-%d %H:%M} UTC"


def _changed_parts(old: Revision, new: Revision) -> list[str]:
    parts = []
    if old.title != new.title:
        parts.append("title")
    if (old.text if old.text is not None else old.content_html) != (
        new.text if new.text is not None else new.content_html
    ):
        parts.append("body")
    elif old.content_html != new.content_html:
        parts.append("markup")
    if (old.author or "") != (new.author or ""):
        parts.append("author")
    return parts


@cli.command("show")
@click.argument("article_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the article as JSON.")
@click.pass_context
def show_command(ctx: click.Context, article_id: int, as_json: bool) -> None:
    """Show an article: title, site, link, times, state, its clean text and its revisions."""
    with open_from_context(ctx) as archive:
        article = archive.get_article(article_id)
        revisions = archive.revisions(article_id)
        current = archive.current_revision(article_id, revisions)
        dates = archive.revision_dates(article_id)
        if current.text is None:
            cleaned = archive.cleaner.clean(current.content_html, base_url=article.url, site_url=article.url)
            clean_html, text = cleaned.html, cleaned.text
        else:
            clean_html, text = current.clean_html or "", current.text
    if as_json:
        print_json(
            {
                "id": article.id,
                "site": article.site,
                "url": article.url,
                "title": current.title,
                "author": current.author,
                "published": iso_utc(article.published),
                "first_seen": iso_utc(article.first_seen),
                "last_seen": iso_utc(article.last_seen),
                "state": article.state.value,
                "current_revision": current.id,
                "clean_html": clean_html,
                "text": text,
                "revisions": [
                    {"id": r.id, "source": r.source.value, "seen": iso_utc(r.seen),
                     "dated": iso_utc(dates.get(r.id, r.seen)), "title": r.title}
                    for r in revisions
                ],
            }
        )
        return
    bold = sys.stdout.isatty()
    click.echo(click.style(current.title, bold=True) if bold else current.title)
    click.echo(article.url)
    click.echo(f"site: {article.site}   state: {article.state.value}   article {article.id}")
    click.echo(
        f"published {when(article.published)}, first seen {when(article.first_seen)},"
        f" last seen {when(article.last_seen)} (UTC)"
    )
    if current.author:
        click.echo(f"by {current.author}")
    click.echo("")
    click.echo(text)
    click.echo("")
    click.echo(f"{plural(len(revisions), 'revision')} (tidings history {article.id} shows the changes):")
    for revision in revisions:
        mark = "*" if revision.id == current.id else " "
        click.echo(f" {mark} {revision.id:>6}  {_revision_label(revision, dates)}  {revision.title}")


@cli.command("history")
@click.argument("article_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the revisions and their differences as JSON.")
@click.option("--color/--no-color", "colour", default=None, help="Colour the differences (default: when printing to a terminal).")
@click.pass_context
def history_command(ctx: click.Context, article_id: int, as_json: bool, colour: bool | None) -> None:
    """Show every revision of an article and what changed from each to the next
    (character by character for Chinese, word by word otherwise)."""
    from ..diff import diff_segments, terminal_diff

    with open_from_context(ctx) as archive:
        article = archive.get_article(article_id)
        revisions = archive.revisions(article_id)
        current = archive.current_revision(article_id, revisions)
        dates = archive.revision_dates(article_id)
        sightings = archive.sightings(article_id)
        events = archive.state_changes(article_id)
    if as_json:
        records = []
        for index, revision in enumerate(revisions):
            record: dict[str, Any] = {
                "id": revision.id,
                "source": revision.source.value,
                "seen": iso_utc(revision.seen),
                "dated": iso_utc(dates.get(revision.id, revision.seen)),
                "title": revision.title,
                "current": revision.id == current.id,
            }
            if index:
                old = revisions[index - 1]
                record["changed"] = list(revision.changed) or _changed_parts(old, revision)
                record["title_diff"] = diff_segments(old.title, revision.title)
                record["text_diff"] = diff_segments(old.text or "", revision.text or "")
            records.append(record)
        print_json(
            {
                "id": article.id,
                "site": article.site,
                "url": article.url,
                "state": article.state.value,
                "state_since": iso_utc(article.state_since),
                "revisions": records,
                "sightings": [
                    {"revision_id": g.revision_id, "source": g.source, "first_seen": iso_utc(g.first_seen),
                     "last_seen": iso_utc(g.last_seen), "times": g.times, "status": g.status,
                     "raw_variant": g.raw_id is not None}
                    for g in sightings
                ],
                "events": [
                    {"at": iso_utc(e.at), "old_state": e.old_state.value, "new_state": e.new_state.value,
                     "evidence": e.evidence}
                    for e in events
                ],
            }
        )
        return
    use_colour = sys.stdout.isatty() if colour is None else colour
    click.echo(f"{current.title}\n{article.url}\n{plural(len(revisions), 'revision')}, oldest first")
    for index, revision in enumerate(revisions):
        mark = " (current)" if revision.id == current.id else ""
        heading = f"revision {revision.id}: {_revision_label(revision, dates)}{mark}"
        click.echo("")
        click.echo(click.style(heading, bold=True) if use_colour else heading)
        if not index:
            click.echo(f"  first seen: {revision.title}")
            continue
        old = revisions[index - 1]
        parts = list(revision.changed) or _changed_parts(old, revision)
        click.echo(f"  changed: {', '.join(parts) if parts else 'nothing visible'}")
        if old.title != revision.title:
            click.echo(f"  title: {terminal_diff(old.title, revision.title, colour=use_colour)}")
        if "body" in parts:
            for paragraph in terminal_diff(old.text or "", revision.text or "", colour=use_colour).split("\n\n"):
                if "[-" in paragraph or "{+" in paragraph or "\x1b[" in paragraph:
                    click.echo(f"  {paragraph}")
    if sightings:
        click.echo("")
        click.echo("sightings (which source showed which revision, when):")
        for g in sightings:
            span = when(g.first_seen) if g.first_seen == g.last_seen else f"{when(g.first_seen)} – {when(g.last_seen)}"
            extra = f", HTTP {g.status}" if g.status else ""
            variant = ", bytes differ only in what cleaning removes" if g.raw_id is not None else ""
            click.echo(f"  {span}  {g.source}: revision {g.revision_id} ({plural(g.times, 'time')}{extra}{variant})")
    click.echo("")
    since = f" since {when(article.state_since)}" if article.state_since else ""
    click.echo(f"state: {article.state.value}{since}")
    for e in events:
        reason = e.evidence.get("reason", "")
        status = f", HTTP {e.evidence['status']}" if e.evidence.get("status") else ""
        click.echo(f"  {when(e.at)}  {e.old_state.value} → {e.new_state.value}: {reason}{status}")

