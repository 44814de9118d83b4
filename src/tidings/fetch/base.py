"""What every retriever returns, and the header parsing they share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Protocol

from .addresses import AddressPolicy, is_public

__all__ = [
    "MAX_BODY_BYTES",
    "Exchange",
    "HostGate",
    "Limits",
    "Recorder",
    "Response",
    "cache_lifetime",
    "retry_after_seconds",
]

#: Largest body (after decompression) tidings reads from anywhere.
MAX_BODY_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP request and its answer, as they went over the wire (for WARC records).

    ``url`` is the hop's URL (the host named, not the address connected to, which is
    ``address``); ``body`` is the payload as received once the transfer coding is undone
    (still content-encoded: gzip stays gzip), cut short when ``truncated`` says why
    (``length``: over a size limit or not read; ``disconnect``: the server broke off).
    """

    url: str
    started: datetime
    address: str | None
    request_headers: tuple[tuple[str, str], ...]
    status: int
    reason: str
    http_version: str
    response_headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    truncated: str | None = None


class HostGate(Protocol):
    """Politeness shared by several processes (see :mod:`tidings.store.postgres`): at
    most ``per_host`` requests in flight to a host across all of them, and a host's
    request to wait (429/503 with Retry-After) honoured by all. Each call is one short
    round trip to the database; none waits."""

    def wait_seconds(self, host: str) -> float:
        """How long the host asked every worker to wait (0: not at all), as last read: at
        most a moment ago, or by the last :meth:`acquire` for the host."""
        ...

    def acquire(self, host: str, per_host: int) -> int | None:
        """Take one of the host's ``per_host`` slots if one is free: its number, else None.
        Reads the host's back-off afresh in the same round trip."""
        ...

    def release(self, host: str, slot: int) -> None: ...

    def back_off(self, host: str, seconds: float) -> None:
        """Have every worker leave the host alone for ``seconds``."""
        ...


class Recorder(Protocol):
    """What keeps exchanges (see :mod:`tidings.warc`): which feeds' fetches it keeps, and
    the keeping itself, which must not raise."""

    def keeps(self, feed_id: int | None) -> bool: ...

    def record(self, exchange: Exchange) -> None: ...


@dataclass(frozen=True, slots=True)
class Limits:
    """How hard tidings may pull: concurrency, timeouts (seconds), size; and where it may go."""

    concurrency: int = 32
    per_host: int = 6
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 120.0
    max_bytes: int = MAX_BODY_BYTES
    max_redirects: int = 10
    #: The User-Agent header; None: tidings' own (``tidings/<version> (news archive; ...)``).
    user_agent: str | None = None
    #: Seconds one feed's follow-up fetches (article pages for full text) may take in one
    #: pass; those not done by then wait for the feed's next pass.
    follow_up_budget: float = 60.0
    #: Which addresses count as the public internet (see :mod:`tidings.fetch.addresses`):
    #: pages a feed links to must be on its own host or public, and a redirect from a
    #: public address may not lead to one that is not.
    is_public: AddressPolicy = is_public
    #: Keeps the exchanges of the feeds it names (None: nothing is kept).
    recorder: Recorder | None = None
    #: Shares the per-host limit and hosts' back-off with other workers (None: this
    #: process alone decides).
    gate: HostGate | None = None

    def keeps(self, feed_id: int | None) -> bool:
        """Whether the fetches made for this feed (its document, its pages, its images)
        are kept as WARC records."""
        return self.recorder is not None and self.recorder.keeps(feed_id)


@dataclass(frozen=True, slots=True)
class Response:
    """A retrieved document, or the news that it has not changed (``not_modified``).

    ``permanent_url`` is set when every redirect on the way was permanent
    (301/308): the subscription should move there. ``fresh_for`` is how long
    the server says the document stays fresh (Cache-Control max-age or
    Expires), in seconds.
    """

    url: str
    content: bytes = b""
    status: int | None = None
    not_modified: bool = False
    content_type: str | None = None
    content_language: str | None = None
    content_location: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None
    fresh_for: float | None = None
    received_bytes: int = 0


def _http_date(value: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    moment = _http_date(value)
    if moment is None:
        return None
    return max(0.0, (moment - now).total_seconds())


def cache_lifetime(cache_control: str | None, expires: str | None, now: datetime) -> float | None:
    """Seconds of freshness from Cache-Control max-age (preferred) or Expires."""
    for part in (cache_control or "").split(","):
        name, _, number = part.strip().partition("=")
        if name.strip().lower() in ("max-age", "s-maxage") and number.strip().strip('"').isdigit():
            return float(number.strip().strip('"'))
    if expires:
        moment = _http_date(expires)
        if moment is not None:
            return max(0.0, (moment - now).total_seconds())
    return None
