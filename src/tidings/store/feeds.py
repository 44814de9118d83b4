"""Sites, feeds and their fetch log: the queries every database shares."""

from __future__ import annotations

from typing import Any
import dataclasses
import json
from datetime import datetime, timezone

from ..errors import FeedExistsError, FeedNotFoundError
from ..model import (
    Feed,
    FeedOptions,
    FetchRecord,
    Site,
)
from .common import FEED_COLUMNS, Queries, dt, dt_required, feed_row, ms, options_of, wrap_errors

__all__ = ["FeedQueries"]


class FeedQueries(Queries):
    """Sites, feeds and their fetch log (mixed into each store)."""

    @wrap_errors
    def site(self, name: str) -> Site:
        site_id = self._site_ids.get(name)
        if site_id is None:
            row = self._db.execute(
                "INSERT INTO sites(name) VALUES (?) ON CONFLICT(name) DO UPDATE SET name = excluded.name"
                " RETURNING id",
                (name,),
            ).fetchone()
            site_id = self._site_ids[name] = row[0]
        return Site(site_id, name)

    @wrap_errors
    def sites(self) -> list[Site]:
        rows = self._db.execute("SELECT id, name FROM sites ORDER BY name").fetchall()
        return [Site(*row) for row in rows]

    @wrap_errors
    def add_feed(
        self,
        url: str,
        site: str,
        *,
        interval_seconds: int = 3600,
        options: FeedOptions = FeedOptions(),
    ) -> Feed:
        with self.transaction():
            if self.find_feed(url) is not None:
                raise FeedExistsError(f"already subscribed to {url}")
            site_id = self.site(site).id
            row = self._db.execute(
                "INSERT INTO feeds(url, site_id, interval_s, current_interval_s, options, created)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    url,
                    site_id,
                    interval_seconds,
                    interval_seconds,
                    json.dumps(dataclasses.asdict(options), ensure_ascii=False),
                    ms(datetime.now(timezone.utc)),
                ),
            ).fetchone()
            return self.get_feed(row[0])

    @wrap_errors
    def get_feed(self, feed_id: int) -> Feed:
        row = self._db.execute(
            f"SELECT {FEED_COLUMNS} FROM feeds f JOIN sites s ON s.id = f.site_id WHERE f.id = ?",
            (feed_id,),
        ).fetchone()
        if row is None:
            raise FeedNotFoundError(f"no feed with id {feed_id}")
        return feed_row(row)

    @wrap_errors
    def find_feed(self, url: str) -> Feed | None:
        row = self._db.execute(
            f"SELECT {FEED_COLUMNS} FROM feeds f JOIN sites s ON s.id = f.site_id WHERE f.url = ?",
            (url,),
        ).fetchone()
        return feed_row(row) if row else None

    @wrap_errors
    def feeds(self) -> list[Feed]:
        rows = self._db.execute(
            f"SELECT {FEED_COLUMNS} FROM feeds f JOIN sites s ON s.id = f.site_id ORDER BY f.id"
        ).fetchall()
        return [feed_row(row) for row in rows]

    @wrap_errors
    def feed_options(self) -> dict[int, FeedOptions]:
        return {row[0]: options_of(row[1]) for row in self._db.execute("SELECT id, options FROM feeds")}

    @wrap_errors
    def due_feeds(self, now: datetime) -> list[Feed]:
        rows = self._db.execute(
            f"SELECT {FEED_COLUMNS} FROM feeds f JOIN sites s ON s.id = f.site_id"
            " WHERE f.state = 'active' AND (f.next_fetch IS NULL OR f.next_fetch <= ?)"
            " ORDER BY coalesce(f.next_fetch, 0), f.id",
            (ms(now),),
        ).fetchall()
        return [feed_row(row) for row in rows]

    @wrap_errors
    def next_due(self) -> datetime | None:
        row = self._db.execute(
            "SELECT min(coalesce(next_fetch, 0)) FROM feeds WHERE state = 'active'"
        ).fetchone()
        return dt(row[0]) if row and row[0] is not None else None

    @wrap_errors
    def save_feed(self, feed: Feed) -> None:
        cursor = self._db.execute(
            "UPDATE feeds SET url=?, title=?, etag=?, last_modified=?, interval_s=?,"
            " current_interval_s=?, next_fetch=?, last_fetch=?, last_success=?, error_count=?,"
            " error_kind=?, error_message=?, state=?, options=?, last_status=?, last_new=?,"
            " problem=? WHERE id=? RETURNING id",
            (
                feed.url,
                feed.title,
                feed.etag,
                feed.last_modified,
                feed.interval_seconds,
                feed.current_interval_seconds,
                ms(feed.next_fetch),
                ms(feed.last_fetch),
                ms(feed.last_success),
                feed.error_count,
                feed.error_kind,
                feed.error_message,
                feed.state.value,
                json.dumps(dataclasses.asdict(feed.options), ensure_ascii=False),
                feed.last_status,
                ms(feed.last_new),
                feed.problem,
                feed.id,
            ),
        )
        if cursor.fetchone() is None:
            raise FeedNotFoundError(f"no feed with id {feed.id}")

    @wrap_errors
    def remove_feed(self, feed_id: int) -> None:
        with self.transaction():
            self.get_feed(feed_id)
            # Articles are kept forever; they only lose their link to the subscription.
            self._db.execute("UPDATE articles SET feed_id = NULL WHERE feed_id = ?", (feed_id,))
            self._db.execute("DELETE FROM fetches WHERE feed_id = ?", (feed_id,))
            self._db.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))

    @wrap_errors
    def record_fetch(self, record: FetchRecord) -> None:
        self._db.execute(
            "INSERT INTO fetches(feed_id, started, status, bytes, duration_ms, new_articles,"
            " changed_articles, error_kind, error_message) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                record.feed_id,
                ms(record.started),
                record.status,
                record.bytes,
                record.duration_ms,
                record.new_articles,
                record.changed_articles,
                record.error_kind,
                record.error_message,
            ),
        )

    @wrap_errors
    def fetch_log(self, feed_id: int) -> list[FetchRecord]:
        rows = self._db.execute(
            "SELECT feed_id, started, status, bytes, duration_ms, new_articles, changed_articles,"
            " error_kind, error_message FROM fetches WHERE feed_id = ? ORDER BY started, id",
            (feed_id,),
        ).fetchall()
        return [
            FetchRecord(row[0], dt_required(row[1]), *row[2:]) for row in rows
        ]
