"""What the SQLite store's modules share: error wrapping and time conversion."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import ParamSpec, TypeVar

from ..errors import StorageError

__all__ = ["dt", "dt_required", "ms", "ms_required", "wrap_errors"]

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
