"""What the SQLite store's modules share: error wrapping and time conversion."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, ParamSpec, TypeVar

from ..errors import StorageError

__all__ = ["IN_CHUNK", "dt", "dt_required", "ms", "ms_required", "rows_in", "wrap_errors"]

#: Values per IN list: well under SQLite's limit on bound parameters.
IN_CHUNK = 500

P = ParamSpec("P")
R = TypeVar("R")


def wrap_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn sqlite3 errors raised by a store method into StorageError."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except sqlite3.Error as exc:
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


def rows_in(db: sqlite3.Connection, sql: str, values: list[Any], *before: Any) -> Iterator[tuple[Any, ...]]:
    """Rows of ``sql`` (whose ``{marks}`` stands for an IN list) for all ``values``, queried
    in chunks; ``before`` are parameters that come ahead of the list."""
    for start in range(0, len(values), IN_CHUNK):
        chunk = values[start : start + IN_CHUNK]
        yield from db.execute(sql.format(marks=",".join("?" * len(chunk))), (*before, *chunk))
