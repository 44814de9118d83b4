"""History: sightings of revisions, raw variants, state changes, recent changes, re-checks."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ..errors import ArticleNotFoundError
from ..model import (
    Article,
    ArticleState,
    Change,
    NewRevision,
    Sighting,
    StateChange,
)
from .common import ARTICLE_COLUMNS, Queries, article_row, dt, dt_required, ms, ms_required, wrap_errors

__all__ = ["HistoryQueries"]


class HistoryQueries(Queries):
    """History (mixed into each store)."""

    def _sight(
        self,
        article_id: int,
        revision_id: int,
        source: str,
        seen_ms: int | None,
        *,
        feed_id: int | None = None,
        status: int | None = None,
        raw_id: int | None = None,
    ) -> None:
        """Record that ``source`` showed this revision at ``seen_ms``: the newest sighting by
        the same source goes on when it showed the same revision (and the same bytes), else a
        new sighting starts (A, then B, then A again is three sightings)."""
        last = self._db.execute(
            "SELECT id, revision_id, raw_id FROM sightings WHERE article_id = ? AND source = ?"
            " ORDER BY id DESC LIMIT 1",
            (article_id, source),
        ).fetchone()
        if last is not None and last[1] == revision_id and last[2] == raw_id:
            self._db.execute(
                f"UPDATE sightings SET last_seen = {self.GREATEST}(last_seen, ?), times = times + 1,"
                " status = coalesce(?, status) WHERE id = ?",
                (seen_ms, status, last[0]),
            )
            return
        self._db.execute(
            "INSERT INTO sightings(article_id, revision_id, source, feed_id, first_seen, last_seen,"
            " status, raw_id) VALUES (?,?,?,?,?,?,?,?)",
            (article_id, revision_id, source, feed_id, seen_ms, seen_ms, status, raw_id),
        )

    @wrap_errors
    def see_revision(
        self,
        article_id: int,
        revision_id: int,
        *,
        source: str,
        seen: datetime,
        feed_id: int | None = None,
        status: int | None = None,
        raw: NewRevision | None = None,
        current: bool = False,
    ) -> None:
        raw_id = None
        if raw is not None:
            row = self._db.execute(
                "INSERT INTO raw_contents(revision_id, content_hash, title, content_html)"
                " VALUES (?,?,?,?) ON CONFLICT(revision_id, content_hash) DO UPDATE SET"
                " title = excluded.title RETURNING id",
                (revision_id, raw.content_hash, raw.title, self._packed(raw.content_html)),
            ).fetchone()
            raw_id = row[0]
        self._sight(article_id, revision_id, source, ms(seen), feed_id=feed_id, status=status, raw_id=raw_id)
        if current:
            self._db.execute(
                "UPDATE articles SET current_revision_id = ? WHERE id = ?", (revision_id, article_id)
            )

    @wrap_errors
    def sightings(self, article_id: int) -> list[Sighting]:
        rows = self._db.execute(
            "SELECT id, article_id, revision_id, source, first_seen, last_seen, times, feed_id,"
            " status, raw_id FROM sightings WHERE article_id = ? ORDER BY first_seen, id",
            (article_id,),
        ).fetchall()
        return [
            Sighting(
                id=row[0], article_id=row[1], revision_id=row[2], source=row[3],
                first_seen=dt_required(row[4]), last_seen=dt_required(row[5]), times=row[6],
                feed_id=row[7], status=row[8], raw_id=row[9],
            )
            for row in rows
        ]

    @wrap_errors
    def raw_content(self, raw_id: int) -> tuple[str, str]:
        row = self._db.execute(
            "SELECT title, content_html FROM raw_contents WHERE id = ?", (raw_id,)
        ).fetchone()
        if row is None:
            raise ArticleNotFoundError(f"no raw content with id {raw_id}")
        return row[0], row[1]

    @wrap_errors
    def change_state(
        self, article_id: int, state: ArticleState, at: datetime, evidence: dict[str, object]
    ) -> StateChange | None:
        article = self.get_article(article_id)
        if article.state is state:
            return None
        at_ms = ms_required(at)
        self._db.execute(
            "UPDATE articles SET state = ?, state_since = ? WHERE id = ?", (state.value, at_ms, article_id)
        )
        row = self._db.execute(
            "INSERT INTO state_changes(article_id, at, old_state, new_state, evidence)"
            " VALUES (?,?,?,?,?) RETURNING id",
            (article_id, at_ms, article.state.value, state.value, json.dumps(evidence, ensure_ascii=False)),
        ).fetchone()
        return StateChange(row[0], article_id, dt_required(at_ms), article.state, state, dict(evidence))

    @wrap_errors
    def state_changes(self, article_id: int | None = None, *, limit: int = 1000) -> list[StateChange]:
        query = "SELECT id, article_id, at, old_state, new_state, evidence FROM state_changes"
        params: tuple[Any, ...] = ()
        if article_id is not None:
            query += " WHERE article_id = ? ORDER BY at, id"
            params = (article_id,)
        else:
            query += " ORDER BY at DESC, id DESC LIMIT ?"
            params = (limit,)
        return [
            StateChange(row[0], row[1], dt_required(row[2]), ArticleState(row[3]), ArticleState(row[4]),
                        json.loads(row[5]))
            for row in self._db.execute(query, params).fetchall()
        ]

    @wrap_errors
    def recent_changes(
        self, site: str | None = None, *, limit: int = 50, before: tuple[int, int, int] | None = None
    ) -> list[Change]:
        # Two keyset queries, each at most ``limit`` long, merged: the order is (time, kind, id)
        # descending, an edit (kind 0) after a state change (kind 1) of the same millisecond.
        edit_where = ["r.source != 'import'"]
        state_where = ["TRUE"]
        edit_params: list[Any] = []
        state_params: list[Any] = []
        if site is not None:
            edit_where.append("s.name = ?")
            edit_params.append(site)
            state_where.append("s.name = ?")
            state_params.append(site)
        if before is not None:
            moment, kind, last_id = before
            if kind == 0:
                edit_where.append("(r.seen < ? OR (r.seen = ? AND r.id < ?))")
                edit_params += [moment, moment, last_id]
                state_where.append("c.at < ?")
                state_params.append(moment)
            else:
                edit_where.append("r.seen <= ?")
                edit_params.append(moment)
                state_where.append("(c.at < ? OR (c.at = ? AND c.id < ?))")
                state_params += [moment, moment, last_id]
        # An edit's previous revision is the newest older one of the same lane: the feed's
        # content (with imported documents) or the page's full text.
        edits = self._db.execute(
            "SELECT * FROM (SELECT r.id, r.article_id, r.seen, s.name, a.url, r.title, r.changed, r.source,"
            " (SELECT max(p.id) FROM revisions p WHERE p.article_id = r.article_id AND p.id < r.id"
            "  AND (p.source = 'extracted') = (r.source = 'extracted')) AS previous"
            " FROM revisions r JOIN articles a ON a.id = r.article_id JOIN sites s ON s.id = a.site_id"
            f" WHERE {' AND '.join(edit_where)}) edits WHERE previous IS NOT NULL"
            " ORDER BY seen DESC, id DESC LIMIT ?",
            [*edit_params, limit],
        ).fetchall()
        states = self._db.execute(
            "SELECT c.id, c.article_id, c.at, s.name, a.url, coalesce(r.title, ''), c.old_state,"
            " c.new_state, c.evidence FROM state_changes c JOIN articles a ON a.id = c.article_id"
            " JOIN sites s ON s.id = a.site_id LEFT JOIN revisions r ON r.id = a.current_revision_id"
            f" WHERE {' AND '.join(state_where)} ORDER BY c.at DESC, c.id DESC LIMIT ?",
            [*state_params, limit],
        ).fetchall()
        found = [
            ((row[2], 0, row[0]), Change(
                kind="edit", id=row[0], at=dt_required(row[2]), article_id=row[1], site=row[3], url=row[4],
                title=row[5], changed=tuple(json.loads(row[6])), revision_id=row[0],
                previous_revision_id=row[8], source=row[7],
            ))
            for row in edits
        ] + [
            ((row[2], 1, row[0]), Change(
                kind="state", id=row[0], at=dt_required(row[2]), article_id=row[1], site=row[3], url=row[4],
                title=row[5], old_state=ArticleState(row[6]), new_state=ArticleState(row[7]),
                evidence=json.loads(row[8]),
            ))
            for row in states
        ]
        found.sort(key=lambda pair: pair[0], reverse=True)
        return [change for _, change in found[:limit]]

    @wrap_errors
    def recheck_candidates(
        self, since: datetime, *, feed_id: int | None = None
    ) -> list[tuple[Article, datetime | None]]:
        query = (
            f"SELECT {ARTICLE_COLUMNS}, (SELECT max(g.last_seen) FROM sightings g"
            " WHERE g.article_id = a.id AND g.source IN ('extracted', 'check'))"
            " FROM articles a JOIN sites s ON s.id = a.site_id"
            " WHERE a.first_seen >= ? AND a.feed_id IS NOT NULL AND a.state != 'deleted'"
        )
        params: list[Any] = [ms_required(since)]
        if feed_id is not None:
            query += " AND a.feed_id = ?"
            params.append(feed_id)
        rows = self._db.execute(query + " ORDER BY a.first_seen DESC, a.id DESC", params).fetchall()
        return [(article_row(row[:11]), dt(row[11])) for row in rows]

    @wrap_errors
    def set_revision_history(self, revision_id: int, fingerprint: str | None, changed: tuple[str, ...]) -> None:
        self._db.execute(
            "UPDATE revisions SET fingerprint = coalesce(?, fingerprint), changed = ? WHERE id = ?",
            (fingerprint, json.dumps(list(changed)), revision_id),
        )
