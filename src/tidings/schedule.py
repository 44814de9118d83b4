"""When to fetch a feed next: pure decisions, tested without I/O.

* Each feed has a configured interval (default 60 minutes). The interval in
  use adapts to how often the feed publishes: it halves after a fetch that
  brought new articles and grows by half after one that did not, within
  ``[max(5 min, configured/4), min(24 h, configured*4)]``.
* Cache-Control max-age, Expires and RSS ``ttl`` can only push the next
  fetch later (never beyond 24 hours), never earlier.
* Every delay gets ±10% jitter, so feeds added together drift apart.
* After a failure the delay doubles per consecutive failure, from 5 minutes
  up to 24 hours; a feed is retried forever, never disabled. A server's
  Retry-After (429, 503) is honoured, up to a week.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

__all__ = [
    "MAX_BACKOFF",
    "MAX_INTERVAL",
    "MIN_INTERVAL",
    "adapt_interval",
    "next_after_failure",
    "next_after_success",
]

MIN_INTERVAL = 5 * 60
MAX_INTERVAL = 24 * 3600
MAX_BACKOFF = 24 * 3600
FIRST_BACKOFF = 5 * 60
MAX_RETRY_AFTER = 7 * 24 * 3600
JITTER = 0.1


def _bounds(configured: int) -> tuple[int, int]:
    low = max(MIN_INTERVAL, configured // 4)
    high = max(low, min(MAX_INTERVAL, configured * 4))
    return low, high


def adapt_interval(configured: int, current: int, had_new: bool) -> int:
    """The interval to use from now on, given whether the last fetch brought news."""
    low, high = _bounds(configured)
    proposed = current // 2 if had_new else current + current // 2
    return max(low, min(high, proposed))


def _jittered(seconds: float, rng: random.Random) -> float:
    return seconds * (1 + rng.uniform(-JITTER, JITTER))


def next_after_success(
    now: datetime,
    *,
    configured: int,
    current: int,
    had_new: bool,
    fresh_for: float | None = None,
    ttl_minutes: int | None = None,
    rng: random.Random,
) -> tuple[datetime, int]:
    """The next fetch after a successful one (or a 304), and the interval now in use."""
    interval = adapt_interval(configured, current, had_new)
    delay = _jittered(interval, rng)
    hints = [h for h in (fresh_for, ttl_minutes * 60 if ttl_minutes else None) if h]
    if hints:
        # Server hints only ever postpone, and never past a day.
        delay = max(delay, min(max(hints), MAX_INTERVAL))
    return now + timedelta(seconds=delay), interval


def next_after_failure(
    now: datetime,
    *,
    failures: int,
    retry_after: float | None = None,
    rng: random.Random,
) -> datetime:
    """The next attempt after ``failures`` consecutive failures (1 for the first)."""
    backoff = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** max(0, min(failures - 1, 20)))
    delay = _jittered(backoff, rng)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return now + timedelta(seconds=delay)
