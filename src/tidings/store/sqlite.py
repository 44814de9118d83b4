"""The embedded store: one SQLite file in WAL mode, one writer at a time.

Migrations are an append-only list of SQL scripts; the schema version is the
number applied, kept in ``PRAGMA user_version``. Every sqlite3 error is
wrapped into :class:`~tidings.errors.StorageError` here, with the cause
chained. Times are stored as integer epoch milliseconds (UTC).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import SchemaVersionError, StorageError
from ..model import Feed, FeedState, Stats
from ..textindex import characters_match, cjk_characters
from .articles import ArticleQueries
from .common import IndexRow, register_errors, wrap_errors
from .derived import DerivedQueries
from .documents import DocumentQueries
from .feeds import FeedQueries
from .history import HistoryQueries
from .media import MediaQueries
from .packing import LONG, MARK, PACKED_COLUMNS, pack, pack_against, unpack_against, unpack_row
from . import search as search_module
from .search import SearchQueries, Window
from .sqlite_schema import MIGRATIONS

__all__ = ["MIGRATIONS", "SQLiteStore"]

#: The articles of index rows, joined when a search has conditions on them.
_ARTICLES = " JOIN articles a ON a.id = search.rowid"
#: BM25 with the title (and its characters) weighing ten times the body.
_BM25 = "bm25(search, 10.0, 1.0, 10.0, 1.0)"

register_errors(sqlite3.Error)


class SQLiteStore(
    FeedQueries, ArticleQueries, HistoryQueries, DerivedQueries, DocumentQueries, MediaQueries, SearchQueries
):
    """The :class:`~tidings.store.Store` on a SQLite file."""

    BEGIN = "BEGIN IMMEDIATE"
    INDEX_CHARACTERS = True
    READ_DERIVED = "tidings_text({0}, {1})"
    WRITE_DERIVED = "tidings_pack({0}, {1})"

    def _packed(self, text: str | None, html: str | None = None) -> Any:
        return pack(text) if html is None else pack_against(text, html)

    def derived_packer(self) -> Callable[[str | None, Any], Any] | None:
        return pack_against

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                str(path), isolation_level=None, check_same_thread=False, timeout=30
            )
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open database {path}: {exc}") from exc
        self._db.row_factory = unpack_row
        self._db.create_function("tidings_text", 2, unpack_against, deterministic=True)
        self._db.create_function("tidings_pack", 2, pack_against, deterministic=True)
        self._db.create_function("tidings_pack", 1, pack, deterministic=True)
        self._depth = 0
        self._site_ids: dict[str, int] = {}
        try:
            self._configure()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise StorageError(f"cannot use {path} as a tidings database: {exc}") from exc
        except BaseException:
            self._db.close()
            raise

    def _configure(self) -> None:
        db = self._db
        # Pages freed (index segments merged, rows rewritten by the derive stage) can be
        # given back to the file system (end_derive); takes effect in a new database, or
        # an old one at its next VACUUM (compact).
        db.execute("PRAGMA auto_vacuum=INCREMENTAL")
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode keeps every committed transaction across a process
        # kill; only a power loss can drop the last few.
        db.execute("PRAGMA synchronous=NORMAL")
        # Checkpoint the WAL every 40 MB rather than 4 MB: bulk imports and index
        # builds write a lot, and fewer checkpoints measured 9% faster.
        db.execute("PRAGMA wal_autocheckpoint=10000")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=30000")

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise SchemaVersionError(
                f"{self.path} has schema version {version}; this tidings knows {len(MIGRATIONS)}"
                " (upgrade tidings)"
            )
        for number in range(version, len(MIGRATIONS)):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={number + 1}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    # workers: one process writes a SQLite file at a time, so a lease is the due feeds

    shares_work = False

    def start_pass(self, worker: str) -> None:
        return None

    def end_derive(self) -> None:
        # Give back the pages the stage freed when they are many (a tenth of the file).
        free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
        if not self._depth and free >= 256 and free * 10 >= self._db.execute("PRAGMA page_count").fetchone()[0]:
            # Run to the end (a step of the statement frees one page).
            self._db.executescript("PRAGMA incremental_vacuum;")

    def claim(self, kind: str, ids: list[int]) -> list[int]:
        return list(ids)

    def release(self, kind: str, ids: list[int]) -> None:
        return None

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
        if all_active:
            return [feed for feed in self.feeds() if feed.state is FeedState.ACTIVE]
        return self.due_feeds(now)

    def release_feeds(self, worker: str, feed_ids: list[int]) -> None:
        return None

    def record_worker(self, worker: str, now: datetime, summary: dict[str, object]) -> None:
        return None

    def workers(self, now: datetime) -> list[dict[str, object]]:
        return []

    # the search index

    @wrap_errors
    def write_index(
        self,
        removals: list[tuple[int, str, str]],
        additions: list[IndexRow],
    ) -> None:
        """Remove index rows (article id and exactly the prepared title and body they were
        added with), then add rows (article id, prepared title, prepared body, and the
        revisions they came from)."""
        if removals:
            self._db.executemany(
                "INSERT INTO search(search, rowid, title, body, title_chars, body_chars) VALUES ('delete', ?, ?, ?, ?, ?)",
                [(a, t, b, cjk_characters(t), cjk_characters(b)) for a, t, b in removals],
            )
            self._db.executemany(
                "DELETE FROM search_rows WHERE article_id = ?", [(r[0],) for r in removals]
            )
        if additions:
            self._db.executemany(
                "INSERT INTO search(rowid, title, body, title_chars, body_chars) VALUES (?, ?, ?, ?, ?)",
                [
                    (row.article_id, row.title, row.body, cjk_characters(row.title),
                     cjk_characters(row.body) if row.body_characters is None else row.body_characters)
                    for row in additions
                ],
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO search_rows(article_id, title_revision, body_revision)"
                " VALUES (?, ?, ?)",
                [(row.article_id, row.title_revision, row.body_revision) for row in additions],
            )

    @wrap_errors
    def clear_index(self) -> None:
        with self.transaction():
            self._db.execute("INSERT INTO search(search) VALUES ('delete-all')")
            self._db.execute("DELETE FROM search_rows")

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
        joins = _ARTICLES if where else ""
        conditions = ["search MATCH ?", "search.rowid <= ?", *(["search.rowid > ?"] if below is not None else []), *where]
        return self._fts(
            f"SELECT id, score FROM (SELECT search.rowid AS id, ? + {_BM25} AS score"
            f" FROM search{joins} WHERE {' AND '.join(conditions)}) {keyset}"
            " ORDER BY score, id DESC LIMIT ?",
            [base, match, top, *([below] if below is not None else []), *params, candidates],
        )

    def _window_top(self, match: str, where: list[str], params: list[Any], window: int) -> int | None:
        # The match RANK_WINDOW * window back from the last archived one, by rowid.
        joins = _ARTICLES if where else ""
        rows = self._fts(
            f"SELECT search.rowid FROM search{joins} WHERE {' AND '.join(['search MATCH ?', *where])}"
            " ORDER BY search.rowid DESC LIMIT 1 OFFSET ?",
            [match, *params, window * search_module.RANK_WINDOW],
        )
        return int(rows[0][0]) if rows else None

    def _index_match(self, match: str) -> str:
        # A single Chinese character: the columns of distinct characters (migration 13).
        return characters_match(match, "title_chars body_chars")

    def _fts(self, sql: str, params: list[Any]) -> list[Any]:
        """Rows of a query on the index; StorageError for a query FTS5 cannot run."""
        try:
            rows: list[Any] = self._db.execute(sql, params).fetchall()
            return rows
        except sqlite3.OperationalError as exc:
            if "fts5" in str(exc).lower() or "syntax" in str(exc).lower():
                raise StorageError(f"the search index could not run this query: {exc}") from exc
            raise

    def _newest(
        self, match: str, where: list[str], params: list[Any], before: int | None, candidates: int
    ) -> list[int]:
        joins = _ARTICLES if where else ""
        conditions = ["search MATCH ?", *(["search.rowid < ?"] if before is not None else []), *where]
        rows = self._fts(
            f"SELECT search.rowid FROM search{joins} WHERE {' AND '.join(conditions)}"
            " ORDER BY search.rowid DESC LIMIT ?",
            [match, *([before] if before is not None else []), *params, candidates],
        )
        return [row[0] for row in rows]

    def _scores(self, match: str, article_ids: list[int]) -> dict[int, float]:
        return dict(
            self._rows_in(
                f"SELECT rowid, {_BM25} FROM search WHERE search MATCH ? AND rowid IN ({{marks}})",
                article_ids,
                match,
            )
        )

    @wrap_errors
    def compact(self) -> tuple[int, int, int] | None:
        before = self._bytes_on_disk()
        packed = 0
        for table, column, html in PACKED_COLUMNS:
            # Long values still stored as text (written before texts were packed), and
            # clean HTML and text packed alone (before they were packed against their HTML).
            unpacked = f"(typeof({column}) = 'text' AND length({column}) >= {LONG})"
            if html is not None:
                unpacked += f" OR substr({column}, 1, {len(MARK)}) = x'{MARK.hex()}'"
            value = self.WRITE_DERIVED.format(self._read_derived(column, html), html) if html else f"tidings_pack({column})"
            after_id = 0
            while True:
                ids = [
                    row[0]
                    for row in self._db.execute(
                        f"SELECT id FROM {table} WHERE id > ? AND ({unpacked}) ORDER BY id LIMIT 500", (after_id,)
                    )
                ]
                if not ids:
                    break
                after_id = ids[-1]
                with self.transaction():
                    self._run_in(f"UPDATE {table} SET {column} = {value} WHERE id IN ({{marks}})", ids)
                packed += len(ids)
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.execute("VACUUM")
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return packed, before, self._bytes_on_disk()

    def _bytes_on_disk(self) -> int:
        files = [Path(self.path), Path(f"{self.path}-wal")]
        return sum(path.stat().st_size for path in files if path.exists())

    @wrap_errors
    def index_size(self) -> tuple[int, int]:
        """(pages used by the search index, page size)."""
        try:
            rows = self._db.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search%'"
            ).fetchone()
            used = int(rows[0] or 0)
        except sqlite3.OperationalError:
            used = 0
        return used, int(self._db.execute("PRAGMA page_size").fetchone()[0])

    # files of the original document layout

    # summaries of sites

    @wrap_errors
    def stats(self) -> Stats:
        counts = self._db.execute(
            "SELECT (SELECT count(*) FROM sites), (SELECT count(*) FROM feeds),"
            " (SELECT count(*) FROM articles), (SELECT count(*) FROM revisions)"
        ).fetchone()
        page_size = self._db.execute("PRAGMA page_size").fetchone()[0]
        page_count = self._db.execute("PRAGMA page_count").fetchone()[0]
        return Stats(
            sites=counts[0],
            feeds=counts[1],
            articles=counts[2],
            revisions=counts[3],
            database_bytes=page_size * page_count,
            images=tuple(sorted(self.image_counts().items())),
        )
