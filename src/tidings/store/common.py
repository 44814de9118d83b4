"""What the store's modules share on every database: error wrapping, times as epoch
milliseconds, IN lists in chunks, and rows made into model objects."""

from __future__ import annotations

import functools
import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple, ParamSpec, TypeVar

from ..errors import StorageError
from ..model import (
    Article,
    Site,
    ArticleState,
    DocumentFile,
    Feed,
    FeedOptions,
    FeedState,
    Revision,
    RevisionSource,
)

__all__ = [
    "ARTICLE_COLUMNS",
    "FEED_COLUMNS",
    "IN_CHUNK",
    "IndexRow",
    "Queries",
    "revision_columns",
    "article_row",
    "document_file_row",
    "dt",
    "dt_required",
    "feed_row",
    "first_line",
    "ms",
    "ms_required",
    "register_errors",
    "revision_row",
    "rows_in",
    "time_range",
    "wrap_errors",
]


class IndexRow(NamedTuple):
    """One article's row of the search index, as the derive stage hands it to a store."""

    article_id: int
    title: str  #: prepared (tidings.textindex.prepare)
    body: str  #: prepared
    title_revision: int
    body_revision: int
    #: The body's distinct CJK characters (textindex.cjk_characters) when already known.
    body_characters: str | None = None

#: Values per IN list: well under SQLite's limit on bound parameters.
IN_CHUNK = 500

P = ParamSpec("P")
R = TypeVar("R")


#: The error classes of the database drivers in use (a driver's module adds its own).
_ERRORS: tuple[type[Exception], ...] = ()


def register_errors(*kinds: type[Exception]) -> None:
    """Have :func:`wrap_errors` turn these driver errors into StorageError too."""
    global _ERRORS
    _ERRORS = tuple(dict.fromkeys((*_ERRORS, *kinds)))


def wrap_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn database errors raised by a store method into StorageError."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except _ERRORS as exc:
            raise StorageError(f"database error in {func.__name__}: {exc}") from exc
        except OverflowError as exc:  # a number beyond SQLite's 64-bit integers
            raise StorageError(f"{func.__name__}: {exc}") from exc

    return wrapper


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MILLISECOND = timedelta(milliseconds=1)


def ms(value: datetime | None) -> int | None:
    return None if value is None else ms_required(value)


def ms_required(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; tidings uses aware UTC times")
    return (value - _EPOCH) // _MILLISECOND  # exact: no float rounding


def dt(value: int | None) -> datetime | None:
    if value is None:
        return None
    return _EPOCH + value * _MILLISECOND


def dt_required(value: int) -> datetime:
    return _EPOCH + value * _MILLISECOND


def _chunks(sql: str, values: list[Any], before: tuple[Any, ...]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """``sql`` (whose ``{marks}`` stands for an IN list) and its parameters, for ``values``
    in chunks; ``before`` are parameters that come ahead of the list."""
    for start in range(0, len(values), IN_CHUNK):
        chunk = values[start : start + IN_CHUNK]
        yield sql.format(marks=",".join("?" * len(chunk))), (*before, *chunk)


def rows_in(db: Any, sql: str, values: list[Any], *before: Any) -> Iterator[tuple[Any, ...]]:
    """Rows of ``sql`` (whose ``{marks}`` stands for an IN list) for all ``values``, queried
    in chunks; ``before`` are parameters that come ahead of the list."""
    for statement, params in _chunks(sql, values, before):
        yield from db.execute(statement, params)


def run_in(db: Any, sql: str, values: list[Any], *before: Any) -> None:
    """Run ``sql``, which returns no rows, for all ``values`` as :func:`rows_in` does (no
    rows read: on PostgreSQL nothing waits for them)."""
    for statement, params in _chunks(sql, values, before):
        db.execute(statement, params)


ARTICLE_COLUMNS = (
    "a.id, s.name, a.key, a.url, a.first_seen, a.last_seen, a.published, a.state, a.feed_id,"
    " a.current_revision_id, a.state_since"
)


@functools.cache
def revision_columns(read_derived: str = "{0}") -> str:
    """The columns :func:`revision_row` reads, a revision's clean HTML and text read as
    ``read_derived`` says (see :attr:`Queries.READ_DERIVED`)."""
    clean = read_derived.format("r.clean_html", "r.content_html")
    text = read_derived.format("r.text", "r.content_html")
    return (
        "r.id, r.article_id, r.seen, r.title, r.content_html, r.content_hash, r.source,"
        f" r.author, r.summary, r.enclosures, r.language, {clean}, {text}, r.fingerprint, r.changed"
    )


FEED_COLUMNS = (
    "f.id, f.url, s.name, f.title, f.etag, f.last_modified, f.interval_s, f.next_fetch,"
    " f.last_fetch, f.last_success, f.error_count, f.error_kind, f.error_message, f.state,"
    " f.options, f.current_interval_s, f.last_status, f.last_new,"
    " (SELECT count(*) FROM articles a WHERE a.feed_id = f.id), f.problem"
)


def article_row(row: tuple[Any, ...]) -> Article:
    return Article(
        id=row[0],
        site=row[1],
        key=row[2],
        url=row[3],
        first_seen=dt_required(row[4]),
        last_seen=dt_required(row[5]),
        published=dt(row[6]),
        state=ArticleState(row[7]),
        feed_id=row[8],
        current_revision_id=row[9],
        state_since=dt(row[10]),
    )


def revision_row(row: tuple[Any, ...]) -> Revision:
    return Revision(
        id=row[0],
        article_id=row[1],
        seen=dt_required(row[2]),
        title=row[3],
        content_html=row[4],
        content_hash=row[5],
        source=RevisionSource(row[6]),
        author=row[7],
        summary=row[8],
        enclosures=tuple(json.loads(row[9])),
        language=row[10],
        clean_html=row[11],
        text=row[12],
        fingerprint=row[13],
        changed=tuple(json.loads(row[14])),
    )


def options_of(text: str) -> FeedOptions:
    """A feed's options from their stored JSON (unknown keys ignored, unreadable: the defaults)."""
    try:
        values = json.loads(text)
    except ValueError:
        return FeedOptions()
    known = {f.name for f in dataclasses.fields(FeedOptions)}
    return FeedOptions(**{k: v for k, v in values.items() if k in known})


def feed_row(row: tuple[Any, ...]) -> Feed:
    return Feed(
        id=row[0],
        url=row[1],
        site=row[2],
        title=row[3],
        etag=row[4],
        last_modified=row[5],
        interval_seconds=row[6],
        next_fetch=dt(row[7]),
        last_fetch=dt(row[8]),
        last_success=dt(row[9]),
        error_count=row[10],
        error_kind=row[11],
        error_message=row[12],
        state=FeedState(row[13]),
        options=options_of(row[14]),
        current_interval_seconds=row[15],
        last_status=row[16],
        last_new=dt(row[17]),
        article_count=row[18],
        problem=row[19],
    )


def document_file_row(row: tuple[Any, ...]) -> DocumentFile:
    return DocumentFile(
        site=row[0],
        file_name=row[1],
        file_id=row[2],
        article_id=row[3],
        revision_id=row[4],
        head=row[5],
        tail=row[6],
        bom=bool(row[7]),
    )


def time_range(where: list[str], params: list[Any], since: datetime | None, until: datetime | None) -> None:
    """Add the conditions "published (else first seen) in [since, until)" to a query being built."""
    if since is not None:
        where.append("coalesce(a.published, a.first_seen) >= ?")
        params.append(ms(since))
    if until is not None:
        where.append("coalesce(a.published, a.first_seen) < ?")
        params.append(ms(until))


class Queries:
    """What the query mixins (feeds, articles, history, derived, documents, media) rely on
    in the store that mixes them in: its connection (``?`` placeholders on every
    database), its transactions, and a few of each other's methods."""

    _db: Any
    _site_ids: dict[str, int]
    #: The larger of two values (SQLite's two-argument ``max``; ``greatest`` elsewhere).
    GREATEST = "max"

    def _joined(self, expression: str, order: str) -> str:
        """An aggregate joining ``expression`` over a group with commas, in ``order``."""
        return f"group_concat({expression}, ',')"

    def _rows_in(self, sql: str, values: list[Any], *before: Any) -> Iterator[tuple[Any, ...]]:
        return rows_in(self._db, sql, values, *before)

    def _run_in(self, sql: str, values: list[Any], *before: Any) -> None:
        run_in(self._db, sql, values, *before)

    _depth: int
    #: What starts a writing transaction on this database.
    BEGIN = "BEGIN"
    #: What makes a SELECT inside a transaction lock the rows it returns and pass over rows
    #: another transaction holds (nothing on SQLite, whose writers take turns).
    SKIP_LOCKED = ""
    #: How a query reads a revision's clean HTML or text: ``{0}`` the column, ``{1}`` the
    #: revision's HTML as received, which SQLite packs them against (see
    #: :mod:`tidings.store.packing`).
    READ_DERIVED = "{0}"
    #: How a statement writes one: ``{0}`` the value, ``{1}`` the revision's HTML column.
    WRITE_DERIVED = "{0}"

    #: Whether the search index looks single CJK characters up in columns of the distinct
    #: characters of each text (IndexRow.body_characters): what the derive stage computes.
    INDEX_CHARACTERS = False

    def derived_packer(self) -> Callable[[str | None, Any], Any] | None:
        """The function that turns a clean HTML or text and its revision's HTML into the form
        this store keeps (None: kept as it is). The derive stage's workers call it, so that
        :meth:`save_derived` gets values already packed (a module-level function: it goes
        to worker processes)."""
        return None

    @property
    def _revision_columns(self) -> str:
        return revision_columns(self.READ_DERIVED)

    def _read_derived(self, column: str, html: str) -> str:
        return self.READ_DERIVED.format(column, html)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Statements inside commit together when the outermost block ends, or not at all."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        try:
            self._begin()
        except _ERRORS as exc:
            raise StorageError(f"cannot start a transaction: {first_line(exc)}") from exc
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._forget()
            self._end(commit=False)
            raise
        self._depth = 0
        try:
            self._end(commit=True)
        except _ERRORS as exc:
            self._forget()
            raise StorageError(f"cannot commit: {first_line(exc)}") from exc
        self._committed()

    def _begin(self) -> None:
        self._db.execute(self.BEGIN)

    def _end(self, *, commit: bool) -> None:
        """COMMIT (an error: nothing was committed, and no transaction is left open) or
        ROLLBACK."""
        self._db.execute("COMMIT" if commit else "ROLLBACK")

    def _packed(self, text: str | None, html: str | None = None) -> Any:
        """How a long text (a revision's HTML, or with ``html`` its clean HTML or text) is
        written: as it is, or in the database's compressed form (SQLite, see
        :mod:`tidings.store.packing`)."""
        return text

    def after_copy(self, table: str) -> None:
        """Rows were copied into ``table`` with their ids (see :mod:`tidings.store.copy`):
        make new rows get ids after them. (SQLite's do already.)"""

    def _forget(self) -> None:
        """A transaction was rolled back: drop what was cached from it."""
        self._site_ids.clear()

    def _committed(self) -> None:
        """A transaction committed."""

    if TYPE_CHECKING:

        def site(self, name: str) -> Site: ...

        def get_article(self, article_id: int) -> Article: ...

        def _sight(
            self,
            article_id: int,
            revision_id: int,
            source: str,
            seen_ms: int | None,
            *,
            feed_id: int | None = None,
            status: int | None = None,
            raw_id: int | None = None,
        ) -> None: ...


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (drivers add context lines)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
