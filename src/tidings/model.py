"""Plain, frozen data types shared by every part of tidings.

Times are aware UTC datetimes everywhere. Identifiers are integers assigned
by the store.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

__all__ = [
    "Article",
    "ArticleRef",
    "ArticleState",
    "BackfillSummary",
    "Change",
    "ChangesPage",
    "DocumentFile",
    "Enclosure",
    "ExportReport",
    "ImageJob",
    "ImageRecord",
    "ImageSummary",
    "PublishReport",
    "FetchRecord",
    "FeedOutcome",
    "Feed",
    "FeedOptions",
    "FeedState",
    "FileProblem",
    "ImportReport",
    "NewRevision",
    "ParsedEntry",
    "ParsedFeed",
    "Revision",
    "RecheckSummary",
    "RevisionSource",
    "SearchHit",
    "SearchPage",
    "Sighting",
    "Site",
    "StateChange",
    "Stats",
    "TimelinePage",
    "UpdateSummary",
    "WarcExport",
    "WarcImport",
    "content_hash",
    "current_of",
    "iso_utc",
    "utc_now",
]


def utc_now() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` (``2023-11-08T01:55:00Z``), or None."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


class ArticleState(str, enum.Enum):
    """Where an article stands with respect to its source."""

    PRESENT = "present"
    MISSING = "missing"  # gone from the feed while older items remain
    DELETED = "deleted"  # the link answers 404/410 or redirects to a front page


class RevisionSource(str, enum.Enum):
    """Where a revision's content came from."""

    FEED = "feed"
    EXTRACTED = "extracted"
    IMPORT = "import"


@dataclass(frozen=True, slots=True)
class Site:
    """A publisher; articles and feeds belong to one."""

    id: int
    name: str


class FeedState(str, enum.Enum):
    """Whether a feed is fetched."""

    ACTIVE = "active"
    PAUSED = "paused"  # by the user
    GONE = "gone"  # the server answered 410 Gone: kept and shown, not fetched


@dataclass(frozen=True, slots=True)
class FeedOptions:
    """Per-feed settings.

    ``keep_*`` and ``block_*`` are regular expressions (searched, case-insensitive):
    an entry is kept when every keep rule given matches (for categories: any
    category) and no block rule matches. ``full_text`` is ``auto``, ``always``
    or ``never``.
    """

    keep_title: str | None = None
    keep_category: str | None = None
    keep_author: str | None = None
    block_title: str | None = None
    block_category: str | None = None
    block_author: str | None = None
    full_text: str = "auto"
    #: Look at young articles' pages again on the decaying schedule (edits after the feed).
    recheck: bool = True
    #: The feed's images: ``archive`` (kept in the media folder), ``proxy`` (shown through
    #: the web app's proxy, not kept) or ``none`` (shown as links); None: the archive's setting.
    images: str | None = None
    #: Keep this feed's HTTP exchanges (feed, pages, images) as WARC records; None: the
    #: archive's ``keep_responses`` setting.
    keep_responses: bool | None = None


@dataclass(frozen=True, slots=True)
class Feed:
    """A subscription to one feed URL, with its schedule and health."""

    id: int
    url: str
    site: str
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    interval_seconds: int = 3600
    next_fetch: datetime | None = None
    last_fetch: datetime | None = None
    last_success: datetime | None = None
    error_count: int = 0
    error_kind: str | None = None
    error_message: str | None = None
    state: FeedState = FeedState.ACTIVE
    options: FeedOptions = FeedOptions()
    #: The interval in use now: the configured one, adapted to how often the feed publishes.
    current_interval_seconds: int = 3600
    last_status: int | None = None
    last_new: datetime | None = None
    article_count: int = 0
    #: What the last successful fetch could not read (items skipped, a document whose
    #: items none could be read, entries beyond the per-document limit); None when all was read.
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """The identity of an article: which story it is, not what it says."""

    id: int
    site: str
    key: str
    url: str
    first_seen: datetime
    last_seen: datetime
    published: datetime | None
    state: ArticleState = ArticleState.PRESENT
    feed_id: int | None = None
    #: The revision that is the article's content now (None: it has none yet).
    current_revision_id: int | None = None
    #: When the article entered its state (None: present since it was first seen).
    state_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Sighting:
    """A run of looks at an article that showed one revision: from ``first_seen`` to
    ``last_seen``, ``times`` looks in all, by one source (``feed``, ``extracted``, ``check``,
    ``import``). ``raw_id`` names the bytes received when they differ from the revision's
    own (a variant the cleaning rules make equal to it)."""

    id: int
    article_id: int
    revision_id: int
    source: str
    first_seen: datetime
    last_seen: datetime
    times: int = 1
    feed_id: int | None = None
    status: int | None = None
    raw_id: int | None = None


@dataclass(frozen=True, slots=True)
class StateChange:
    """An article moving between ``present``, ``missing`` and ``deleted``, with the evidence
    (what the feed or the link's check showed)."""

    id: int
    article_id: int
    at: datetime
    old_state: ArticleState
    new_state: ArticleState
    evidence: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the archive's recent changes.

    An *edit* (``kind`` ``edit``, ``id`` the revision's): a revision seen by a feed or a page
    that replaced an earlier one of the same kind of source (the feed's content, or the
    page's full text), ``previous_revision_id`` being that one; ``changed`` names the parts
    it changed. A *state change* (``kind`` ``state``, ``id`` the event's): the article moved
    from ``old_state`` to ``new_state``, with the ``evidence``. ``title`` is the edit's new
    title, or the article's current title for a state change."""

    kind: str
    id: int
    at: datetime
    article_id: int
    site: str
    url: str
    title: str
    changed: tuple[str, ...] = ()
    revision_id: int | None = None
    previous_revision_id: int | None = None
    source: str | None = None
    old_state: ArticleState | None = None
    new_state: ArticleState | None = None
    evidence: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChangesPage:
    """Recent changes, newest first; ``next_cursor`` gives the older ones."""

    items: tuple[Change, ...]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class ArticleRef:
    """What an update needs to know of an existing article to match and compare entries."""

    id: int
    key: str
    url: str
    current_hash: str | None


@dataclass(frozen=True, slots=True)
class NewRevision:
    """Content of an article as received, before the store numbers it."""

    seen: datetime
    title: str
    content_html: str
    source: RevisionSource
    author: str | None = None
    summary: str | None = None
    enclosures: tuple[dict[str, str | int], ...] = ()
    language: str | None = None
    #: Derived by the cleaning stage (None until derived).
    clean_html: str | None = None
    text: str | None = None
    #: See :class:`Revision`; known at storing time only when the content was cleaned then.
    fingerprint: str | None = None
    changed: tuple[str, ...] = ()

    @property
    def content_hash(self) -> str:
        return content_hash(self.title, self.content_html)


@dataclass(frozen=True, slots=True)
class Revision:
    """One distinct content of an article, kept forever."""

    id: int
    article_id: int
    seen: datetime
    title: str
    content_html: str
    content_hash: str
    source: RevisionSource
    author: str | None = None
    summary: str | None = None
    enclosures: tuple[dict[str, str | int], ...] = ()
    language: str | None = None
    #: Derived from ``content_html`` by the cleaning stage; None until derived.
    clean_html: str | None = None
    text: str | None = None
    #: What decides whether two contents are the same revision (see :mod:`tidings.history`);
    #: None until an update needs it (taken from the clean HTML, cleared when that changes).
    fingerprint: str | None = None
    #: Which parts differ from the revision that was current before it: ``title``, ``body``,
    #: ``author``, ``links``, ``images`` (empty for an article's first revision).
    changed: tuple[str, ...] = ()


def current_of(article: Article, revisions: Sequence[Revision]) -> Revision | None:
    """Of an article's revisions (oldest first), the one that is its content now: the
    one its current pointer names, else the newest; None when it has none."""
    for revision in revisions:
        if revision.id == article.current_revision_id:
            return revision
    return revisions[-1] if revisions else None


def content_hash(title: str, content_html: str) -> str:
    """The identity of a revision's content: title (whitespace-normalised) and exact HTML."""
    digest = hashlib.sha256()
    digest.update(" ".join(title.split()).encode("utf-8", "surrogatepass"))
    digest.update(b"\x00")
    digest.update(content_html.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class DocumentFile:
    """A file of the original layout that holds one revision of an article.

    ``head``/``tail``/``bom`` are the file's exact framing around the HTML, so
    that the file can be written back byte for byte; ``head`` is None for
    files tidings named itself and renders in the canonical form.
    """

    site: str
    file_name: str
    file_id: int | None
    article_id: int
    revision_id: int
    head: str | None = None
    tail: str = "\n"
    bom: bool = False


@dataclass(frozen=True, slots=True)
class FetchRecord:
    """One entry of the fetch log."""

    feed_id: int
    started: datetime
    status: int | None
    bytes: int
    duration_ms: int
    new_articles: int = 0
    changed_articles: int = 0
    error_kind: str | None = None
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class FileProblem:
    """A file an import or export could not handle, with the reason."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did."""

    files: int = 0
    new_articles: int = 0
    new_revisions: int = 0
    unchanged: int = 0
    errors: tuple[FileProblem, ...] = ()


@dataclass(frozen=True, slots=True)
class WarcExport:
    """What a WARC export wrote: records copied from the kept exchanges, revisions written
    as ``resource`` records, revisions that name a kept page instead, and index lines."""

    copied: int = 0
    resources: int = 0
    linked: int = 0
    indexed: int = 0


@dataclass(frozen=True, slots=True)
class WarcImport:
    """What a WARC import did. ``kind`` is ``export`` (a tidings export: its articles and
    revisions given back) or ``captures`` (another crawler's: feed documents stored as
    their feeds' items, pages as the full text of the articles they are). ``skipped``
    counts records that were neither (requests, other pages, failed answers…);
    ``problems`` says what could not be read."""

    kind: str
    records: int = 0
    new_articles: int = 0
    new_revisions: int = 0
    unchanged: int = 0
    feeds: int = 0
    pages: int = 0
    skipped: int = 0
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export did."""

    articles: int = 0
    written: int = 0
    unchanged: int = 0
    renamed: tuple[FileProblem, ...] = ()
    paths: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True)
class PublishReport:
    """What a publish did.

    ``new`` and ``edited`` count, by site, the articles whose pages are new to the mirror
    and those whose pages changed (an edit, a state change, a new sighting); ``paths`` are
    the files written or removed, relative to the mirror. ``commit`` is the new commit's
    id (with ``--git``), ``push_error`` why a push failed (the commit stays).
    """

    articles: int = 0
    new: tuple[tuple[str, int], ...] = ()
    edited: tuple[tuple[str, int], ...] = ()
    written: int = 0
    unchanged: int = 0
    paths: tuple[str, ...] = field(default=(), repr=False)
    search: str = ""
    seconds: float = 0.0
    search_seconds: float = 0.0
    commit: str | None = None
    pushed: bool = False
    push_error: str | None = None

    @property
    def summary(self) -> str:
        """``12 new articles, 3 edited: 法广 7, BBC 5``, or what else changed."""
        new = sum(count for _, count in self.new)
        edited = sum(count for _, count in self.edited)
        if not new and not edited:
            return f"{self.written} files updated" if self.written else "nothing changed"
        by_site: dict[str, int] = {}
        for site, count in (*self.new, *self.edited):
            by_site[site] = by_site.get(site, 0) + count
        sites = ", ".join(f"{site} {count}" for site, count in sorted(by_site.items(), key=lambda kv: (-kv[1], kv[0])))
        noun = "article" if new == 1 else "articles"
        return f"{new} new {noun}, {edited} edited: {sites}"


@dataclass(frozen=True, slots=True)
class Stats:
    """Counts describing an archive (images by status, and the media folder's files)."""

    sites: int
    feeds: int
    articles: int
    revisions: int
    database_bytes: int
    images: tuple[tuple[str, int], ...] = ()
    media_files: int = 0
    media_bytes: int = 0


@dataclass(frozen=True, slots=True)
class ImageJob:
    """An image to fetch: where it is, the page or feed that links to it (whose host it may
    share; else it must be public), and how many times it was tried before."""

    image_id: int
    url: str
    linked_from: str
    feed_id: int | None
    attempts: int


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """An image a revision uses, and what became of it: ``archived`` (with the SHA-256 of
    its file, its type and size), ``failed`` (tried again later, a bounded number of
    times), ``refused`` (for good: not a raster image, too large, a forbidden address) or
    ``pending``."""

    url: str
    status: str
    sha256: str | None = None
    media_type: str | None = None
    size: int | None = None
    reason: str | None = None
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class ImageSummary:
    """What a round of image archiving did."""

    listed: int = 0
    archived: int = 0
    already_had: int = 0
    failed: int = 0
    refused: int = 0
    deferred: int = 0
    bytes: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Enclosure:
    """A file attached to an entry: RSS enclosure, Media RSS content or thumbnail, JSON attachment."""

    url: str
    type: str | None = None
    length: int | None = None
    medium: str | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One entry of a feed, as the parser read it.

    ``title`` is plain text; ``summary`` and ``content`` are HTML exactly as the
    feed gave it (plain-text fields are HTML-escaped into it); ``base`` is the
    URL relative links inside them are resolved against. Times are aware UTC.
    """

    id: str | None = None
    link: str | None = None
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    summary: str | None = None
    content: str | None = None
    enclosures: tuple[Enclosure, ...] = ()
    categories: tuple[str, ...] = ()
    language: str | None = None
    base: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A whole feed as the parser read it.

    ``version`` names the format (``rss20``, ``rss10``, ``rss090``, ``rss091``,
    ``rss092``, ``atom10``, ``atom03``, ``json1``, ``json11``); ``encoding``
    the character encoding used; ``recovered`` is true when the document was
    not well-formed and was read by the error-tolerant path, and ``problems``
    says what was wrong or corrected. ``item_elements`` is how many items the
    document holds (XML ``item`` and ``entry`` elements, JSON Feed items), and
    ``skipped_items`` how many of them could not be read and are missing from
    ``entries``.

    The links to the feed's history (RFC 5005), absolute: ``prev_archive`` is the
    previous archive document (``rel="prev-archive"``), ``next_page`` the next page
    of a paged feed (``rel="next"``, in Atom or as ``atom:link`` in RSS; JSON Feed's
    ``next_url``); ``complete`` is true for a feed marked ``fh:complete``, which holds
    every entry there is and has no archive.
    """

    version: str
    encoding: str
    entries: tuple[ParsedEntry, ...] = ()
    id: str | None = None
    title: str | None = None
    link: str | None = None
    subtitle: str | None = None
    language: str | None = None
    updated: datetime | None = None
    author: str | None = None
    image: str | None = None
    ttl_minutes: int | None = None
    categories: tuple[str, ...] = ()
    recovered: bool = False
    problems: tuple[str, ...] = ()
    item_elements: int = 0
    skipped_items: int = 0
    prev_archive: str | None = None
    next_page: str | None = None
    complete: bool = False


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One story found by a search.

    ``snippet`` is HTML: the article's own text around the first match, with
    matches in ``<mark>``. ``sources`` lists every site that carries the same
    story (same link); ``score`` is BM25 (lower is better, as SQLite reports it).
    """

    article_id: int
    site: str
    title: str
    url: str
    published: datetime | None
    snippet: str
    score: float
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SearchPage:
    """A page of search results; pass ``next_cursor`` back for the following page."""

    hits: tuple[SearchHit, ...]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class TimelinePage:
    """Articles newest first, with their current titles; ``next_cursor`` gives the older ones."""

    items: tuple[tuple[Article, str], ...]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """What one feed's update did. ``status`` is fetched, not_modified, failed or gone."""

    feed_id: int
    url: str
    status: str
    new_articles: int = 0
    changed_articles: int = 0
    error_kind: str | None = None
    error_message: str | None = None
    extracted: int = 0


@dataclass(frozen=True, slots=True)
class UpdateSummary:
    """What an update pass did."""

    feeds: int
    fetched: int
    not_modified: int
    failed: int
    new_articles: int
    changed_articles: int
    seconds: float
    outcomes: tuple[FeedOutcome, ...] = ()
    extracted: int = 0
    #: Revisions whose clean HTML and text were derived after the pass, and how long it took.
    derived: int = 0
    derive_seconds: float = 0.0
    #: What archiving the new revisions' images did (None when images are not archived).
    images: ImageSummary | None = None

    @classmethod
    def of(cls, outcomes: Sequence[FeedOutcome], seconds: float) -> UpdateSummary:
        return cls(
            feeds=len(outcomes),
            fetched=sum(o.status == "fetched" for o in outcomes),
            not_modified=sum(o.status == "not_modified" for o in outcomes),
            failed=sum(o.status in ("failed", "gone") for o in outcomes),
            new_articles=sum(o.new_articles for o in outcomes),
            changed_articles=sum(o.changed_articles for o in outcomes),
            seconds=seconds,
            outcomes=tuple(outcomes),
            extracted=sum(o.extracted for o in outcomes),
        )


@dataclass(frozen=True, slots=True)
class RecheckSummary:
    """What a round of looking at young articles' pages again did."""

    due: int
    checked: int
    changed: int
    deleted: int
    failed: int
    #: Hosts that answered 429 or 503: the rest of their pages wait for the next round.
    backed_off: tuple[str, ...] = ()
    #: Pages not looked at because of the per-host bound or the time budget.
    left: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class BackfillSummary:
    """What walking a feed's archive once (:meth:`tidings.archive.Archive.backfill`) did.

    ``pages`` counts the archive pages read and stored (the feed's own document not
    included); ``new_articles`` and ``changed`` count what they and the feed's document
    added. ``stopped_because`` is one of ``complete`` (the feed says it has no archive),
    ``no_archive``, ``end`` (the last page links no further), ``loop`` (a page already
    read), ``nothing_new``, ``pages``, ``time`` or ``failed``; for ``failed``,
    ``failed_url``, ``error_kind`` and ``error_message`` say which page and why.
    """

    pages: int
    new_articles: int
    changed: int
    stopped_because: str
    seconds: float = 0.0
    failed_url: str | None = None
    error_kind: str | None = None
    error_message: str | None = None
