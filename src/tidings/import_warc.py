"""Reading a WARC file back in: a tidings export, or another crawler's captures.

A file whose first record is a ``warcinfo`` of :data:`~tidings.export.warc.EXPORT_FORMAT`
is a tidings export: each ``metadata`` record of a revision gives back that article (by
site and key, created with its link, publication and first-seen times) and that
revision (its time, title, HTML, author, summary, source, enclosures, language, and
whether it is the article's current one), the HTML coming from the ``resource`` record
it names or from the record itself. The exchanges kept in it are evidence, not read
again. Importing the same file twice adds nothing.

Any other WARC is read as captures, in two passes. First every ``200`` response that
is a feed document (by its type, else by its first bytes, then by parsing it) is stored
as a fetch of that feed would have been at the capture's ``WARC-Date``: the feed is
found by its URL, or subscribed to paused (so nothing is fetched until someone resumes
it). Then every ``200`` HTML response at the link of an archived article is stored as
that article's full text, extracted as a pass extracts pages. Everything else is
counted as skipped. A record that cannot be read is reported and the rest is imported;
nothing larger than :data:`~tidings.fetch.base.MAX_BODY_BYTES` is read.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import FeedExistsError, FeedParseError, InvalidInputError
from .export.warc import EXPORT_FORMAT, METADATA_TYPE
from .extract import extract_article
from .fetch.base import MAX_BODY_BYTES
from .model import (
    ArticleState,
    Feed,
    FeedOptions,
    FeedState,
    NewRevision,
    RevisionSource,
    WarcImport,
    current_of,
)
from .parse import parse_feed
from .store import Store
from .subscriptions import default_site
from .update import Updater

__all__ = ["import_warc"]

log = logging.getLogger(__name__)

#: Metadata records committed together.
BATCH = 256
_FEED_TYPES = ("xml", "rss", "atom", "json", "rdf")
_FEED_STARTS = (b"<?xml", b"<rss", b"<feed", b"<rdf", b"{")


class _Record:
    """One WARC record as read: its type, headers, HTTP status and type, and payload."""

    __slots__ = ("warc", "kind", "id", "url", "date", "refers", "content_type", "status", "truncated", "payload", "offset")

    def __init__(self, record: Any, payload: bytes | None, offset: int) -> None:
        headers = record.rec_headers
        self.warc = record.format == "warc"
        self.kind: str = record.rec_type
        self.id: str | None = headers.get_header("WARC-Record-ID")
        self.url: str = (headers.get_header("WARC-Target-URI") or "").strip()
        self.date = _date(headers.get_header("WARC-Date"))
        self.refers: str | None = headers.get_header("WARC-Refers-To")
        http = record.http_headers
        self.status: str | None = http.get_statuscode() if http is not None and self.kind == "response" else None
        self.content_type: str | None = (
            http.get_header("Content-Type") if http is not None else headers.get_header("Content-Type")
        )
        self.truncated = bool(headers.get_header("WARC-Truncated")) or payload is None
        self.payload = payload or b""
        self.offset = offset


def _date(text: object) -> datetime | None:
    """A time from WARC headers or an export's metadata (ISO 8601); None if there is none."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _records(path: Path, problems: list[str]) -> Iterator[_Record]:
    """Every record with its payload (content codings undone; None when over the limit);
    a torn or malformed end is reported and ends the walk."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    with open(path, "rb") as handle:
        records = ArchiveIterator(handle)
        try:
            for record in records:
                failure = None
                try:
                    payload: bytes | None = record.content_stream().read(MAX_BODY_BYTES + 1)
                except (OSError, ValueError, EOFError) as exc:
                    failure, payload = type(exc).__name__, None
                # (asking for the offset reads the record to its end: after the payload)
                offset = records.get_record_offset()
                if failure is not None:
                    problems.append(f"record at offset {offset}: payload unreadable ({failure})")
                if payload is not None and len(payload) > MAX_BODY_BYTES:
                    problems.append(f"record at offset {offset}: over {MAX_BODY_BYTES} bytes, not read")
                    payload = None
                yield _Record(record, payload, offset)
        except (ArchiveLoadFailed, EOFError, OSError, ValueError) as exc:
            problems.append(f"{path.name}: stopped reading: {type(exc).__name__}: {exc}"[:300])


def _is_export(path: Path) -> bool:
    problems: list[str] = []
    for first in _records(path, problems):
        if not first.warc:
            raise InvalidInputError(f"{path}: not a WARC file (its first record is not a WARC record)")
        return first.kind == "warcinfo" and f"format: {EXPORT_FORMAT}".encode() in first.payload
    raise InvalidInputError(f"{path}: not a WARC file ({problems[0] if problems else 'no records'})")


def import_warc(store: Store, path: Path, *, updater: Updater) -> WarcImport:
    """Import a WARC file (see the module docstring); ``updater`` stores feed documents."""
    if _is_export(path):
        return _import_export(store, path)
    return _import_captures(store, path, updater)


def _import_export(store: Store, path: Path) -> WarcImport:
    problems: list[str] = []
    records = new_articles = new_revisions = unchanged = skipped = 0
    contents: dict[str, bytes] = {}
    feeds = {feed.url: feed.id for feed in store.feeds()}
    batch: list[tuple[dict[str, Any], str]] = []

    def flush() -> None:
        nonlocal new_articles, new_revisions, unchanged
        with store.transaction():
            for meta, html in batch:
                articles, revisions = _restore(store, meta, html, feeds, path.name)
                new_articles += articles
                new_revisions += revisions
                unchanged += not revisions
        batch.clear()

    for record in _records(path, problems):
        records += 1
        if record.kind == "resource" and record.id:
            contents[record.id] = record.payload
            continue
        if record.kind != "metadata" or (record.content_type or "").split(";")[0].strip() != METADATA_TYPE:
            skipped += record.kind not in ("warcinfo", "request", "response", "revisit")
            continue
        try:
            meta = json.loads(record.payload.decode("utf-8", "surrogatepass"))
            if "content_html" in meta:
                html = meta["content_html"]
            else:
                html = contents.pop(record.refers or "").decode("utf-8", "surrogatepass")
            if not isinstance(meta.get("article"), dict) or not isinstance(meta.get("revision"), dict):
                raise ValueError("no article or revision")
        except (ValueError, KeyError, UnicodeError) as exc:
            problems.append(f"metadata record at offset {record.offset}: {type(exc).__name__}: {exc}"[:300])
            continue
        batch.append((meta, html))
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return WarcImport(
        kind="export",
        records=records,
        new_articles=new_articles,
        new_revisions=new_revisions,
        unchanged=unchanged,
        skipped=skipped,
        problems=tuple(problems),
    )


def _restore(store: Store, meta: dict[str, Any], html: str, feeds: dict[str, int], name: str) -> tuple[int, int]:
    """Give back one revision and its article; (new articles, new revisions)."""
    about, own = meta["article"], meta["revision"]
    seen = _date(own.get("seen"))
    first_seen = _date(about.get("first_seen")) or seen
    if seen is None or first_seen is None:
        raise ValueError("a revision without its time")
    site_id = store.site(str(about["site"])).id
    key, url = str(about["key"]), str(about["url"])
    article = store.find_article(site_id, key)
    created = article is None
    if article is None:
        feed_id = feeds.get(about.get("feed") or "")
        article = store.add_article(site_id, key, url, first_seen, _date(about.get("published")), feed_id=feed_id)
    revision = NewRevision(
        seen=seen,
        title=str(own.get("title") or ""),
        content_html=html,
        source=RevisionSource(own.get("source", "import")),
        author=own.get("author"),
        summary=own.get("summary"),
        enclosures=tuple(e for e in own.get("enclosures") or () if isinstance(e, dict)),
        language=own.get("language"),
    )
    _stored, new = store.add_revision(article.id, revision, current=bool(own.get("current", True)))
    last_seen = _date(about.get("last_seen"))
    if last_seen is not None and last_seen > article.last_seen:
        store.touch_article(article.id, last_seen)
    state = ArticleState(about.get("state", "present"))
    if state is not ArticleState.PRESENT:
        store.change_state(
            article.id, state, _date(about.get("state_since")) or seen, {"imported_from": name}
        )
    return int(created), int(new)


def _looks_like_feed(record: _Record) -> bool:
    kind = (record.content_type or "").split(";")[0].strip().lower()
    if any(word in kind for word in _FEED_TYPES):
        return True
    return record.payload.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(_FEED_STARTS)


def _feed_for(store: Store, url: str, title: str | None, known: dict[str, Feed]) -> Feed:
    feed = known.get(url) or store.find_feed(url)
    if feed is None:
        try:
            feed = store.add_feed(url, default_site(url, title=title), options=FeedOptions())
        except FeedExistsError:
            found = store.find_feed(url)
            assert found is not None
            feed = found
        # Subscribed by the import only: nothing is fetched until someone resumes it.
        feed = dataclasses.replace(feed, state=FeedState.PAUSED)
        store.save_feed(feed)
    known[url] = feed
    return feed


def _import_captures(store: Store, path: Path, updater: Updater) -> WarcImport:
    problems: list[str] = []
    records = new_articles = changed = feeds_read = pages = skipped = 0
    known: dict[str, Feed] = {}
    clock = updater.clock
    seen_at: list[datetime] = []
    updater.clock = lambda: seen_at[-1] if seen_at else clock()
    html_pages = 0
    try:
        for record in _records(path, problems):
            records += 1
            if record.kind != "response" or record.status != "200" or record.truncated or not record.url:
                skipped += record.kind not in ("warcinfo", "request")
                continue
            if not _looks_like_feed(record):
                html_pages += "html" in (record.content_type or "").lower()
                continue
            try:
                parsed = parse_feed(
                    record.payload, content_type=record.content_type, url=record.url, max_bytes=MAX_BODY_BYTES
                )
            except FeedParseError:
                skipped += 1
                continue
            if not parsed.entries:
                skipped += 1
                continue
            seen_at.append(record.date or clock())
            feed = _feed_for(store, record.url, parsed.title, known)
            new, edited, _listed = updater.store_document(feed, parsed)
            new_articles += new
            changed += edited
            feeds_read += 1
        if html_pages:
            pages, unmatched = _import_pages(store, path, updater, problems)
            skipped += unmatched
    finally:
        updater.clock = clock
    return WarcImport(
        kind="captures",
        records=records,
        new_articles=new_articles,
        new_revisions=new_articles + changed + pages,
        feeds=feeds_read,
        pages=pages,
        skipped=skipped,
        problems=tuple(problems),
    )


def _import_pages(store: Store, path: Path, updater: Updater, problems: list[str]) -> tuple[int, int]:
    """Store HTML captures at archived articles' links as their full text; (stored, not)."""
    sites = [site.id for site in store.sites()]
    stored = unmatched = 0
    for record in _records(path, []):
        if (
            record.kind != "response"
            or record.status != "200"
            or record.truncated
            or "html" not in (record.content_type or "").lower()
            or _looks_like_feed(record)
        ):
            continue
        refs = [ref for site_id in sites for ref in store.articles_matching(site_id, [], [record.url])]
        if not refs:
            unmatched += 1
            continue
        try:
            found = extract_article(
                record.payload, url=record.url, content_type=record.content_type, site_rules=updater.site_rules
            )
        except (ValueError, LookupError, RuntimeError) as exc:
            problems.append(f"{record.url}: not extracted ({type(exc).__name__})")
            continue
        if found is None:
            unmatched += 1
            continue
        with store.transaction():
            for ref in refs:
                article = store.get_article(ref.id)
                current = current_of(article, store.revisions(article.id))
                revision = NewRevision(
                    seen=record.date or updater.clock(),
                    title=current.title if current is not None else "",
                    content_html=found.html,
                    source=RevisionSource.EXTRACTED,
                )
                _revision, new = store.add_revision(article.id, revision, current=False)
                stored += new
    return stored, unmatched
