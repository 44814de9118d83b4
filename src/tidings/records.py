"""The JSON objects that stand for model objects wherever tidings prints or serves them.

``tidings feeds --json`` and ``GET /api/feeds`` give the same object for a feed.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .model import Feed, iso_utc

__all__ = ["feed_record"]


def feed_record(feed: Feed) -> dict[str, Any]:
    """A feed as JSON: what ``tidings feeds --json`` prints and ``GET /api/feeds`` serves."""
    return {
        "id": feed.id,
        "site": feed.site,
        "url": feed.url,
        "title": feed.title,
        "state": feed.state.value,
        "interval_minutes": feed.interval_seconds / 60,
        "current_interval_minutes": feed.current_interval_seconds / 60,
        "last_fetch": iso_utc(feed.last_fetch),
        "last_success": iso_utc(feed.last_success),
        "next_fetch": iso_utc(feed.next_fetch),
        "last_status": feed.last_status,
        "articles": feed.article_count,
        "consecutive_errors": feed.error_count,
        "error_kind": feed.error_kind,
        "error_message": feed.error_message,
        "problem": feed.problem,
        "options": asdict(feed.options),
    }
