"""Moving an archive between stores (SQLite ↔ PostgreSQL): every table row for row, ids
kept, in batches, resumable, verified.

Tables are copied in an order that keeps references valid, each in key order, a batch per
transaction on the target; a copy that was killed goes on after the last batch the target
committed (rows already there are left alone). At the end each table's rows are counted and
hashed, in key order, on both sides: a difference is an error. The search index is not
copied (each database has its own kind): the caller rebuilds it on the target.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import StorageError
from .packing import packed_in

__all__ = ["TABLES", "CopyReport", "copy_tables", "verify_tables"]

#: Every table of the archive, those referred to first, with its key.
TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sites", ("id",)),
    ("feeds", ("id",)),
    ("articles", ("id",)),
    ("revisions", ("id",)),
    ("raw_contents", ("id",)),
    ("sightings", ("id",)),
    ("state_changes", ("id",)),
    ("fetches", ("id",)),
    ("document_files", ("site_id", "file_name")),
    ("media", ("sha256",)),
    ("images", ("id",)),
    ("revision_images", ("revision_id", "image_id")),
)

Progress = Callable[[str, int], None]


@dataclass(frozen=True, slots=True)
class CopyReport:
    """Rows copied by this run and rows found on the target already, per table."""

    copied: dict[str, int]
    present: dict[str, int]


def _columns(db: Any, table: str) -> list[str]:
    cursor = db.execute(f"SELECT * FROM {table} LIMIT 0")
    return [column[0] for column in cursor.description]


def _last_key(db: Any, table: str, key: tuple[str, ...]) -> tuple[Any, ...] | None:
    order = ", ".join(f"{k} DESC" for k in key)
    row = db.execute(f"SELECT {', '.join(key)} FROM {table} ORDER BY {order} LIMIT 1").fetchone()
    return tuple(row) if row else None


def _after(key: tuple[str, ...]) -> str:
    if len(key) == 1:
        return f"{key[0]} > ?"
    return f"({', '.join(key)}) > ({', '.join('?' * len(key))})"


def _read(store: Any, table: str, columns: list[str]) -> str:
    """The columns as a SELECT reads their values (those packed against their row's HTML
    through the store's unpacking; see :attr:`Queries.READ_DERIVED`)."""
    long = packed_in(table)
    return ", ".join(store._read_derived(c, against) if (against := long.get(c)) else c for c in columns)


def _stored(target: Any, table: str, columns: list[str]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """What the target writes for a row read from the source: its long texts in the
    target's stored form (packed on SQLite), the rest as read."""
    long = [
        (columns.index(c), None if against is None else columns.index(against))
        for c, against in packed_in(table).items()
        if c in columns
    ]
    if not long:
        return tuple

    def stored(row: tuple[Any, ...]) -> tuple[Any, ...]:
        values = list(row)
        for place, html in long:
            values[place] = target._packed(row[place], None if html is None else row[html])
        return tuple(values)

    return stored


def copy_tables(source: Any, target: Any, *, batch: int = 1000, progress: Progress | None = None) -> CopyReport:
    """Copy every table from ``source`` to ``target`` (stores of :mod:`tidings.store`)."""
    copied: dict[str, int] = {}
    present: dict[str, int] = {}
    for table, key in TABLES:
        theirs = _columns(source._db, table)
        ours = set(_columns(target._db, table))
        columns = [c for c in theirs if c in ours]
        start = _last_key(target._db, table, key)
        present[table] = int(target._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        copied[table] = 0
        listed = ", ".join(columns)
        order = ", ".join(key)
        places = [columns.index(k) for k in key]
        stored = _stored(target, table, columns)
        read = _read(source, table, columns)
        insert = (
            f"INSERT INTO {table}({listed}) VALUES ({', '.join('?' * len(columns))})"
            f" ON CONFLICT ({order}) DO NOTHING"
        )
        while True:
            where = f" WHERE {_after(key)}" if start is not None else ""
            rows = source._db.execute(
                f"SELECT {read} FROM {table}{where} ORDER BY {order} LIMIT ?",
                [*(start or ()), batch],
            ).fetchall()
            if not rows:
                break
            with target.transaction():
                target._db.executemany(insert, [stored(tuple(row)) for row in rows])
            copied[table] += len(rows)
            start = tuple(rows[-1][i] for i in places)
            if progress is not None:
                progress(table, copied[table])
        if "id" in key:
            target.after_copy(table)
    return CopyReport(copied=copied, present=present)


def _digest(store: Any, table: str, columns: list[str], key: tuple[str, ...]) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    cursor = store._db.execute(f"SELECT {_read(store, table, columns)} FROM {table} ORDER BY {', '.join(key)}")
    while True:
        rows = cursor.fetchmany(2000)
        if not rows:
            break
        for row in rows:
            digest.update(repr(tuple(row)).encode("utf-8", "surrogatepass"))
            count += 1
    return count, digest.hexdigest()


def verify_tables(source: Any, target: Any) -> dict[str, tuple[int, str]]:
    """Count and hash every table on both sides; StorageError naming the tables that differ.
    Returns each table's row count and hash."""
    found: dict[str, tuple[int, str]] = {}
    differ = []
    for table, key in TABLES:
        theirs = _columns(source._db, table)
        ours = set(_columns(target._db, table))
        columns = [c for c in theirs if c in ours]
        mine = _digest(source, table, columns, key)
        copy = _digest(target, table, columns, key)
        if mine != copy:
            differ.append(f"{table} ({mine[0]} rows here, {copy[0]} there)")
        found[table] = mine
    if differ:
        raise StorageError("the copy differs from the archive: " + ", ".join(differ))
    return found
