"""Parsing feeds: bytes (plus the HTTP Content-Type and the feed URL) into :class:`ParsedFeed`.

:func:`parse_feed` sniffs the format (JSON Feed, an XML feed, or something
that is not a feed, such as an HTML page) and hands the bytes to the adapter
for it. It returns a :class:`~tidings.model.ParsedFeed` or raises
:class:`~tidings.errors.FeedParseError` (:class:`~tidings.errors.NotAFeedError`
when the input is readable but not a feed); nothing else escapes it.
"""

from __future__ import annotations

import dataclasses
import json
import re
import zlib

from ..errors import FeedParseError, FeedTooLargeError, NotAFeedError
from ..model import ParsedFeed
from .common import normalise_language
from .encoding import decode_feed
from .jsonfeed import parse_json_feed
from .xmlfeed import parse_xml_feed

__all__ = ["parse_feed"]

_HTML_START = re.compile(rb"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.IGNORECASE | re.DOTALL)
_HTML_TITLE = re.compile(rb"<title[^>]*>([^<]{1,200})", re.IGNORECASE)


#: Largest document accepted after decompressing gzip or zlib input.
MAX_DECOMPRESSED = 64 * 1024 * 1024
_STEP = 1 << 20


def _decompress(data: bytes, limit: int) -> bytes:
    """Unwrap gzip or zlib bytes (a saved compressed response), bounded in size.

    Inflates a megabyte at a time, so a bomb costs at most the bound in memory.
    """
    wbits = 16 + zlib.MAX_WBITS if data[:2] == b"\x1f\x8b" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    parts: list[bytes] = []
    size = 0
    pending = data
    try:
        while pending:
            part = inflater.decompress(pending, _STEP)
            size += len(part)
            if size > limit:
                raise FeedTooLargeError(f"too large when decompressed (over {limit} bytes)")
            parts.append(part)
            pending = inflater.unconsumed_tail
            if inflater.eof:
                break
    except zlib.error as exc:
        raise FeedParseError(f"received broken compressed data: {exc}") from exc
    return b"".join(parts)


def _refuse_json_scalar(data: bytes) -> None:
    """JSON that is not an object (``null``, ``42``, ``"text"``) is not a feed; say so."""
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return
    raise NotAFeedError(f"received JSON {type(value).__name__}, not a feed")


def _sniff(data: bytes) -> str:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"[")):
        return "json"
    if _HTML_START.match(head):
        return "html"
    return "xml"


def parse_feed(
    data: bytes,
    *,
    content_type: str | None = None,
    url: str | None = None,
    content_language: str | None = None,
    max_bytes: int = MAX_DECOMPRESSED,
) -> ParsedFeed:
    """Parse a feed document.

    ``content_type`` is the HTTP Content-Type header (its charset counts);
    ``url`` is where the feed came from (or its Content-Location), against
    which relative links resolve; ``content_language`` is the HTTP
    Content-Language header, the feed's language when the feed names none.
    ``max_bytes`` bounds a gzip or zlib document unwrapped here (a compressed
    file, or a body sent compressed without saying so).
    """
    feed = _parse(data, content_type, url, max_bytes)
    if feed.language is None and content_language:
        language = normalise_language(content_language.split(",")[0])
        feed = dataclasses.replace(feed, language=language)
    return feed


def _parse(data: bytes, content_type: str | None, url: str | None, max_bytes: int) -> ParsedFeed:
    if data[:2] == b"\x1f\x8b" or data[:2] in (b"\x78\x9c", b"\x78\x01", b"\x78\xda"):
        data = _decompress(data, max_bytes)
    if not data.strip():
        raise FeedParseError("received an empty document, not a feed")
    kind = _sniff(data)
    try:
        if kind == "json":
            decoded = decode_feed(data, content_type)
            return parse_json_feed(decoded.text, url, decoded.encoding)
        if kind == "html":
            title = _HTML_TITLE.search(data[:16384])
            named = ""
            if title:
                text = decode_feed(title.group(1), content_type).text.strip()
                named = f" ({' '.join(text.split())[:80]!r})" if text else ""
            raise NotAFeedError(f"received an HTML page{named}, not a feed")
        if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") and len(data) < 1 << 20:
            _refuse_json_scalar(data)
        return parse_xml_feed(data, content_type, url)
    except FeedParseError:
        raise
    except (ValueError, TypeError, LookupError, RecursionError, MemoryError) as exc:
        raise FeedParseError(f"cannot read the feed: {type(exc).__name__}: {exc}") from exc
