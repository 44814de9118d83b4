"""The JSON objects that stand for model objects wherever tidings prints or serves them.

``tidings feeds --json`` and ``GET /api/feeds`` give the same object for a feed; the JSON API and
the JSON Lines export the same objects for sightings and state changes.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .model import Feed, Sighting, StateChange, iso_utc

__all__ = ["event_record", "feed_record", "sighting_record"]


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


def sighting_record(sighting: Sighting, raw: tuple[str, str] | None = None) -> dict[str, Any]:
    """A sighting as JSON; with ``raw`` (the variant's title and HTML), ``raw`` holds them."""
    record: dict[str, Any] = {
        "id": sighting.id,
        "revision_id": sighting.revision_id,
        "source": sighting.source,
        "first_seen": iso_utc(sighting.first_seen),
        "last_seen": iso_utc(sighting.last_seen),
        "times": sighting.times,
        "feed_id": sighting.feed_id,
        "status": sighting.status,
        "raw_id": sighting.raw_id,
    }
    record["raw"] = None if raw is None else {"title": raw[0], "content_html": raw[1]}
    return record


def event_record(event: StateChange) -> dict[str, Any]:
    """A state change as JSON."""
    return {
        "id": event.id,
        "at": iso_utc(event.at),
        "old_state": event.old_state.value,
        "new_state": event.new_state.value,
        "evidence": event.evidence,
    }
