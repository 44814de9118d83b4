"""Long texts kept compressed in SQLite (PostgreSQL compresses long values itself).

A revision's HTML as received, its clean HTML and its text, and the HTML of a raw content
of the history are stored, when :data:`LONG` characters or longer, as a BLOB: :data:`MARK`
then a zstd frame of the text in UTF-8. Reading gives the text back exactly: the SQLite
connection's row factory (:func:`unpack_row`) turns every BLOB that carries the mark back
into its text; tidings keeps no other BLOB in SQLite. Shorter values, and values written
before, stay text, and read the same.

Compressing the same text gives the same bytes (one level, no dictionary), so a stored
value can be compared with a packed parameter in SQL.
"""

from __future__ import annotations

import threading
from typing import Any

import zstandard

__all__ = ["LONG", "MARK", "pack", "unpack", "unpack_row"]

#: What a packed value begins with (no text does: a text is never a BLOB).
MARK = b"\x00tz1"
#: Texts of this many characters or more are packed.
LONG = 256
_LEVEL = 3
_local = threading.local()  # zstd's (de)compressors are not for concurrent use


def _compressor() -> zstandard.ZstdCompressor:
    made = getattr(_local, "compressor", None)
    if made is None:
        made = _local.compressor = zstandard.ZstdCompressor(level=_LEVEL)
    return made


def _decompressor() -> zstandard.ZstdDecompressor:
    made = getattr(_local, "decompressor", None)
    if made is None:
        made = _local.decompressor = zstandard.ZstdDecompressor()
    return made


def pack(value: str | None) -> str | bytes | None:
    """What is stored for a text: the text itself, or for a long one its packed form."""
    if value is None or len(value) < LONG:
        return value
    return MARK + _compressor().compress(value.encode("utf-8", "surrogatepass"))


def unpack(value: Any) -> Any:
    """The text a stored value holds (anything that is not packed comes back as it is)."""
    if type(value) is bytes and value.startswith(MARK):
        return _decompressor().decompress(value[len(MARK) :]).decode("utf-8", "surrogatepass")
    return value


def unpack_row(_cursor: Any, row: tuple[Any, ...]) -> tuple[Any, ...]:
    """sqlite3's row factory: rows with their packed texts unpacked."""
    for value in row:
        if type(value) is bytes:
            return tuple(map(unpack, row))
    return row
