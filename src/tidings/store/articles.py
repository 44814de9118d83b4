"""Articles and revisions: finding, adding, reading them in order, timelines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ..errors import ArticleNotFoundError
from ..model import (
    Article,
    ArticleRef,
    ArticleState,
    NewRevision,
    Revision,
)
from .common import ARTICLE_COLUMNS, IN_CHUNK, Queries, article_row, dt_required, ms, ms_required, revision_row, rows_in, time_range, wrap_errors

__all__ = ["ArticleQueries"]


class ArticleQueries(Queries):
    """Articles and revisions (mixed into each store)."""


    @wrap_errors
    def find_article(self, site_id: int, key: str) -> Article | None:
        row = self._db.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a JOIN sites s ON s.id = a.site_id"
            " WHERE a.site_id = ? AND a.key = ?",
            (site_id, key),
        ).fetchone()
        return article_row(row) if row else None

    @wrap_errors
    def add_article(
        self,
        site_id: int,
        key: str,
        url: str,
        seen: datetime,
        published: datetime | None,
        feed_id: int | None = None,
    ) -> Article:
        seen_ms = ms(seen)
        row = self._db.execute(
            "INSERT INTO articles(site_id, feed_id, key, url, first_seen, last_seen, published)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id, (SELECT s.name FROM sites s WHERE s.id = site_id),"
            " key, url, first_seen, last_seen, published, state, feed_id, current_revision_id, state_since",
            (site_id, feed_id, key, url, seen_ms, seen_ms, ms(published)),
        ).fetchone()
        return article_row(row)

    @wrap_errors
    def touch_article(self, article_id: int, seen: datetime) -> None:
        self._db.execute(
            f"UPDATE articles SET last_seen = {self.GREATEST}(last_seen, ?) WHERE id = ?",
            (ms(seen), article_id),
        )

    @wrap_errors
    def touch_articles(
        self, article_ids: list[int], seen: datetime, feed_id: int | None = None
    ) -> None:
        seen_ms = ms(seen)
        self._db.executemany(
            f"UPDATE articles SET last_seen = {self.GREATEST}(last_seen, ?), feed_id = coalesce(feed_id, ?)"
            " WHERE id = ?",
            [(seen_ms, feed_id, article_id) for article_id in article_ids],
        )
        # The feed showed each its current content again: the run of its feed sighting goes on.
        for article_id, current in self._rows_in(
            "SELECT id, current_revision_id FROM articles WHERE id IN ({marks})", article_ids
        ):
            if current is not None:
                self._sight(article_id, current, "feed", seen_ms, feed_id=feed_id)

    @wrap_errors
    def articles_matching(
        self, site_id: int, keys: list[str], urls: list[str]
    ) -> list[ArticleRef]:
        columns = "SELECT a.id, a.key, a.url, r.content_hash FROM articles a LEFT JOIN revisions r ON r.id = a.current_revision_id"
        if len(keys) + len(urls) <= IN_CHUNK:  # one round trip for a feed document's entries
            found = [
                ArticleRef(*row)
                for row in self._db.execute(
                    f"{columns} WHERE a.site_id = ? AND (a.key IN ({','.join('?' * len(keys)) or 'NULL'})"
                    f" OR a.url IN ({','.join('?' * len(urls)) or 'NULL'}))",
                    (site_id, *keys, *urls),
                )
            ]
        else:
            found = []
            for column, values in (("key", keys), ("url", urls)):
                sql = f"{columns} WHERE a.site_id = ? AND a.{column} IN ({{marks}})"
                found.extend(ArticleRef(*row) for row in self._rows_in(sql, values, site_id))
        # Those matched by key first: they win over another article at the same URL.
        wanted = set(keys)
        return sorted(found, key=lambda ref: ref.key not in wanted)

    @wrap_errors
    def get_article(self, article_id: int) -> Article:
        row = self._db.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a JOIN sites s ON s.id = a.site_id"
            " WHERE a.id = ?",
            (article_id,),
        ).fetchone()
        if row is None:
            raise ArticleNotFoundError(f"no article with id {article_id}")
        return article_row(row)

    @wrap_errors
    def add_revision(
        self,
        article_id: int,
        revision: NewRevision,
        *,
        current: bool = True,
        feed_id: int | None = None,
        status: int | None = None,
    ) -> tuple[Revision, bool]:
        digest = revision.content_hash
        seen = ms_required(revision.seen)
        row = self._db.execute(
            "INSERT INTO revisions(article_id, seen, content_hash, title, author, summary,"
            " content_html, enclosures, language, source, clean_html, text, fingerprint, changed)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(article_id, content_hash) DO NOTHING RETURNING id",
            (
                article_id,
                seen,
                digest,
                revision.title,
                revision.author,
                revision.summary,
                self._packed(revision.content_html),
                json.dumps(list(revision.enclosures), ensure_ascii=False),
                revision.language,
                revision.source.value,
                self._packed(revision.clean_html, revision.content_html),
                self._packed(revision.text, revision.content_html),
                revision.fingerprint,
                json.dumps(list(revision.changed)),
            ),
        ).fetchone()
        if row is None:
            # Content seen before (perhaps an edit that was reverted): it is current again.
            revision_id = self._db.execute(
                "SELECT id FROM revisions WHERE article_id = ? AND content_hash = ?",
                (article_id, digest),
            ).fetchone()[0]
            stored, created = self._revision(revision_id), False
        else:
            stored = Revision(
                id=row[0],
                article_id=article_id,
                seen=dt_required(seen),
                title=revision.title,
                content_html=revision.content_html,
                content_hash=digest,
                source=revision.source,
                author=revision.author,
                summary=revision.summary,
                enclosures=revision.enclosures,
                language=revision.language,
                clean_html=revision.clean_html,
                text=revision.text,
                fingerprint=revision.fingerprint,
                changed=revision.changed,
            )
            created = True
        if created:  # a new content: its sighting is new (no earlier one showed it)
            self._db.execute(
                "INSERT INTO sightings(article_id, revision_id, source, feed_id, first_seen, last_seen, status)"
                " VALUES (?,?,?,?,?,?,?)",
                (article_id, stored.id, revision.source.value, feed_id, seen, seen, status),
            )
        else:
            self._sight(article_id, stored.id, revision.source.value, seen, feed_id=feed_id, status=status)
        if current:
            self._db.execute(
                "UPDATE articles SET current_revision_id = ? WHERE id = ?"
                " AND current_revision_id IS DISTINCT FROM ?",
                (stored.id, article_id, stored.id),
            )
        return stored, created

    def _revision(self, revision_id: int) -> Revision:
        row = self._db.execute(
            f"SELECT {self._revision_columns} FROM revisions r WHERE r.id = ?", (revision_id,)
        ).fetchone()
        return revision_row(row)

    @wrap_errors
    def revisions(self, article_id: int) -> list[Revision]:
        rows = self._db.execute(
            f"SELECT {self._revision_columns} FROM revisions r WHERE r.article_id = ? ORDER BY r.id",
            (article_id,),
        ).fetchall()
        return [revision_row(row) for row in rows]

    @wrap_errors
    def iter_articles(self, site: str | None = None) -> Iterator[Article]:
        query = f"SELECT {ARTICLE_COLUMNS} FROM articles a JOIN sites s ON s.id = a.site_id"
        params: tuple[Any, ...] = ()
        if site is not None:
            query += " WHERE s.name = ?"
            params = (site,)
        # Fetch all at once: callers may write to the store while iterating.
        rows = self._db.execute(query + " ORDER BY a.id", params).fetchall()
        return (article_row(row) for row in rows)

    @wrap_errors
    def iter_revisions(
        self, site: str | None = None, *, latest_only: bool = False
    ) -> Iterator[Revision]:
        where: list[str] = []
        params: list[Any] = []
        if site is not None:
            where.append(
                "r.article_id IN (SELECT a.id FROM articles a JOIN sites s ON s.id = a.site_id"
                " WHERE s.name = ?)"
            )
            params.append(site)
        if latest_only:
            where.append("r.id IN (SELECT current_revision_id FROM articles)")
        query = f"SELECT {self._revision_columns} FROM revisions r"
        if where:
            query += " WHERE " + " AND ".join(where)
        cursor = self._db.execute(query + " ORDER BY r.article_id, r.id", params)
        return self._stream(cursor)

    @staticmethod
    def _stream(cursor: Any) -> Iterator[Revision]:
        while rows := cursor.fetchmany(512):
            for row in rows:
                yield revision_row(row)

    @wrap_errors
    def revisions_by_id(self, revision_ids: list[int]) -> list[Revision]:
        rows = self._rows_in(f"SELECT {self._revision_columns} FROM revisions r WHERE r.id IN ({{marks}})", revision_ids)
        return sorted((revision_row(row) for row in rows), key=lambda r: r.id)

    @wrap_errors
    def article_urls(self, article_ids: list[int]) -> dict[int, str]:
        return dict(self._rows_in("SELECT id, url FROM articles WHERE id IN ({marks})", article_ids))

    @wrap_errors
    def article_ids(self, after_id: int, limit: int) -> list[int]:
        rows = self._db.execute(
            "SELECT id FROM articles WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
        ).fetchall()
        return [row[0] for row in rows]

    @wrap_errors
    def feed_articles(self, feed_id: int, states: tuple[ArticleState, ...]) -> list[Article]:
        marks = ",".join("?" * len(states))
        rows = self._db.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a JOIN sites s ON s.id = a.site_id"
            f" WHERE a.feed_id = ? AND a.state IN ({marks}) ORDER BY a.id",
            (feed_id, *(state.value for state in states)),
        ).fetchall()
        return [article_row(row) for row in rows]

    @wrap_errors
    def timeline(
        self,
        *,
        site: str | None = None,
        before: tuple[int, int] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
    ) -> list[tuple[Article, str]]:
        """Articles newest first (by publication, else first seen), with their current
        title; ``before`` is the (time ms, id) of the last article of the previous page."""
        where = ["TRUE"]
        params: list[Any] = []
        if site is not None:
            where.append("s.name = ?")
            params.append(site)
        time_range(where, params, since, until)
        if before is not None:
            where.append(
                "(coalesce(a.published, a.first_seen) < ? OR"
                " (coalesce(a.published, a.first_seen) = ? AND a.id < ?))"
            )
            params += [before[0], before[0], before[1]]
        rows = self._db.execute(
            f"SELECT {ARTICLE_COLUMNS}, r.title FROM articles a JOIN sites s ON s.id = a.site_id"
            " LEFT JOIN revisions r ON r.id = a.current_revision_id"
            f" WHERE {' AND '.join(where)}"
            " ORDER BY coalesce(a.published, a.first_seen) DESC, a.id DESC LIMIT ?",
            [*params, limit],
        ).fetchall()
        return [(article_row(row[:11]), row[11] or "") for row in rows]
