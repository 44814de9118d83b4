"""How a feed's failures and problems are told: kinds, messages, notes. Pure.

A message recorded on a feed (and shown by ``tidings feeds`` and ``GET /api/feeds``) says
what went wrong with the status, content type and size of what came back, and never any
of its text: a feed fetched from one place must not publish what another place answered.
"""

from __future__ import annotations

import re

from .errors import FeedParseError, FeedTooLargeError, FetchError, NotAFeedError
from .fetch import Response
from .model import ParsedFeed

__all__ = ["failure_kind", "failure_message", "feed_problem", "problems_note"]

#: Entries read from one feed document (feeds list the newest first): a hostile document of
#: millions of items must not become millions of articles in one transaction.
MAX_ENTRIES_PER_DOCUMENT = 5000


def feed_problem(parsed: ParsedFeed, limit: int = MAX_ENTRIES_PER_DOCUMENT) -> str | None:
    """What a feed document held that tidings could not read, for the feed's health; None
    when every item was read. Problems the parser worked around (a wrong encoding label,
    a repaired date) are not listed: nothing was lost to them."""
    found = []
    readable = len(parsed.entries)
    if parsed.skipped_items:
        total = max(parsed.item_elements, readable + parsed.skipped_items)
        found.append(f"{parsed.skipped_items} of {total} items could not be read and were skipped")
    elif parsed.item_elements > readable:
        found.append(f"the document has {parsed.item_elements} items but only {readable} could be read")
    if readable > limit:
        found.append(f"{readable} entries in one document: only the first {limit} were read")
    return "; ".join(found) or None


_LINE = re.compile(r"\bline (\d{1,9})\b")
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}")


def _document_kind(content: bytes) -> str:
    """What a body looks like, in tidings' words (never its own)."""
    head = content[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        return "an empty document"
    if head[:2] == b"\x1f\x8b" or head[:2] in (b"\x78\x9c", b"\x78\x01", b"\x78\xda"):
        return "compressed data"
    if head[:1] in (b"{", b"["):
        return "JSON"
    lowered = head[:256].lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered:
        return "an HTML page"
    if head[:1] == b"<":
        return "XML"
    return "a document that is neither XML nor JSON"


def _received(response: Response) -> str:
    """Status, media type and size of a response: all a failure message says of what came."""
    media = (response.content_type or "").split(";")[0].strip().lower()
    if not media:
        media = "no content type"
    elif not _MEDIA_TYPE.fullmatch(media):
        media = "an unusual content type"
    status = f"HTTP {response.status}, " if response.status is not None else ""
    return f"{status}{media}, {len(response.content)} bytes"


def failure_message(url: str, exc: Exception, response: Response | None = None) -> str:
    """The message recorded and shown for a feed that failed: what went wrong, with the
    status, content type and size of what came back, and never any of its text (a feed
    fetched from one place must not publish what another place answered).

    FetchError messages are the fetcher's own (see :mod:`tidings.fetch.http`); a document
    that does not parse is described by tidings (an HTML page, JSON, XML...) with the
    line of its first error when the parser names one; the parser's words, which may
    quote the document, are not repeated.
    """
    if isinstance(exc, FetchError):
        return str(exc) or exc.kind
    received = f" ({_received(response)})" if response is not None else ""
    kind = _document_kind(response.content) if response is not None else "the document"
    if isinstance(exc, FeedTooLargeError):
        return f"{url}: too large when decompressed{received}"
    if isinstance(exc, NotAFeedError):
        return f"{url}: not a feed{received}: {kind}"
    if isinstance(exc, FeedParseError):
        line = _LINE.search(str(exc))
        where = f", first error at line {line.group(1)}" if line else ""
        if kind == "XML":
            kind = "XML that is not well-formed"
        elif kind == "JSON":
            kind = "JSON that does not parse"
        return f"{url}: not readable as a feed{received}: {kind}{where}"
    return f"{url}: internal error ({type(exc).__name__}); the log has the details"


def problems_note(parsed: ParsedFeed) -> str | None:
    """The fetch log's note on a document read with problems: how many, and where the first
    was; the problems themselves (which may quote the document) are for ``tidings inspect``."""
    if not parsed.problems:
        return None
    count = len(parsed.problems)
    parts = [f"{count} problem{'s' if count != 1 else ''} reading the document"]
    if parsed.skipped_items:
        parts.append(f"{parsed.skipped_items} of {parsed.item_elements} items unreadable")
    for problem in parsed.problems:
        line = _LINE.search(problem)
        if line:
            parts.append(f"first at line {line.group(1)}")
            break
    return "; ".join(parts) + " (tidings inspect shows them)"


def failure_kind(exc: Exception) -> str:
    if isinstance(exc, FetchError):
        return exc.kind
    if isinstance(exc, NotAFeedError):
        return "not_a_feed"
    if isinstance(exc, FeedTooLargeError):
        return "too_large"
    if isinstance(exc, FeedParseError):
        return "parse"
    return "internal"
