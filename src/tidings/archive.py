"""The Archive: the library's entry point and the one place concrete parts are wired.

>>> with open_archive("news.sqlite3") as archive:          # doctest: +SKIP
...     report = archive.import_documents("old-repo/")
...     archive.export_documents("mirror/")

The CLI and the web app use nothing but this API.
"""

from __future__ import annotations

import difflib
import dataclasses
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urljoin, urlsplit

from .fetching import Fetching
from .cursors import EPOCH, changes_cursor, decode_cursor, encode_cursor, search_cursor
from .errors import ArchiveClosedError, FeedNotFoundError, InvalidInputError
from .model import (
    Article,
    ChangesPage,
    ExportReport,
    Feed,
    FeedState,
    FeedOptions,
    ImportReport,
    ParsedFeed,
    Revision,
    SearchHit,
    SearchPage,
    Sighting,
    StateChange,
    Stats,
    TimelinePage,
    WarcExport,
    WarcImport,
    utc_now,
)
from .store import Store
from .subscriptions import PresetFeed, check_feed_location, default_site, load_preset, normalise_feed_url
from .store.sqlite import SQLiteStore

if TYPE_CHECKING:
    from .clean import Cleaner
    from .media import MediaStorage
    from .store.copy import CopyReport
    from .warc import WarcKeeper

# Cleaning, fetching, parsing and updating load their libraries (lxml, nh3, httpx,
# trafilatura, asyncio) where they are used, so that `import tidings` and the commands
# that only read the archive start quickly.

#: What can happen to articles' images: kept in the media folder, shown through the web
#: app's proxy, or shown as links.
IMAGE_MODES = ("archive", "proxy", "none")

__all__ = [
    "IMAGE_MODES",
    "Archive",
    "default_database_path",
    "default_site",
    "load_preset",
    "normalise_feed_url",
    "open_archive",
    "PresetFeed",
    "read_feed",
]

DATABASE_ENV = "TIDINGS_DB"


def default_database_path() -> Path:
    """Where the database lives when none is named: ``$TIDINGS_DB`` or the user's data folder."""
    named = os.environ.get(DATABASE_ENV)
    if named:
        return Path(named)
    return _data_folder() / "tidings.sqlite3"


def _data_folder() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("tidings", appauthor=False))


class Archive(Fetching):
    """A news archive: sites, articles and every revision of them."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = utc_now,
        rules_dir: Path | None = None,
        user_agent: str | None = None,
        media: MediaStorage | None = None,
        images: str = "archive",
        warc: Path | None = None,
        keep_responses: bool = False,
        warc_size: int = 256,
        lease_seconds: float = 600.0,
    ) -> None:
        if images not in IMAGE_MODES:
            raise InvalidInputError(f"images must be one of {', '.join(IMAGE_MODES)}, not {images!r}")
        self._store: Store | None = store
        self._clock = clock
        self._rules_dir = rules_dir
        self._user_agent = user_agent
        self._cleaner: Cleaner | None = None
        #: Where archived images are kept (None: images are not archived).
        self.media = media
        #: The archive's image setting (a feed's own ``images`` option wins): ``archive``,
        #: ``proxy`` or ``none``.
        self.images = images
        #: Where kept HTTP exchanges are written as WARC files (None: nowhere, none kept).
        self.warc = warc
        #: Whether HTTP exchanges are kept (a feed's own ``keep_responses`` option wins).
        self.keep_responses = keep_responses
        self._warc_bytes = warc_size * 1024 * 1024
        self._keeper: WarcKeeper | None = None
        #: This process's name among the workers sharing the archive, and how long its
        #: leases of feeds last if its database session outlives it.
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.lease_seconds = lease_seconds

    @property
    def store(self) -> Store:
        if self._store is None:
            raise ArchiveClosedError("the archive is closed")
        return self._store

    def close(self) -> None:
        """Close the database; further calls raise ArchiveClosedError."""
        if self._keeper is not None:
            self._keeper.close()
            self._keeper = None
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def cleaner(self) -> Cleaner:
        """The cleaner (site rules loaded once per archive)."""
        if self._cleaner is None:
            from .clean import Cleaner

            self._cleaner = Cleaner(rules_dir=self._rules_dir)
        return self._cleaner

    # reading

    def _require_site(self, name: str | None) -> None:
        """Refuse a site filter that names no site (it could only ever find nothing)."""
        if name is None:
            return
        names = self.sites()
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InvalidInputError(f"no site named {name!r}{hint}")

    def stats(self) -> Stats:
        """Counts of sites, feeds, articles, revisions, images by status, and the database's
        and the media folder's sizes."""
        stats = self.store.stats()
        if self.media is not None:
            files = list(self.media.files())
            stats = dataclasses.replace(stats, media_files=len(files), media_bytes=sum(size for _, size in files))
        return stats

    def sites(self) -> list[str]:
        """Names of every site, sorted."""
        return [site.name for site in self.store.sites()]

    def articles(self, site: str | None = None) -> Iterator[Article]:
        """Articles (of one site, or all) in the order they were archived."""
        return self.store.iter_articles(site)

    def get_article(self, article_id: int) -> Article:
        """One article; ArticleNotFoundError if there is none with this id."""
        return self.store.get_article(article_id)

    def revisions(self, article_id: int) -> list[Revision]:
        """Every revision of an article, oldest first."""
        self.store.get_article(article_id)
        return self.store.revisions(article_id)

    def current_revision(self, article_id: int, revisions: Sequence[Revision] | None = None) -> Revision:
        """The article's content now: the revision its current pointer names (what its
        own feed or page showed last, or its imported document), else its newest.
        ``revisions``, when the caller has them already, saves reading them again."""
        from .model import current_of

        article = self.store.get_article(article_id)
        current = current_of(article, revisions if revisions is not None else self.store.revisions(article_id))
        if current is None:
            from .errors import ArticleNotFoundError

            raise ArticleNotFoundError(f"article {article_id} has no revision")
        return current

    def sightings(self, article_id: int) -> list[Sighting]:
        """When which source showed which revision of an article, oldest first."""
        self.store.get_article(article_id)
        return self.store.sightings(article_id)

    def state_changes(self, article_id: int | None = None, *, limit: int = 1000) -> list[StateChange]:
        """An article's moves between present, missing and deleted, oldest first, with their
        evidence; without an article, the newest ``limit`` of the whole archive."""
        if article_id is not None:
            self.store.get_article(article_id)
        return self.store.state_changes(article_id, limit=limit)

    def recent_changes(
        self, site: str | None = None, *, limit: int = 50, cursor: str | None = None
    ) -> ChangesPage:
        """Edits and disappearances (of one site, or all), newest first, a page at a time:
        each edit is a revision a feed or a page showed that replaced an earlier one, each
        state change a move between present, missing and deleted with its evidence (see
        :class:`~tidings.model.Change`). Pass ``next_cursor`` as ``cursor`` for the next page."""
        if not 1 <= limit <= 500:
            raise InvalidInputError("limit must be between 1 and 500")
        self._require_site(site)
        before = changes_cursor(cursor) if cursor else None
        rows = self.store.recent_changes(site, limit=limit + 1, before=before)
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            kind = 0 if last.kind == "edit" else 1
            next_cursor = encode_cursor((last.at - EPOCH) // timedelta(milliseconds=1), kind, last.id)
        return ChangesPage(tuple(rows[:limit]), next_cursor)

    def site_article_counts(self) -> dict[str, int]:
        """How many articles each site has, by site name (every site)."""
        return self.store.site_article_counts()

    def site_language(self, site: str) -> str | None:
        """The language most of the site's newest articles state (lower-cased, such as
        ``zh-cn``), or None when they state none."""
        return self.store.site_language(site)

    def revision_dates(
        self, article_id: int, *, article: Article | None = None, revisions: Sequence[Revision] | None = None
    ) -> dict[int, datetime]:
        """When the content of each revision of an article dates from, by revision id.

        A revision from a feed or a page is dated when it was seen. An imported one is
        seen at the time of the import, so it is dated by its document instead: the
        timestamp (else the ``日期：`` line) of the earliest file that holds it, else
        the article's publication time, else when it was seen. ``article`` and
        ``revisions``, when the caller has them already, save reading them again.
        """
        from .document import parse_document
        from .errors import DocumentError
        from .model import RevisionSource

        if article is None:
            article = self.store.get_article(article_id)
        if revisions is None:
            revisions = self.store.revisions(article_id)
        stated: dict[int, datetime] = {}
        if any(r.source is RevisionSource.IMPORT for r in revisions):
            for record in self.store.article_document_files(article_id):
                if record.head is None:
                    continue  # a file tidings wrote itself: its time is the article's
                try:
                    framed = f"{record.head}-{record.tail}".encode("utf-8", "replace")
                    moment = parse_document(framed).published
                except DocumentError:
                    continue
                if moment is not None and (
                    record.revision_id not in stated or moment < stated[record.revision_id]
                ):
                    stated[record.revision_id] = moment
        dates: dict[int, datetime] = {}
        for revision in revisions:
            if revision.source is RevisionSource.IMPORT:
                dates[revision.id] = stated.get(revision.id) or article.published or revision.seen
            else:
                dates[revision.id] = revision.seen
        return dates

    # importing and exporting

    def import_documents(
        self,
        path: str | os.PathLike[str],
        *,
        site: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportReport:
        """Import a repository of the original layout, a folder of documents, or one file.

        Files that cannot be read are listed in the report's ``errors``; the
        rest are imported. Running it again adds nothing.
        """
        root = Path(path)
        if not root.exists():
            raise InvalidInputError(f"{root}: no such file or folder")
        from .importing import import_documents

        return import_documents(self.store, root, now=self._clock(), site=site, progress=progress)

    def export_documents(
        self, out: str | os.PathLike[str], *, site: str | None = None
    ) -> ExportReport:
        """Write (or continue) a repository of the original layout in folder ``out``."""
        from .export import export_documents

        self._require_site(site)
        return export_documents(self.store, Path(out), site=site)

    def export_jsonl(self, out: TextIO, *, site: str | None = None) -> int:
        """Write one JSON object per article to a text stream; returns how many."""
        from .export import export_jsonl

        self._require_site(site)
        return export_jsonl(self.store, out, site=site)

    def export_warc(self, out: str | os.PathLike[str], *, site: str | None = None) -> WarcExport:
        """Write the archive (or one site) as a WARC file ``out`` (gzip records) with its
        CDXJ index beside it (``out`` + ``.cdxj``); see :mod:`tidings.export.warc`. Both
        are written under temporary names and renamed when whole."""
        from .export import export_warc

        self._require_site(site)
        target = Path(out)
        index = target.with_name(target.name + ".cdxj")
        parts = (target.with_name(target.name + ".part"), index.with_name(index.name + ".part"))
        try:
            with open(parts[0], "wb") as handle, open(parts[1], "w", encoding="utf-8", newline="\n") as cdx:
                report = export_warc(self.store, self.warc, handle, cdx, filename=target.name, site=site)
            os.replace(parts[0], target)
            os.replace(parts[1], index)
        finally:
            for part in parts:
                part.unlink(missing_ok=True)
        return report

    def import_warc(self, path: str | os.PathLike[str]) -> WarcImport:
        """Read a WARC file back in: a tidings export gives back its articles and revisions;
        another crawler's feed captures are stored as their feeds' items and its page
        captures as full text of the articles they are (see :mod:`tidings.import_warc`)."""
        from .import_warc import import_warc

        source = Path(path)
        if not source.is_file():
            raise InvalidInputError(f"{source}: no such file")
        return import_warc(self.store, source, updater=self._updater(None, None))

    def migrate_to(
        self, location: str | os.PathLike[str], *, progress: Callable[[str, int], None] | None = None
    ) -> tuple[CopyReport, dict[str, tuple[int, str]], int]:
        """Copy this archive into another store (a ``postgresql://`` URL or a SQLite path):
        every table with its ids, in batches, resumable after a kill (run it again), then
        verified (rows counted and hashed on both sides; StorageError if they differ) and
        the target's search index built. Returns the copy report, each table's count and
        hash, and the articles indexed."""
        from .store.copy import copy_tables, verify_tables

        here, there = os.fspath(self.store.path), os.fspath(location)  # type: ignore[attr-defined]
        if here == there or (
            "://" not in here and "://" not in there and Path(here).resolve() == Path(there).resolve()
        ):
            raise InvalidInputError("the target is this archive")
        target = open_archive(location, clock=self._clock)
        try:
            report = copy_tables(self.store, target.store, progress=progress)
            verified = verify_tables(self.store, target.store)
            indexed = target.reindex()
        finally:
            target.close()
        return report, verified, indexed

    # derived clean HTML and text

    def derive(
        self,
        *,
        progress: Callable[[int], None] | None = None,
        workers: int | None = None,
        stopped: Callable[[], bool] = lambda: False,
    ) -> int:
        """Derive clean HTML and text for every revision that has none yet (on every
        core when there are many), until done or ``stopped()``; returns how many.
        Updates and imports call it; what a stop leaves, the next call finishes."""
        store = self.store
        if store.index_missing():
            self.reindex(workers=workers)
        try:
            expected = store.underived_count()
            if not expected:
                return 0  # (without loading the cleaner: a pass that stored nothing new)
            from .derive import BATCH, derive_revisions

            return derive_revisions(
                store,
                lambda after: store.underived_revisions(BATCH, after),
                cleaner=self.cleaner,
                expected=expected,
                workers=workers,
                progress=progress,
                stopped=stopped,
            )
        finally:
            store.end_derive()

    def reclean(
        self, *, progress: Callable[[int], None] | None = None, workers: int | None = None
    ) -> int:
        """Derive clean HTML and text again for every revision (after cleaning rules
        changed), then rebuild the search index; the HTML as received is never
        touched. Returns how many revisions were cleaned."""
        from .derive import BATCH, derive_revisions

        store = self.store
        store.clear_index()
        done = derive_revisions(
            store,
            lambda after: store.revision_batch(after, BATCH),
            cleaner=self.cleaner,
            expected=store.stats().revisions,
            workers=workers,
            progress=progress,
            index=False,
        )
        self.reindex(workers=workers)
        return done

    def compact(self) -> tuple[int, int, int] | None:
        """Pack the long texts an older tidings stored unpacked and give the space back
        (SQLite; it needs free space the size of the database while it runs): (texts
        packed, bytes before, bytes after). None on PostgreSQL, which compresses itself."""
        return self.store.compact()

    def reindex(
        self, *, progress: Callable[[int], None] | None = None, workers: int | None = None
    ) -> int:
        """Drop the search index and build it again from the archive (nothing else
        changes); returns how many articles were indexed."""
        from .derive import rebuild_index

        return rebuild_index(
            self.store,
            cleaner=self.cleaner,
            expected=self.store.stats().articles,
            workers=workers,
            progress=progress,
        )

    # reading by time

    def timeline(
        self,
        *,
        site: str | None = None,
        day: date | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> TimelinePage:
        """Articles newest first (of one site, of one UTC day, or all), a page at a time."""
        if not 1 <= limit <= 500:
            raise InvalidInputError("limit must be between 1 and 500")
        before = None
        if cursor:
            moment_ms, article_id = decode_cursor(cursor, "timeline")
            before = (int(moment_ms), int(article_id))
        since = until = None
        if day is not None:
            since = datetime.combine(day, datetime.min.time(), timezone.utc)
            until = since + timedelta(days=1) if day < date.max else None
        rows = self.store.timeline(site=site, before=before, since=since, until=until, limit=limit + 1)
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1][0]
            moment = last.published or last.first_seen
            next_cursor = encode_cursor((moment - EPOCH) // timedelta(milliseconds=1), last.id)
        return TimelinePage(tuple(rows[:limit]), next_cursor)

    # search

    def search(
        self, query: str, *, limit: int = 20, cursor: str | None = None, sort: str | None = None
    ) -> SearchPage:
        """Search the archive (see :mod:`tidings.query` for the language).

        Results are best first (BM25, the title weighing ten times the body, ties
        broken by recency; the newest 1,024 matches ranked first, then the next 1,024, see
        :mod:`tidings.store.search`), one per story; with ``sort="new"`` (or ``sort:new`` in
        the query, which ``sort`` overrides) the last archived first. Pass ``next_cursor`` as
        ``cursor`` for the next page. QueryError (a ValueError) explains a query it
        cannot read.
        """
        from .query import parse_query
        from .snippet import make_snippet

        parsed = parse_query(query, sort)
        self._require_site(parsed.site)
        if not 1 <= limit <= 1000:
            raise InvalidInputError("limit must be between 1 and 1000")
        after = search_cursor(cursor) if cursor else None
        rows = self.store.search(
            parsed.match,
            limit=limit + 1,
            site=parsed.site,
            feed_id=parsed.feed,
            since=parsed.since,
            until=parsed.until,
            lang=parsed.lang,
            after=after,
            newest=parsed.sort == "new",
        )
        hits = []
        for article_id, site, url, published, score, title, text, sources in rows[:limit]:
            hits.append(
                SearchHit(
                    article_id=article_id,
                    site=site,
                    title=title,
                    url=url,
                    published=EPOCH + timedelta(milliseconds=published) if published is not None else None,
                    snippet=make_snippet(text or "", parsed.terms),
                    score=score,
                    sources=tuple(dict.fromkeys((sources or site).split("\x1f"))),
                )
            )
        next_cursor = None
        if len(rows) > limit and hits:
            last = rows[limit - 1]
            next_cursor = encode_cursor(last[4], last[3] or 0, last[0])
        return SearchPage(tuple(hits), next_cursor)

    # feeds

    def add_feed(
        self,
        url: str,
        *,
        site: str | None = None,
        interval_minutes: float = 60,
        options: FeedOptions = FeedOptions(),
        check: bool = True,
        allow_local: bool = True,
    ) -> Feed:
        """Subscribe to a feed (an http(s) URL, a file:// URL or a local path).

        With ``check`` (the default) a local path must name an existing file; without
        it, a feed that will appear later can be subscribed to. The site defaults to
        the URL's host; for a local file, to the feed's title (else the file's name).
        ``allow_local=False`` refuses local paths and file:// URLs before the file
        system is touched, for callers acting for someone who must not read this
        machine's files (the web app). Raises InvalidInputError for a URL that cannot
        be fetched (or a local one that is not allowed), FeedExistsError if already
        subscribed, InvalidRuleError for a keep/block rule that is not a regular
        expression.
        """
        if not allow_local:
            from .fetch.file import is_local

            if url.strip() and is_local(url.strip()):
                raise InvalidInputError(
                    f"{url.strip()!r}: only http(s) feed URLs can be subscribed to here, not local files"
                )
        location = normalise_feed_url(url)
        if interval_minutes <= 0:
            raise InvalidInputError("the interval must be a positive number of minutes")
        from .rules import compile_rules

        compile_rules(options)
        if check:
            check_feed_location(url, location)
        return self.store.add_feed(
            location,
            site or default_site(location, title=_local_feed_title(location) if site is None else None),
            interval_seconds=max(60, int(interval_minutes * 60)),
            options=options,
        )

    def add_preset(self, name: str = "original") -> list[Feed]:
        """Subscribe to a shipped list of feeds; feeds already subscribed are skipped."""
        added = []
        for item in load_preset(name):
            if self.store.find_feed(item.url) is not None:
                continue
            added.append(self.add_feed(item.url, site=item.site, options=item.options))
        return added

    def feeds(self) -> list[Feed]:
        """Every subscription, with its health and article count."""
        return self.store.feeds()

    def get_feed(self, ref: int | str) -> Feed:
        """A feed by id or by URL; FeedNotFoundError if there is none."""
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            return self.store.get_feed(int(ref))
        found = self.store.find_feed(ref) or self.store.find_feed(normalise_feed_url(ref))
        if found is None:
            raise FeedNotFoundError(f"no feed with URL {ref}")
        return found

    def remove_feed(self, ref: int | str) -> Feed:
        """Unsubscribe (by id or URL). The feed's articles stay in the archive."""
        feed = self.get_feed(ref)
        self.store.remove_feed(feed.id)
        return feed

    def set_feed_state(self, ref: int | str, state: FeedState) -> Feed:
        """Pause a feed (``FeedState.PAUSED``: kept and shown, not fetched) or make it
        active again; an active feed is due at once."""
        feed = self.get_feed(ref)
        changed = dataclasses.replace(
            feed,
            state=state,
            next_fetch=self._clock() if state is FeedState.ACTIVE else feed.next_fetch,
        )
        with self.store.transaction():
            self.store.save_feed(changed)
        return self.get_feed(feed.id)

    def import_opml(self, path: str | os.PathLike[str]) -> tuple[list[Feed], int]:
        """Subscribe to the feeds of an OPML file; returns those added and how many were known."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise InvalidInputError(f"{path}: {exc.strerror or exc}") from exc
        from .opml import read_opml

        added: list[Feed] = []
        known = 0
        for item in read_opml(data):
            try:
                location = normalise_feed_url(item.url)
            except InvalidInputError:
                continue
            if self.store.find_feed(location) is not None:
                known += 1
                continue
            from .errors import InvalidRuleError
            from .rules import compile_rules

            options = item.options
            try:
                compile_rules(options)
            except InvalidRuleError:
                options = FeedOptions(full_text=options.full_text)  # rules that cannot work
            added.append(
                self.add_feed(
                    location,
                    site=item.site,
                    interval_minutes=item.interval_minutes or 60,
                    options=options,
                    check=False,
                )
            )
        return added, known

    def export_opml(self) -> bytes:
        """The subscriptions as an OPML 2.0 document."""
        from .opml import write_opml

        return write_opml(self.store.feeds(), self._clock())


def _local_feed_title(location: str) -> str | None:
    """The title a local feed file gives itself, if it is one that parses."""
    if urlsplit(location).scheme != "file":
        return None
    from .errors import TidingsError

    try:
        return read_feed(location).title or None
    except TidingsError:
        return None


def open_archive(
    path: str | os.PathLike[str] | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    rules_dir: str | os.PathLike[str] | None = None,
    user_agent: str | None = None,
    images: str = "archive",
    media: str | os.PathLike[str] | None = None,
    keep_responses: bool = False,
    warc_size: int = 256,
    warc: str | os.PathLike[str] | None = None,
) -> Archive:
    """Open (creating and migrating as needed) the archive in a SQLite file, or in a
    PostgreSQL database when ``path`` is a ``postgresql://`` (or ``postgres://``) URL.

    ``path`` defaults to :func:`default_database_path`; ``rules_dir`` is the folder of the
    user's site rules (default: ``$TIDINGS_RULES``, else ``rules/`` in the user's
    configuration folder); ``user_agent`` replaces tidings' own User-Agent header.
    ``images`` is what happens to articles' images unless a feed says otherwise
    (``archive``: kept in the media folder; ``proxy``, ``none``: not kept); ``media`` is
    that folder (default: beside the database, ``news.sqlite3`` → ``news.media/``).
    ``keep_responses`` keeps every HTTP exchange (unless a feed says otherwise) as WARC
    records in rolling files of ``warc_size`` MiB in the folder ``warc`` (default: beside
    the database, ``news.warc/``). On PostgreSQL both folders default to the user's data
    folder; workers on several machines name a shared one.
    """
    location = os.fspath(path) if path is not None else os.fspath(default_database_path())
    from .media import LocalMedia, media_folder_for
    from .warc import warc_folder_for

    store: Store
    if location.lower().startswith(("postgresql://", "postgres://")):
        from .store.postgres import PostgresStore

        store = PostgresStore(location)
        # No file to sit beside: the media and WARC folders are in the user's data folder
        # unless named (a shared folder when workers run on several machines).
        beside = _data_folder() / "postgresql.sqlite3"
    else:
        store = SQLiteStore(location)
        beside = Path(location)
    folder = Path(media) if media is not None else (None if location == ":memory:" else media_folder_for(beside))
    return Archive(
        store,
        clock=clock,
        rules_dir=Path(rules_dir) if rules_dir is not None else None,
        user_agent=user_agent,
        media=LocalMedia(folder) if folder is not None else None,
        images=images,
        warc=Path(warc) if warc is not None else (None if location == ":memory:" else warc_folder_for(beside)),
        keep_responses=keep_responses,
        warc_size=warc_size,
    )


def read_feed(source: str, *, timeout: float = 30.0) -> ParsedFeed:
    """Retrieve a feed (URL, ``file://`` URL or local path) and parse it.

    Raises :class:`~tidings.errors.FetchError` when it cannot be retrieved and
    :class:`~tidings.errors.FeedParseError` when it is not a feed.
    """
    from .fetch.retrieve import fetch
    from .parse import parse_feed

    response = fetch(source, timeout=timeout)
    base = response.url
    if response.content_location:
        base = urljoin(base, response.content_location)
    return parse_feed(
        response.content,
        content_type=response.content_type,
        url=base,
        content_language=response.content_language,
    )
