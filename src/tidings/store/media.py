"""Archived images (the queries every database shares): which revisions use which images, what
became of each image, and the files kept for them (see :mod:`tidings.media`)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from ..model import ImageJob, ImageRecord
from .common import Queries, ms_required, rows_in, wrap_errors

__all__ = ["MediaQueries"]


class MediaQueries(Queries):
    """Image queries (mixed into each store)."""

    @wrap_errors
    def unlisted_image_revisions(self, limit: int) -> list[tuple[int, str, tuple[dict[str, object], ...]]]:
        rows = self._db.execute(
            f"SELECT id, {self._read_derived('clean_html', 'content_html')}, enclosures FROM revisions"
            " WHERE images_listed = 0 AND clean_html IS NOT NULL"
            f" ORDER BY id LIMIT ?{self.SKIP_LOCKED}",
            (limit,),
        ).fetchall()
        return [(row[0], row[1], tuple(json.loads(row[2] or "[]"))) for row in rows]

    @wrap_errors
    def list_revision_images(self, items: list[tuple[int, list[str]]]) -> None:
        db = self._db
        places = [(revision_id, place, url) for revision_id, urls in items for place, url in enumerate(urls)]
        # In one order for every worker: two inserting the same URLs never wait on each other in turn.
        distinct = sorted({url for _revision_id, _place, url in places})
        if places:
            db.executemany("INSERT INTO images(url) VALUES (?) ON CONFLICT DO NOTHING", [(url,) for url in distinct])
            db.executemany(
                "INSERT INTO revision_images(revision_id, image_id, place)"
                " SELECT ?, id, ? FROM images WHERE url = ? ON CONFLICT DO NOTHING",
                places,
            )
        self._run_in("UPDATE revisions SET images_listed = 1 WHERE id IN ({marks})", [item[0] for item in items])

    @wrap_errors
    def images_due(
        self,
        limit: int,
        *,
        max_attempts: int,
        now: datetime,
        retry_after: timedelta,
        skip_feeds: tuple[int, ...] = (),
        skip_unfed: bool = False,
    ) -> list[ImageJob]:
        # An image is fetched for the feed of the newest revision that uses it (whose host it
        # may share); an imported article's image for its own page.
        skip = ""
        if skip_feeds:
            skip += f" AND coalesce(a.feed_id, -1) NOT IN ({','.join(str(int(f)) for f in skip_feeds)})"
        if skip_unfed:
            skip += " AND a.feed_id IS NOT NULL"
        rows = self._db.execute(
            "SELECT i.id, i.url, coalesce(f.url, a.url), a.feed_id, i.attempts FROM images i"
            " JOIN revision_images ri ON ri.image_id = i.id"
            " AND ri.revision_id = (SELECT max(revision_id) FROM revision_images WHERE image_id = i.id)"
            " JOIN revisions r ON r.id = ri.revision_id JOIN articles a ON a.id = r.article_id"
            " LEFT JOIN feeds f ON f.id = a.feed_id"
            " WHERE (i.status = 'pending' OR (i.status = 'failed' AND i.attempts < ? AND i.last_try <= ?))"
            + skip
            + " ORDER BY i.id LIMIT ?",
            (max_attempts, ms_required(now - retry_after), limit),
        ).fetchall()
        return [ImageJob(row[0], row[1], row[2], row[3], row[4]) for row in rows]

    @wrap_errors
    def record_image(
        self,
        image_id: int,
        status: str,
        *,
        tried: datetime,
        sha256: str | None = None,
        media_type: str | None = None,
        size: int | None = None,
        reason: str | None = None,
        http_status: int | None = None,
    ) -> None:
        db = self._db
        if sha256 is not None:
            db.execute(
                "INSERT INTO media(sha256, type, size, stored) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (sha256, media_type, size, ms_required(tried)),
            )
        db.execute(
            "UPDATE images SET status = ?, sha256 = ?, reason = ?, attempts = attempts + 1, last_try = ?,"
            " http_status = ? WHERE id = ?",
            (status, sha256, reason, ms_required(tried), http_status, image_id),
        )

    @wrap_errors
    def archived_images(self, urls: list[str]) -> dict[str, tuple[str, str]]:
        rows = rows_in(
            self._db,
            "SELECT i.url, i.sha256, m.type FROM images i JOIN media m ON m.sha256 = i.sha256"
            " WHERE i.status = 'archived' AND i.url IN ({marks})",
            urls,
        )
        return {url: (sha256, media_type) for url, sha256, media_type in rows}

    @wrap_errors
    def revision_images(self, revision_ids: list[int]) -> dict[int, list[ImageRecord]]:
        found: dict[int, list[ImageRecord]] = {}
        rows = rows_in(
            self._db,
            "SELECT ri.revision_id, i.url, i.status, i.sha256, m.type, m.size, i.reason, i.attempts"
            " FROM revision_images ri JOIN images i ON i.id = ri.image_id"
            " LEFT JOIN media m ON m.sha256 = i.sha256"
            " WHERE ri.revision_id IN ({marks}) ORDER BY ri.revision_id, ri.place",
            revision_ids,
        )
        for row in rows:
            found.setdefault(row[0], []).append(ImageRecord(*row[1:]))
        return found

    @wrap_errors
    def media_type(self, sha256: str) -> str | None:
        row = self._db.execute("SELECT type FROM media WHERE sha256 = ?", (sha256,)).fetchone()
        return None if row is None else str(row[0])

    @wrap_errors
    def image_counts(self) -> dict[str, int]:
        return dict(self._db.execute("SELECT status, count(*) FROM images GROUP BY status").fetchall())

    @wrap_errors
    def referenced_media(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT DISTINCT sha256 FROM images WHERE sha256 IS NOT NULL")}

    @wrap_errors
    def forget_media(self, sha256s: list[str]) -> None:
        self._db.executemany(
            "DELETE FROM media WHERE sha256 = ? AND sha256 NOT IN (SELECT sha256 FROM images WHERE sha256 IS NOT NULL)",
            [(sha256,) for sha256 in sha256s],
        )
