"""Long texts kept compressed in SQLite (PostgreSQL compresses long values itself).

A revision's HTML as received, its clean HTML and its text, and the HTML of a raw content
of the history are stored, when :data:`LONG` characters or longer, as a BLOB: :data:`MARK`
then a zstd frame of the text in UTF-8. Reading gives the text back exactly: the SQLite
connection's row factory (:func:`unpack_row`) turns every BLOB that carries the mark back
into its text; tidings keeps no other BLOB in SQLite. Shorter values, and values written
before, stay text, and read the same.

A revision's clean HTML and text are packed against the revision's HTML as received
(:data:`MARK_AGAINST`: a zstd frame whose dictionary is that HTML): they repeat most of
it, so they take a tenth of the room they take packed alone. Such a value is read
through the SQL function ``tidings_text(value, html)`` (:func:`unpack_against`), which
SQLite's store registers and puts in every query that reads them; the HTML a value was
packed against never changes (a revision is kept as received).

Compressing the same text gives the same bytes (one level, the same dictionary), so a
stored value can be compared with a packed parameter in SQL.
"""

from __future__ import annotations

import threading
from typing import Any

import zstandard

__all__ = [
    "LONG", "MARK", "MARK_AGAINST", "PACKED_COLUMNS", "pack", "pack_against", "packed_in", "unpack", "unpack_against",
    "unpack_row",
]  # fmt: skip

#: The long texts (table, column, and the HTML column of the same row it is packed against,
#: or None when it is packed alone): what SQLite keeps packed, and what `migrate` writes in
#: the target's form.
PACKED_COLUMNS = (
    ("revisions", "content_html", None),
    ("revisions", "clean_html", "content_html"),
    ("revisions", "text", "content_html"),
    ("raw_contents", "content_html", None),
)


def packed_in(table: str) -> dict[str, str | None]:
    """The long texts of one table: column -> the HTML column it is packed against (or None)."""
    return {column: against for name, column, against in PACKED_COLUMNS if name == table}

#: What a packed value begins with (no text does: a text is never a BLOB).
MARK = b"\x00tz1"
#: What a value packed against its revision's HTML begins with.
MARK_AGAINST = b"\x00tz2"
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


def _dictionary(html: Any) -> zstandard.ZstdCompressionDict | None:
    """The dictionary a revision's HTML (as stored, packed or not) makes; None for no HTML."""
    data = unpack(html).encode("utf-8", "surrogatepass") if html else b""
    return zstandard.ZstdCompressionDict(data, dict_type=zstandard.DICT_TYPE_RAWCONTENT) if data else None


def pack_against(value: str | bytes | None, html: Any) -> str | bytes | None:
    """What is stored for a revision's clean HTML or text: packed against the revision's
    HTML (``html`` as stored, packed or not) when there is one, else as :func:`pack`. A
    value packed already (bytes: a derive worker packed it) is returned as it is."""
    if value is None or isinstance(value, bytes) or len(value) < LONG:
        return value
    # The last compressor made is kept: a revision's clean HTML and text are written together.
    cached: tuple[Any, zstandard.ZstdCompressor | None] | None = getattr(_local, "against", None)
    if cached is not None and type(cached[0]) is type(html) and cached[0] == html:
        compressor = cached[1]
    else:
        dictionary = _dictionary(html)
        compressor = None if dictionary is None else zstandard.ZstdCompressor(level=_LEVEL, dict_data=dictionary)
        _local.against = (html, compressor)
    if compressor is None:
        return pack(value)
    return MARK_AGAINST + compressor.compress(value.encode("utf-8", "surrogatepass"))


def unpack_against(value: Any, html: Any) -> Any:
    """The text a stored clean HTML or text holds, given its revision's HTML as stored."""
    if type(value) is bytes and value.startswith(MARK_AGAINST):
        if type(html) is bytes and html.startswith(MARK):
            # The HTML's frame then this one: one reused context, no dictionary to make.
            chain: list[bytes | bytearray | memoryview] = [html[len(MARK) :], value[len(MARK_AGAINST) :]]
            return _decompressor().decompress_content_dict_chain(chain).decode("utf-8", "surrogatepass")
        dictionary = _dictionary(html)
        if dictionary is None:
            raise ValueError("a value packed against its revision's HTML, read without that HTML")
        data = zstandard.ZstdDecompressor(dict_data=dictionary).decompress(value[len(MARK_AGAINST) :])
        return data.decode("utf-8", "surrogatepass")
    return unpack(value)


def unpack(value: Any) -> Any:
    """The text a stored value holds (anything that is not packed comes back as it is).
    A value packed against its revision's HTML cannot be read alone: ValueError, never
    its bytes taken for text (a query must read it through ``tidings_text``)."""
    if type(value) is bytes:
        if value.startswith(MARK):
            return _decompressor().decompress(value[len(MARK) :]).decode("utf-8", "surrogatepass")
        if value.startswith(MARK_AGAINST):
            raise ValueError("a clean HTML or text packed against its revision's HTML, read without it")
    return value


def unpack_row(_cursor: Any, row: tuple[Any, ...]) -> tuple[Any, ...]:
    """sqlite3's row factory: rows with their packed texts unpacked."""
    for value in row:
        if type(value) is bytes:
            return tuple(map(unpack, row))
    return row
