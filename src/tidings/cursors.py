"""Cursors of paged results (timelines, search): opaque to clients, checked on the way back.

A cursor is the keyset of the last item of a page, encoded; a cursor that was not made
here, or was tampered with, is an :class:`~tidings.errors.InvalidInputError`, never a crash.
"""

from __future__ import annotations

import base64
import json
import math
from datetime import datetime, timezone

from .errors import InvalidInputError

__all__ = ["EPOCH", "changes_cursor", "decode_cursor", "encode_cursor", "search_cursor"]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def encode_cursor(*values: float) -> str:
    """An opaque page cursor: the keyset of the last row of a page."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str) -> list[float]:
    """The keyset of a cursor from :func:`encode_cursor`: finite floats, with the last
    value (an article id) and, for timelines, every value a signed 64-bit integer."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != (2 if kind == "timeline" else 3):
            raise ValueError("wrong shape")
        decoded = [_finite(value) for value in values]
        for index in range(len(values)) if kind == "timeline" else (1, 2):
            decoded[index] = _int64(values[index])
        return decoded
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidInputError(f"not a {kind} cursor from this archive") from exc


def search_cursor(cursor: str) -> tuple[float, int, int]:
    score, published, article_id = decode_cursor(cursor, "search")
    return score, int(published), int(article_id)


def changes_cursor(cursor: str) -> tuple[int, int, int]:
    """The keyset (time ms, kind, id) of a recent-changes cursor; kind is 0 or 1."""
    moment, kind, change_id = decode_cursor(cursor, "changes")
    try:
        if moment != int(moment) or kind not in (0, 1):
            raise ValueError("wrong values")
        return _int64(moment), int(kind), int(change_id)
    except (ValueError, OverflowError) as exc:
        raise InvalidInputError("not a changes cursor from this archive") from exc


def _int64(value: str | int | float) -> int:
    """An integer of a cursor, which SQLite must be able to compare (signed 64 bits)."""
    number = int(value)
    if not -(2**63) <= number < 2**63:
        raise ValueError("out of range")
    return number


def _finite(value: str | int | float) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not finite")
    return number
