"""The shared store: PostgreSQL through psycopg 3, for many workers on many machines.

The queries are the ones SQLite runs (the mixins of :mod:`tidings.store.feeds`,
:mod:`~tidings.store.articles` and the rest), written once with ``?`` placeholders; the
connection here turns them into psycopg's. What differs is here: connecting, the schema
and its migrations (run under an advisory lock, so two processes starting at once do not
race), transactions, and the search index — a ``tsvector`` per article built from the
same prepared text as SQLite's FTS5 rows (:func:`document_vector`), queried with the
same expressions translated to ``tsquery`` (:func:`fts_to_tsquery`) and ranked by
``ts_rank`` with the title weighing ten times the body. psycopg is imported only here.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
import unicodedata
import zlib
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import psycopg

from ..errors import SchemaVersionError, StorageError
from ..model import Feed, Revision, Stats, iso_utc
from .articles import ArticleQueries
from .common import (
    IndexRow,
    FEED_COLUMNS,
    dt_required,
    feed_row,
    first_line,
    ms_required,
    register_errors,
    revision_row,
    wrap_errors,
)
from .derived import DerivedQueries
from .documents import DocumentQueries
from .feeds import FeedQueries
from .history import HistoryQueries
from .media import MediaQueries
from .postgres_schema import MIGRATIONS
from .search import SearchQueries, Window

__all__ = ["MIGRATIONS", "PostgresStore", "document_vector", "fts_to_tsquery", "is_postgres_url"]

register_errors(psycopg.Error)

#: The advisory lock key under which migrations run ("tidings" in ASCII).
_MIGRATION_LOCK = 0x74696469_6E6773
#: The database server's time in epoch milliseconds (what lease bookkeeping counts in, so
#: that workers on machines whose clocks differ agree).
_DB_NOW = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
#: Seconds within which "update --all" passes count as started together (one pass shared).
SHARED_START = 10.0
#: Advisory lock keys of feed leases: this plus the feed's id.
_LEASE_CLASS = 0x6C656173 << 32
#: Advisory lock keys of hosts' request slots: this plus the host's CRC-32 and the slot.
_HOST_CLASS = 0x686F << 48
#: Advisory lock keys of revisions being cleaned: this plus the revision's id.
_DERIVE_CLASS = 0x6465 << 48
#: Advisory lock keys of what workers claim (articles being re-checked, images being
#: fetched): the kind's class plus the id.
_CLAIMS = {"article": 0x7263 << 48, "image": 0x696D << 48}
#: Positions a tsvector can hold; later words share the last one.
_MAX_POSITION = 16383


def is_postgres_url(location: str) -> bool:
    return location.lower().startswith(("postgresql://", "postgres://"))


@lru_cache(maxsize=1024)
def _translate(sql: str) -> str:
    """A shared query with psycopg's placeholders (``?`` → ``%s``; a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


# PostgreSQL text cannot hold U+0000, which SQLite keeps (a JSON feed or a document may
# carry it). Text is stored with U+0000 as MARK + "0" and MARK itself as MARK + "1", MARK
# being U+10FFFF (a noncharacter), and read back exactly.
_MARK = "\U0010ffff"
_ESCAPES = re.compile("[\x00\U0010ffff]")
_UNESCAPES = re.compile("\U0010ffff[01]")


def _escape(value: Any) -> Any:
    if type(value) is str and ("\x00" in value or _MARK in value):
        return _ESCAPES.sub(lambda m: _MARK + ("0" if m.group(0) == "\x00" else "1"), value)
    return value


def _unescape(value: Any) -> Any:
    if type(value) is str and _MARK in value:
        return _UNESCAPES.sub(lambda m: "\x00" if m.group(0)[1] == "0" else _MARK, value)
    return value


def _rows(cursor: Any) -> Any:
    """psycopg's row factory: tuples, text read back as it was given."""

    def make(values: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(map(_unescape, values))

    return make


def _params(params: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(map(_escape, params))


class _Connection:
    """A psycopg connection that speaks the shared queries' ``?`` placeholders."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.raw = connection
        connection.row_factory = _rows

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        return self.raw.execute(_translate(sql), _params(params) if params else None)

    def executemany(self, sql: str, rows: Any) -> psycopg.Cursor[Any]:
        cursor = self.raw.cursor()
        cursor.executemany(_translate(sql), [_params(row) for row in rows])
        return cursor

    def close(self) -> None:
        self.raw.close()


# --------------------------------------------------------------------------- search text

_TOKEN = re.compile(r"[^\W_]+")


def _tokens(prepared: str) -> list[str]:
    """Words of prepared text as SQLite's FTS5 ``unicode61 remove_diacritics 2`` makes them:
    letters and digits, diacritics removed."""
    if not prepared.isascii():
        prepared = "".join(
            ch for ch in unicodedata.normalize("NFD", prepared) if not unicodedata.combining(ch)
        )
    return _TOKEN.findall(prepared)


def _lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def document_vector(title: str, body: str) -> str:
    """The tsvector (as text) of an index row: every word of the prepared title at weight
    A, the body's after a gap (so that no phrase spans the two) at weight D."""
    positions: dict[str, list[str]] = {}
    position = 0
    for token in _tokens(title):
        position = min(position + 1, _MAX_POSITION)
        positions.setdefault(token, []).append(f"{position}A")
    position += 2
    for token in _tokens(body):
        position = min(position + 1, _MAX_POSITION)
        positions.setdefault(token, []).append(str(position))
    return " ".join(f"{_lexeme(token)}:{','.join(places[:256])}" for token, places in positions.items())


_FTS = re.compile(r'\s*(?:"((?:[^"]|"")*)"|(\*)|(\()|(\))|(AND|OR|NOT)\b)')


def fts_to_tsquery(match: str) -> str:
    """The tsquery (as text) of an FTS5 expression as :mod:`tidings.query` writes them:
    quoted phrases (``"a b"``), a ``*`` after one for a prefix, AND, OR, NOT, parentheses.
    StorageError for anything else."""
    out: list[str] = []
    position = 0
    while position < len(match):
        if not match[position:].strip():
            break
        found = _FTS.match(match, position)
        if found is None:
            raise StorageError(f"the search index could not run this query: unexpected text at {position}")
        position = found.end()
        phrase, star, opening, closing, operator = found.groups()
        if phrase is not None:
            words = _tokens(phrase.replace('""', '"'))
            if not words:
                raise StorageError("the search index could not run this query: an empty phrase")
            out.append("(" + " <-> ".join(_lexeme(word) for word in words) + ")")
        elif star is not None:
            if not out or not out[-1].endswith("')"):
                raise StorageError("the search index could not run this query: * after nothing")
            out[-1] = out[-1][:-1] + ":*)"
        elif opening is not None:
            out.append("(")
        elif closing is not None:
            out.append(")")
        else:
            out.append({"AND": "&", "OR": "|", "NOT": "& !"}[operator])
    return " ".join(out)


#: Article ids in PostgreSQL's first relevance window (see PostgresStore._window_top).
WINDOW_IDS = 20_000
#: The articles of index rows, joined when a search has conditions on them.
_ARTICLES = " JOIN articles a ON a.id = r.article_id"

#: Milliseconds the host (the parameter) asked every worker to wait; NULL: not at all.
_HOST_WAIT = (
    "(SELECT not_before - (extract(epoch FROM clock_timestamp()) * 1000)::bigint FROM hosts WHERE host = ?)"
)


class PostgresHostGate:
    """The per-host limit and hosts' back-off shared by every worker of one database (a
    :class:`~tidings.fetch.base.HostGate`): slot *k* of a host is a session advisory lock
    on (host, *k*), held by the worker whose request is in flight (a killed worker's go
    with its session); a back-off is a row of ``hosts``. Its own connection, so that the
    store's transactions never wait for it."""

    def __init__(self, url: str) -> None:
        self._db = _Connection(psycopg.connect(url, autocommit=True, connect_timeout=30))
        self._lock = threading.Lock()
        self._mine: dict[str, set[int]] = {}
        self._waits: dict[str, tuple[float, float]] = {}  # host -> (until, checked), monotonic

    @staticmethod
    def _key(host: str, slot: int) -> int:
        return _HOST_CLASS + (zlib.crc32(host.encode("utf-8")) << 8) + slot

    def wait_seconds(self, host: str) -> float:
        now = time.monotonic()
        until, checked = self._waits.get(host, (0.0, -1e9))
        if now - checked > 0.25:  # else read at most four times a second per host
            with self._lock:
                row = self._db.execute(f"SELECT {_HOST_WAIT}", (host,)).fetchone()
            until = self._waited(host, row[0] if row else None, now)
        return max(0.0, until - now)

    def _waited(self, host: str, milliseconds: int | None, now: float) -> float:
        until = now + max(0.0, (milliseconds or 0) / 1000)
        self._waits[host] = (until, now)
        return until

    def acquire(self, host: str, per_host: int) -> int | None:
        with self._lock:
            mine = self._mine.setdefault(host, set())
            free = [slot for slot in range(max(1, per_host)) if slot not in mine]
            if not free:
                return None  # advisory locks are re-entrant: a session must not take its own twice
            now = time.monotonic()
            row = self._db.execute(
                "SELECT (SELECT slot FROM unnest(CAST(? AS int[])) AS slot"
                " WHERE pg_try_advisory_lock(? + slot) LIMIT 1),"  # stops at the first taken
                f" {_HOST_WAIT}",
                (free, self._key(host, 0), host),
            ).fetchone()
            slot, waiting = row if row is not None else (None, None)
            self._waited(host, waiting, now)
            if slot is None:
                return None
            mine.add(int(slot))
            return int(slot)

    def release(self, host: str, slot: int) -> None:
        with self._lock:
            self._mine.get(host, set()).discard(slot)
            self._db.execute("SELECT pg_advisory_unlock(?)", (self._key(host, slot),))

    def back_off(self, host: str, seconds: float) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO hosts(host, not_before) VALUES (?, (extract(epoch FROM clock_timestamp()) * 1000)::bigint + ?)"
                " ON CONFLICT (host) DO UPDATE SET not_before = greatest(hosts.not_before, excluded.not_before)",
                (host, int(seconds * 1000)),
            )
        now = time.monotonic()
        self._waits[host] = (now + seconds, now)

    def close(self) -> None:
        self._db.close()


class PostgresStore(
    FeedQueries, ArticleQueries, HistoryQueries, DerivedQueries, DocumentQueries, MediaQueries, SearchQueries
):
    """The :class:`~tidings.store.Store` on a PostgreSQL database (``postgresql://…``)."""

    GREATEST = "greatest"
    SKIP_LOCKED = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = url  # what a second process opens to reach the same archive
        try:
            connection = psycopg.connect(url, autocommit=True, connect_timeout=30)
        except psycopg.Error as exc:
            raise StorageError(f"cannot connect to {_safe(url)}: {first_line(exc)}") from exc
        self._db = _Connection(connection)
        self._depth = 0
        self._piping: Any = None  # psycopg's pipeline block and Pipeline while a transaction is open
        self._pipeline: Any = None
        self._site_ids: dict[str, int] = {}
        self._held: set[int] = set()  # feeds whose advisory lock this session holds
        self._gate: PostgresHostGate | None = None
        self._claimed: set[int] = set()  # revisions this session is cleaning
        self._after_commit: list[int] = []  # claims to let go once the transaction commits
        try:
            self._migrate()
        except psycopg.Error as exc:
            self._db.close()
            raise StorageError(f"cannot use {_safe(url)} as a tidings database: {first_line(exc)}") from exc
        except BaseException:
            self._db.close()
            raise

    def _joined(self, expression: str, order: str) -> str:
        return f"string_agg(CAST({expression} AS TEXT), ',' ORDER BY {order})"

    def _migrate(self) -> None:
        raw = self._db.raw
        with raw.transaction():
            # One process migrates at a time; the others wait here, then find nothing to do.
            raw.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            raw.execute("CREATE TABLE IF NOT EXISTS tidings_schema (version INTEGER PRIMARY KEY, applied BIGINT)")
            version = self._version()
            if version > len(MIGRATIONS):
                raise SchemaVersionError(
                    f"{_safe(self.url)} has schema version {version}; this tidings knows {len(MIGRATIONS)}"
                    " (upgrade tidings)"
                )
            for number in range(version, len(MIGRATIONS)):
                raw.execute(MIGRATIONS[number].encode("utf-8"))
                raw.execute(
                    "INSERT INTO tidings_schema(version, applied)"
                    " VALUES (%s, (extract(epoch FROM now()) * 1000)::bigint)",
                    (number + 1,),
                )

    def _version(self) -> int:
        row = self._db.raw.execute("SELECT coalesce(max(version), 0) FROM tidings_schema").fetchone()
        return int(row[0]) if row else 0

    @property
    def schema_version(self) -> int:
        return self._version()

    def close(self) -> None:
        if self._gate is not None:
            self._gate.close()
            self._gate = None
        self._db.close()

    # A transaction's statements are pipelined: one whose rows are not read costs no round
    # trip; reading rows (or the commit) waits for everything sent before.

    def _begin(self) -> None:
        self._piping = self._db.raw.pipeline()
        self._pipeline = self._piping.__enter__()
        try:
            super()._begin()
        except BaseException:
            self._leave_pipeline()
            raise

    def _end(self, *, commit: bool) -> None:
        pipeline = self._pipeline
        try:
            if commit:
                try:
                    self._db.execute("COMMIT")
                    pipeline.sync()
                except psycopg.Error:
                    self._roll_back()
                    raise
            else:
                self._roll_back()
        finally:
            self._leave_pipeline()

    def _roll_back(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self._pipeline.sync()  # what the statements sent and not yet read ran into
        if self._db.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            self._db.execute("ROLLBACK")
            self._pipeline.sync()

    def _leave_pipeline(self) -> None:
        piping, self._piping, self._pipeline = self._piping, None, None
        with contextlib.suppress(psycopg.Error):
            piping.__exit__(None, None, None)

    def _forget(self) -> None:
        super()._forget()
        self._after_commit.clear()  # still claimed: let go at end_derive

    def _committed(self) -> None:
        if self._after_commit:
            self._release_saved()

    # the derive stage, shared: each worker claims the revisions it cleans

    @wrap_errors
    def underived_revisions(self, limit: int, after_id: int = 0) -> list[Revision]:
        """Underived revisions after ``after_id`` that no other worker is cleaning, claimed
        by this one (a session advisory lock each, let go when saved, at
        :meth:`end_derive`, or with the session)."""
        while True:
            rows = self._db.execute(
                f"SELECT {self._revision_columns} FROM revisions r WHERE r.text IS NULL AND r.id > ?"
                " ORDER BY r.id LIMIT ?",
                (after_id, limit * 2),
            ).fetchall()
            if not rows:
                return []
            ids = [row[0] for row in rows]
            got = dict(
                self._db.execute(
                    "SELECT id, pg_try_advisory_lock(? + id) FROM unnest(CAST(? AS bigint[])) AS id",
                    (_DERIVE_CLASS, ids),
                ).fetchall()
            )
            chosen = [row for row in rows if got.get(row[0])][:limit]
            extra = [i for i in ids if got.get(i) and i not in {row[0] for row in chosen}]
            self._unlock_derive(extra)
            if chosen:
                self._claimed.update(row[0] for row in chosen)
                return [revision_row(row) for row in chosen]
            after_id = ids[-1]  # all taken by others: look further

    @wrap_errors
    def save_derived(self, items: list[tuple[int, Any, Any]]) -> None:
        super().save_derived(items)
        done = [revision_id for revision_id, _html, _text in items if revision_id in self._claimed]
        if done:
            # Let go after the transaction that saved them commits (or now, outside one).
            self._after_commit.extend(done)
            if not self._depth:
                self._release_saved()

    def end_derive(self) -> None:
        self._unlock_derive(sorted(self._claimed))

    def _release_saved(self) -> None:
        done, self._after_commit = self._after_commit, []
        self._unlock_derive(done)

    def _unlock_derive(self, ids: list[int]) -> None:
        if ids:
            self._db.execute(
                "SELECT pg_advisory_unlock(? + id) FROM unnest(CAST(? AS bigint[])) AS id", (_DERIVE_CLASS, ids)
            )
            self._claimed.difference_update(ids)

    # re-checks and images, shared: each article or image is worked on by one worker at a time

    @wrap_errors
    def claim(self, kind: str, ids: list[int]) -> list[int]:
        if not ids:
            return []
        rows = self._db.execute(
            "SELECT id, pg_try_advisory_lock(? + id) FROM unnest(CAST(? AS bigint[])) AS id",
            (_CLAIMS[kind], list(ids)),
        ).fetchall()
        taken = {int(row[0]) for row in rows if row[1]}
        return [item for item in ids if item in taken]

    @wrap_errors
    def release(self, kind: str, ids: list[int]) -> None:
        if ids:
            self._db.execute(
                "SELECT pg_advisory_unlock(? + id) FROM unnest(CAST(? AS bigint[])) AS id",
                (_CLAIMS[kind], list(ids)),
            )

    def host_gate(self) -> PostgresHostGate:
        """The politeness this worker shares with the others (opened once, closed with the store)."""
        if self._gate is None:
            self._gate = PostgresHostGate(self.url)
        return self._gate

    def after_copy(self, table: str) -> None:
        """After rows were copied in with their ids: new rows get ids after them."""
        self._db.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
        )

    # workers and their leases

    shares_work = True

    @wrap_errors
    def start_pass(self, worker: str) -> None:
        self._db.execute(
            "INSERT INTO workers(name, started, last_seen, backend_pid, pass_started, pass_running)"
            f" VALUES (?, {_DB_NOW}, {_DB_NOW}, pg_backend_pid(), {_DB_NOW}, 1)"
            " ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen,"
            " backend_pid = excluded.backend_pid, pass_started = excluded.pass_started, pass_running = 1",
            (worker,),
        )

    @wrap_errors
    def lease_feeds(
        self,
        now: datetime,
        *,
        worker: str,
        lease_seconds: float,
        all_active: bool = False,
        limit: int | None = None,
    ) -> list[Feed]:
        now_ms = ms_required(now)
        until = now_ms + int(lease_seconds * 1000)
        if all_active:
            # Every active feed not leased since the earliest of the passes that are still
            # running or began less than SHARED_START before this one: workers started at
            # once share one "all", whichever of them begins or ends first.
            condition = (
                "f.state = 'active' AND (f.leased_at IS NULL OR f.leased_at < (SELECT min(w.pass_started)"
                " FROM workers w WHERE w.pass_started IS NOT NULL AND (w.name = ?"
                " OR w.pass_started >= (SELECT m.pass_started FROM workers m WHERE m.name = ?) - ?"
                " OR (w.pass_running = 1 AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = w.backend_pid)))))"
            )
            params: tuple[Any, ...] = (worker, worker, int(SHARED_START * 1000))
        else:
            condition = "f.state = 'active' AND (f.next_fetch IS NULL OR f.next_fetch <= ?)"
            params = (now_ms,)
        with self.transaction():
            # Rows another worker is leasing right now are skipped, not waited for.
            rows = [
                row
                for row in self._db.execute(
                    f"SELECT f.id, f.lease_until FROM feeds f WHERE {condition}"
                    " ORDER BY coalesce(f.next_fetch, 0), hashtext(f.url), f.id FOR UPDATE SKIP LOCKED"
                    + (" LIMIT ?" if limit is not None else ""),
                    (*params, *((limit * 4,) if limit is not None else ())),
                ).fetchall()
                if row[0] not in self._held  # this session's already (advisory locks are re-entrant)
            ]
            # The lease is tied to the holder's session: a worker killed with -9 lets go of
            # its advisory locks at once. A session that lives on without its worker (cut
            # off) keeps them; its leases end at lease_until. Locks are tried in order, and
            # no further than the first ``limit`` feeds taken.
            chosen = self._db.execute(
                "SELECT id, locked FROM (SELECT c.id, c.until, pg_try_advisory_lock(? + c.id) AS locked"
                " FROM unnest(CAST(? AS bigint[]), CAST(? AS bigint[])) AS c(id, until)) AS t"
                " WHERE locked OR until IS NULL OR until <= ?"
                + (" LIMIT ?" if limit is not None else ""),
                (
                    _LEASE_CLASS,
                    [row[0] for row in rows],
                    [row[1] for row in rows],
                    now_ms,
                    *((limit,) if limit is not None else ()),
                ),
            ).fetchall()
            taken = [feed_id for feed_id, _locked in chosen]
            self._held.update(feed_id for feed_id, locked in chosen if locked)
            self._run_in(
                f"UPDATE feeds SET lease_owner = ?, lease_until = ?, leased_at = {_DB_NOW} WHERE id IN ({{marks}})",
                taken,
                worker,
                until,
            )
        if not taken:
            return []
        found = {
            row[0]: feed_row(row)
            for row in self._rows_in(
                f"SELECT {FEED_COLUMNS} FROM feeds f JOIN sites s ON s.id = f.site_id WHERE f.id IN ({{marks}})",
                taken,
            )
        }
        return [found[feed_id] for feed_id in taken if feed_id in found]

    @wrap_errors
    def release_feeds(self, worker: str, feed_ids: list[int]) -> None:
        if not feed_ids:
            return
        self._run_in(
            "UPDATE feeds SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ? AND id IN ({marks})",
            feed_ids,
            worker,
        )
        held = [feed_id for feed_id in feed_ids if feed_id in self._held]
        if held:
            self._held.difference_update(held)
            self._db.execute(
                "SELECT pg_advisory_unlock(? + id) FROM unnest(CAST(? AS bigint[])) AS id", (_LEASE_CLASS, held)
            ).fetchall()

    @wrap_errors
    def record_worker(self, worker: str, now: datetime, summary: dict[str, object]) -> None:
        self._db.execute(
            "INSERT INTO workers(name, started, last_seen, backend_pid, last_pass)"
            " VALUES (?, ?, ?, pg_backend_pid(), ?) ON CONFLICT (name) DO UPDATE SET"
            " last_seen = excluded.last_seen, backend_pid = excluded.backend_pid, last_pass = excluded.last_pass,"
            " pass_running = 0",
            (worker, ms_required(now), ms_required(now), json.dumps(summary, ensure_ascii=False)),
        )

    @wrap_errors
    def workers(self, now: datetime) -> list[dict[str, object]]:
        rows = self._db.execute(
            "SELECT w.name, w.started, w.last_seen, w.last_pass,"
            " EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = w.backend_pid),"
            " (SELECT count(*) FROM feeds f WHERE f.lease_owner = w.name AND f.lease_until > ?)"
            " FROM workers w ORDER BY w.last_seen DESC",
            (ms_required(now),),
        ).fetchall()
        return [
            {
                "name": row[0],
                "started": iso_utc(dt_required(row[1])),
                "last_seen": iso_utc(dt_required(row[2])),
                "alive": bool(row[4]),
                "leases": int(row[5]),
                "last_pass": json.loads(row[3]),
            }
            for row in rows
        ]

    # the search index

    @wrap_errors
    def write_index(
        self,
        removals: list[tuple[int, str, str]],
        additions: list[IndexRow],
    ) -> None:
        if removals:
            self._db.executemany("DELETE FROM search_rows WHERE article_id = ?", [(r[0],) for r in removals])
        if additions:
            self._db.executemany(
                "INSERT INTO search_rows(article_id, title_revision, body_revision, document)"
                " VALUES (?, ?, ?, CAST(? AS tsvector)) ON CONFLICT (article_id) DO UPDATE SET"
                " title_revision = excluded.title_revision, body_revision = excluded.body_revision,"
                " document = excluded.document",
                [(r.article_id, r.title_revision, r.body_revision, document_vector(r.title, r.body)) for r in additions],
            )

    @wrap_errors
    def clear_index(self) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM search_rows")

    # ts_rank weights are {D, C, B, A}: the body (D) a tenth of the title (A). Scores are
    # negated so that, as with BM25, lower is better.
    _RANK = "-CAST(ts_rank(ARRAY[0.1, 0.2, 0.4, 1.0]::real[], r.document, CAST(? AS tsquery)) AS double precision)"

    def _ranked(
        self,
        match: str,
        where: list[str],
        params: list[Any],
        keyset: str,
        candidates: int,
        window: Window,
    ) -> list[tuple[int, float]]:
        top, below, base = window
        query = fts_to_tsquery(match)
        joins = _ARTICLES if where else ""
        conditions = [
            "r.document @@ CAST(? AS tsquery)",
            "r.article_id <= ?",
            *(["r.article_id > ?"] if below is not None else []),
            *where,
        ]
        rows = self._db.execute(
            f"SELECT id, score FROM (SELECT r.article_id AS id, CAST(? AS double precision) + {self._RANK} AS score"
            f" FROM search_rows r{joins} WHERE {' AND '.join(conditions)}) ranked {keyset}"
            " ORDER BY score, id DESC LIMIT ?",
            [base, query, query, top, *([below] if below is not None else []), *params, candidates],
        ).fetchall()
        return [(int(row[0]), float(row[1])) for row in rows]

    def compact(self) -> tuple[int, int, int] | None:
        return None  # long values are compressed by PostgreSQL itself (TOAST)

    def _window_top(self, match: str, where: list[str], params: list[Any], window: int) -> int | None:
        # A GIN bitmap has no order: finding the match at an offset costs what ranking every
        # match costs. So windows here are ranges of article ids instead, doubling as they
        # go back (the newest WINDOW_IDS ids, the WINDOW_IDS * 2 before, ...): each window's
        # matches are the GIN bitmap and a range of the primary key, and a rare word is a
        # few windows, not one per range.
        row = self._db.execute("SELECT max(article_id) FROM search_rows").fetchone()
        newest = int(row[0]) if row and row[0] is not None else 0
        bound = newest - WINDOW_IDS * ((1 << window) - 1)
        return bound if bound > 0 else None

    def _newest(
        self, match: str, where: list[str], params: list[Any], before: int | None, candidates: int
    ) -> list[int]:
        joins = _ARTICLES if where else ""
        conditions = [
            "r.document @@ CAST(? AS tsquery)", *(["r.article_id < ?"] if before is not None else []), *where
        ]
        # The matches from the GIN index first (OFFSET 0 keeps the planner from walking the
        # primary key backwards and testing every row, which a rare word makes long).
        rows = self._db.execute(
            f"SELECT id FROM (SELECT r.article_id AS id FROM search_rows r{joins} WHERE {' AND '.join(conditions)}"
            " OFFSET 0) matches ORDER BY id DESC LIMIT ?",
            [fts_to_tsquery(match), *([before] if before is not None else []), *params, candidates],
        ).fetchall()
        return [int(row[0]) for row in rows]

    def _scores(self, match: str, article_ids: list[int]) -> dict[int, float]:
        query = fts_to_tsquery(match)
        return {
            int(row[0]): float(row[1])
            for row in self._rows_in(
                f"SELECT r.article_id, {self._RANK} FROM search_rows r"
                " WHERE r.document @@ CAST(? AS tsquery) AND r.article_id IN ({marks})",
                article_ids,
                query,
                query,
            )
        }

    @wrap_errors
    def index_size(self) -> tuple[int, int]:
        row = self._db.execute("SELECT pg_total_relation_size('search_rows')").fetchone()
        return int(row[0] or 0), 8192

    @wrap_errors
    def stats(self) -> Stats:
        counts = self._db.execute(
            "SELECT (SELECT count(*) FROM sites), (SELECT count(*) FROM feeds),"
            " (SELECT count(*) FROM articles), (SELECT count(*) FROM revisions),"
            " pg_database_size(current_database())"
        ).fetchone()
        return Stats(
            sites=counts[0],
            feeds=counts[1],
            articles=counts[2],
            revisions=counts[3],
            database_bytes=int(counts[4]),
            images=tuple(sorted(self.image_counts().items())),
        )


def _safe(url: str) -> str:
    """A connection string without its password."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
