"""Storage: one :class:`Store` protocol that every backend implements.

The archive talks to storage only through this protocol; a backend owns its
schema, its migrations and the mapping of its own errors to
:class:`~tidings.errors.StorageError`. Every backend passes the contract
tests in ``tests/test_store_contract.py``.

Writes outside :meth:`Store.transaction` are committed one by one; inside it
they are committed together when the block ends, or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..model import (
    Article,
    ArticleRef,
    ArticleState,
    Change,
    DocumentFile,
    Feed,
    FeedOptions,
    FetchRecord,
    ImageJob,
    ImageRecord,
    NewRevision,
    Revision,
    Sighting,
    Site,
    StateChange,
    Stats,
)
from .common import IndexRow

__all__ = ["IndexRow", "Store"]


class Store(Protocol):
    """What tidings needs from a database."""

    def close(self) -> None:
        """Release the connection; the store cannot be used afterwards."""

    def transaction(self) -> AbstractContextManager[None]:
        """Group writes: all of them are committed at the end of the block, or none."""

    # sites and feeds

    def site(self, name: str) -> Site:
        """The site with this name, created if it does not exist."""

    def sites(self) -> list[Site]:
        """Every site, by name."""

    def add_feed(
        self,
        url: str,
        site: str,
        *,
        interval_seconds: int = 3600,
        options: FeedOptions = FeedOptions(),
    ) -> Feed:
        """Subscribe to a feed URL (the site is created if needed); FeedExistsError if subscribed."""

    def get_feed(self, feed_id: int) -> Feed:
        """The feed with this id; FeedNotFoundError if there is none."""

    def find_feed(self, url: str) -> Feed | None:
        """The feed subscribed at exactly this URL, if any."""

    def feeds(self) -> list[Feed]:
        """Every feed, by id, with its article count."""

    def feed_options(self) -> dict[int, FeedOptions]:
        """Every feed's options, by id (cheaper than :meth:`feeds`)."""

    def due_feeds(self, now: datetime) -> list[Feed]:
        """Active feeds whose next fetch is due at ``now``, most overdue first."""

    #: Whether several processes share this store's feeds (PostgreSQL): then a pass leases
    #: them a few at a time (see :meth:`lease_feeds`).
    shares_work: bool
    #: Whether the index uses the distinct CJK characters of each text (IndexRow.body_characters).
    INDEX_CHARACTERS: bool

    def start_pass(self, worker: str) -> None:
        """Note that ``worker`` begins a pass (what ``all_active`` leases count from)."""

    def lease_feeds(
        self,
        now: datetime,
        *,
        worker: str,
        lease_seconds: float,
        all_active: bool = False,
        limit: int | None = None,
    ) -> list[Feed]:
        """Up to ``limit`` feeds this worker is to fetch now, leased to it: the active feeds
        that are due (with ``all_active``: every active feed not leased since the earliest
        pass still running began) and that no other live worker holds. A lease ends with
        :meth:`release_feeds`, with the worker's database session, or ``lease_seconds``
        after it was taken. (SQLite has one writer at a time and no other workers: its
        leases are the due feeds, or all active ones, all at once.)"""

    def release_feeds(self, worker: str, feed_ids: list[int]) -> None:
        """End this worker's leases of these feeds."""

    def record_worker(self, worker: str, now: datetime, summary: dict[str, object]) -> None:
        """Note that ``worker`` is alive and what its last pass did."""

    def workers(self, now: datetime) -> list[dict[str, object]]:
        """The workers seen, newest first: name, when it started and was last seen, whether
        its session is alive, the feeds it holds, and its last pass."""

    def next_due(self) -> datetime | None:
        """When the next active feed is due (the epoch for one never fetched); None if none."""

    def save_feed(self, feed: Feed) -> None:
        """Write a feed's state (URL, validators, schedule, health, options) back."""

    def remove_feed(self, feed_id: int) -> None:
        """Unsubscribe; the feed's articles stay in the archive."""

    def record_fetch(self, record: FetchRecord) -> None:
        """Append one entry to the fetch log."""

    def fetch_log(self, feed_id: int) -> list[FetchRecord]:
        """The fetch log of one feed, oldest first."""

    # articles and revisions

    def find_article(self, site_id: int, key: str) -> Article | None:
        """The article of a site with this identity key, if any."""

    def add_article(
        self,
        site_id: int,
        key: str,
        url: str,
        seen: datetime,
        published: datetime | None,
        feed_id: int | None = None,
    ) -> Article:
        """Create an article; (site, key) must be new."""

    def touch_article(self, article_id: int, seen: datetime) -> None:
        """Record that the article was seen again."""

    def touch_articles(
        self, article_ids: list[int], seen: datetime, feed_id: int | None = None
    ) -> None:
        """Record that several articles were seen again (in ``feed_id``, adopting those
        that had no feed, such as imported ones)."""

    def articles_matching(self, site_id: int, keys: list[str], urls: list[str]) -> list[ArticleRef]:
        """Articles of a site whose key is one of ``keys`` or whose URL is one of ``urls``."""

    def get_article(self, article_id: int) -> Article:
        """The article with this id; ArticleNotFoundError if there is none."""

    def add_revision(
        self,
        article_id: int,
        revision: NewRevision,
        *,
        current: bool = True,
        feed_id: int | None = None,
        status: int | None = None,
    ) -> tuple[Revision, bool]:
        """Store a revision unless the article already has one with the same content.

        Either way, with ``current`` the revision becomes the article's current
        one (content can return to an earlier version); without it (text
        extracted from the article page, kept beside the feed's) the current
        revision stays. The look is recorded as a sighting by the revision's
        source (see :meth:`see_revision`). Returns the revision and whether it is new.
        """

    def see_revision(
        self,
        article_id: int,
        revision_id: int,
        *,
        source: str,
        seen: datetime,
        feed_id: int | None = None,
        status: int | None = None,
        raw: NewRevision | None = None,
        current: bool = False,
    ) -> None:
        """Record that ``source`` (``feed``, ``extracted``, ``check``, ``import``) showed an
        existing revision: the newest sighting by that source goes on if it showed the
        same, else a new one starts. ``raw``: the bytes received, when they differ from the
        revision's own (kept once per revision). ``current`` makes the revision current."""

    def sightings(self, article_id: int) -> list[Sighting]:
        """Every sighting of an article, oldest first."""

    def raw_content(self, raw_id: int) -> tuple[str, str]:
        """The title and HTML of a raw variant a sighting names."""

    def change_state(
        self, article_id: int, state: ArticleState, at: datetime, evidence: dict[str, object]
    ) -> StateChange | None:
        """Move an article to ``state`` (recorded as an event with its evidence); None when it
        is in that state already."""

    def state_changes(self, article_id: int | None = None, *, limit: int = 1000) -> list[StateChange]:
        """An article's state changes, oldest first; or, without an article, the newest of all."""

    def recent_changes(
        self, site: str | None = None, *, limit: int = 50, before: tuple[int, int, int] | None = None
    ) -> list[Change]:
        """Edits and state changes (of one site, or all) in one list, newest first: see
        :class:`~tidings.model.Change`. Revisions from imports are not edits here (their time
        is the import's). ``before`` is the keyset (time ms, 0 for an edit or 1 for a state
        change, id) of the last change of the previous page."""

    def feed_articles(self, feed_id: int, states: tuple[ArticleState, ...]) -> list[Article]:
        """The articles a feed brought that are in one of these states, by id."""

    def recheck_candidates(
        self, since: datetime, *, feed_id: int | None = None
    ) -> list[tuple[Article, datetime | None]]:
        """Articles first seen since ``since`` that came from a feed and are not deleted,
        newest first, each with when its page was last looked at (None: never)."""

    def set_revision_history(self, revision_id: int, fingerprint: str | None, changed: tuple[str, ...]) -> None:
        """Record a revision's fingerprint (unless None) and which parts changed."""

    def revisions(self, article_id: int) -> list[Revision]:
        """Every revision of an article, oldest first."""

    def iter_articles(self, site: str | None = None) -> Iterator[Article]:
        """Articles (of one site, or all), by id."""

    def iter_revisions(
        self, site: str | None = None, *, latest_only: bool = False
    ) -> Iterator[Revision]:
        """Revisions ordered by article id then age; only each article's current one when asked."""

    def underived_revisions(self, limit: int, after_id: int = 0) -> list[Revision]:
        """Up to ``limit`` revisions (id above ``after_id``) whose clean HTML and text are not derived yet."""

    def claim(self, kind: str, ids: list[int]) -> list[int]:
        """Of these ``article`` ids (to re-check) or ``image`` ids (to fetch), those no other
        worker is working on now, claimed by this one until :meth:`release` (or until its
        session ends); in their order. (SQLite: all of them.)"""

    def release(self, kind: str, ids: list[int]) -> None:
        """Let go of what :meth:`claim` gave."""

    def end_derive(self) -> None:
        """The derive stage of this process is over: let go of what it claimed and did
        not save (PostgreSQL, where workers share the stage); give back to the file
        system the pages it freed, when they are many (SQLite)."""

    def underived_count(self) -> int:
        """How many revisions have no derived text yet."""

    def revision_batch(self, after_id: int, limit: int) -> list[Revision]:
        """Up to ``limit`` revisions with ids above ``after_id``, by id."""

    def save_derived(self, items: list[tuple[int, Any, Any]]) -> None:
        """Store derived (revision id, clean HTML, text) triples, each value as it is or as
        :meth:`derived_packer` made it; a revision whose clean HTML changes loses its
        fingerprint (it is taken again from the new one when needed)."""

    def derived_packer(self) -> Callable[[str | None, Any], Any] | None:
        """The function that packs a clean HTML or text against its revision's HTML as this
        store keeps it, or None when it keeps them as they are (run by derive workers)."""

    # archived images

    def unlisted_image_revisions(self, limit: int) -> list[tuple[int, str, tuple[dict[str, object], ...]]]:
        """Up to ``limit`` derived revisions whose images are not listed yet: (id, clean HTML,
        enclosures). Inside a transaction on a shared database, locked until it ends, and
        those another worker has locked are passed over."""

    def list_revision_images(self, items: list[tuple[int, list[str]]]) -> None:
        """Record which images (by URL, in order) each revision uses, and that it was looked
        at."""

    def images_due(
        self,
        limit: int,
        *,
        max_attempts: int,
        now: datetime,
        retry_after: timedelta,
        skip_feeds: tuple[int, ...] = (),
        skip_unfed: bool = False,
    ) -> list[ImageJob]:
        """Images to fetch: never tried, or failed fewer than ``max_attempts`` times and
        last tried ``retry_after`` ago or more; none of the feeds ``skip_feeds`` (nor, with
        ``skip_unfed``, of articles no feed brought)."""

    def record_image(
        self,
        image_id: int,
        status: str,
        *,
        tried: datetime,
        sha256: str | None = None,
        media_type: str | None = None,
        size: int | None = None,
        reason: str | None = None,
        http_status: int | None = None,
    ) -> None:
        """What a try of an image gave (``archived`` with its file, ``failed`` or ``refused``)."""

    def archived_images(self, urls: list[str]) -> dict[str, tuple[str, str]]:
        """The archived ones of these image URLs: URL → (SHA-256, media type)."""

    def revision_images(self, revision_ids: list[int]) -> dict[int, list[ImageRecord]]:
        """The images each of these revisions uses, in order, with what became of them."""

    def media_type(self, sha256: str) -> str | None:
        """The type of the file kept under ``sha256`` (None when there is none)."""

    def image_counts(self) -> dict[str, int]:
        """How many images have each status."""

    def referenced_media(self) -> set[str]:
        """The SHA-256 of every file an image refers to."""

    def forget_media(self, sha256s: list[str]) -> None:
        """Drop the records of these files, unless an image still refers to one."""

    def article_digests(self, site: str | None = None) -> list[tuple[int, str, int]]:
        """For each article (of one site, or all), by id: a string that changes whenever its
        published page would (its row, revisions, sightings and state changes, but not the
        last time or count of a sighting), and when its newest revision was seen (epoch ms)."""

    def revision_keys(self, site: str | None = None) -> list[tuple[int, int, int]]:
        """(revision id, article id, length of the clean HTML) of every revision (of one site,
        or all), by revision id."""

    def revisions_by_id(self, revision_ids: list[int]) -> list[Revision]:
        """These revisions, by id (ids that do not exist are left out)."""

    def article_urls(self, article_ids: list[int]) -> dict[int, str]:
        """The URL of each of these articles."""

    def timeline(
        self,
        *,
        site: str | None = None,
        before: tuple[int, int] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
    ) -> list[tuple[Article, str]]:
        """Articles newest first with their current title (keyset: ``before`` = (time ms, id))."""

    # the search index (rows hold text prepared by tidings.textindex)

    def index_sources(self, article_ids: list[int], *, bodies: bool = True) -> dict[int, tuple[int, str, int, str]]:
        """What each article's index row should hold: (title revision, title, body revision, body
        text; "" without ``bodies``)."""

    def indexed_sources(self, article_ids: list[int]) -> dict[int, tuple[int, str, int, str]]:
        """What each article's index row holds now (same shape as index_sources)."""

    def write_index(self, removals: list[tuple[int, str, str]], additions: list[IndexRow]) -> None:
        """Remove rows (id, prepared title, prepared body as added) and add rows."""

    def clear_index(self) -> None:
        """Empty the search index (the archive is untouched)."""

    def article_ids(self, after_id: int, limit: int) -> list[int]:
        """Article ids above ``after_id``, by id."""

    def search(
        self,
        match: str,
        *,
        limit: int,
        site: str | None = None,
        feed_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        lang: str | None = None,
        after: tuple[float, int, int] | None = None,
        newest: bool = False,
    ) -> list[tuple[Any, ...]]:
        """Run a prepared FTS5 expression, best first or (``newest``) last archived first;
        see :meth:`tidings.store.search.SearchQueries.search` for the row shape."""

    def compact(self) -> tuple[int, int, int] | None:
        """Pack the long texts written before they were packed and give the space back:
        (texts packed, bytes before, bytes after); None where the database compresses long
        values itself (PostgreSQL)."""

    def index_missing(self) -> bool:
        """Whether the search index is empty while derived text exists (to be rebuilt)."""

    def index_size(self) -> tuple[int, int]:
        """Bytes used by the search index, and the page size."""

    # files of the original document layout

    def document_file(self, site_id: int, file_name: str) -> DocumentFile | None:
        """The record of a file name of a site's folder, if any."""

    def put_document_file(self, record: DocumentFile) -> None:
        """Create or replace the record of a file name."""

    def document_files(self, site: str | None = None) -> list[DocumentFile]:
        """Records of document files (of one site, or all)."""

    def article_document_files(self, article_id: int) -> list[DocumentFile]:
        """Records of the document files that hold revisions of one article."""

    # summaries of sites (read only)

    def site_article_counts(self) -> dict[str, int]:
        """How many articles each site has, by site name (every site, none left out)."""

    def site_language(self, site: str, sample: int = 200) -> str | None:
        """The most common language (lower-cased) of the current revisions of the site's
        ``sample`` newest articles; None when none states one (or there is no such site)."""

    def stats(self) -> Stats:
        """Counts and size of the archive."""
