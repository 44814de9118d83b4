"""What the derive stage and the search index read and write, apart from the index itself."""

from __future__ import annotations

from typing import Any

from ..model import (
    Revision,
)
from .common import Queries, revision_row, wrap_errors

__all__ = ["DerivedQueries"]


class DerivedQueries(Queries):
    """What the derive stage and the search index read and write, apart from the index itself (mixed into each store)."""

    @wrap_errors
    def underived_revisions(self, limit: int, after_id: int = 0) -> list[Revision]:
        rows = self._db.execute(
            f"SELECT {self._revision_columns} FROM revisions r WHERE r.text IS NULL AND r.id > ?"
            " ORDER BY r.id LIMIT ?",
            (after_id, limit),
        ).fetchall()
        return [revision_row(row) for row in rows]

    @wrap_errors
    def underived_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM revisions WHERE text IS NULL").fetchone()[0])

    @wrap_errors
    def revision_batch(self, after_id: int, limit: int) -> list[Revision]:
        rows = self._db.execute(
            f"SELECT {self._revision_columns} FROM revisions r WHERE r.id > ? ORDER BY r.id LIMIT ?",
            (after_id, limit),
        ).fetchall()
        return [revision_row(row) for row in rows]

    @wrap_errors
    def save_derived(self, items: list[tuple[int, Any, Any]]) -> None:
        # A fingerprint is taken from the clean HTML: cleaned again, it is taken again when needed.
        # (Values may come packed: compared as texts, and only when there was a clean HTML.)
        write = self.WRITE_DERIVED
        self._db.executemany(
            f"UPDATE revisions SET clean_html = {write.format('?', 'content_html')},"
            f" text = {write.format('?', 'content_html')}, fingerprint = CASE WHEN clean_html IS NULL THEN NULL"
            f" WHEN {self._read_derived('clean_html', 'content_html')}"
            f" IS NOT DISTINCT FROM {self._read_derived('?', 'content_html')} THEN fingerprint END"
            " WHERE id = ?",
            [(clean, text, clean, revision_id) for revision_id, clean, text in items],
        )

    @wrap_errors
    def article_digests(self, site: str | None = None) -> list[tuple[int, str, int]]:
        # Everything an article's page shows that can change, in one string per article:
        # its row, its revisions (with the size of their clean HTML), its sightings (not
        # their last time or count, which change with every fetch), its state changes and
        # its archived images.
        agg = self._joined
        query = (
            "SELECT a.id, a.url || '|' || coalesce(CAST(a.published AS TEXT), '') || '|' || a.first_seen || '|'"
            " || a.state || '|' || coalesce(CAST(a.state_since AS TEXT), '')"
            " || '|' || coalesce(CAST(a.current_revision_id AS TEXT), '')"
            " || '|' || coalesce((SELECT "
            + agg("r.id || ':' || length(coalesce(r.clean_html, '')) || ':' || r.source || ':' || coalesce(r.changed, '')", "r.id")
            + " FROM revisions r WHERE r.article_id = a.id), '')"
            " || '|' || coalesce((SELECT "
            + agg(
                "g.id || ':' || g.revision_id || ':' || g.source || ':' || g.first_seen || ':'"
                " || coalesce(CAST(g.status AS TEXT), '') || ':' || coalesce(CAST(g.raw_id AS TEXT), '')",
                "g.id",
            )
            + " FROM sightings g WHERE g.article_id = a.id), '')"
            " || '|' || coalesce((SELECT " + agg("e.id", "e.id") + " FROM state_changes e"
            " WHERE e.article_id = a.id), '')"
            " || '|' || coalesce((SELECT " + agg("i.sha256", "ri.revision_id, ri.place") + " FROM revisions r3"
            " JOIN revision_images ri ON ri.revision_id = r3.id JOIN images i ON i.id = ri.image_id"
            " WHERE r3.article_id = a.id AND i.status = 'archived'), ''),"
            " coalesce((SELECT max(r.seen) FROM revisions r WHERE r.article_id = a.id), a.first_seen)"
            " FROM articles a JOIN sites s ON s.id = a.site_id"
        )
        params: tuple[Any, ...] = ()
        if site is not None:
            query += " WHERE s.name = ?"
            params = (site,)
        return [(row[0], row[1], row[2]) for row in self._db.execute(query + " ORDER BY a.id", params)]

    @wrap_errors
    def revision_keys(self, site: str | None = None) -> list[tuple[int, int, int]]:
        query = (
            "SELECT r.id, r.article_id, length(coalesce(r.clean_html, '')) FROM revisions r"
        )
        params: tuple[Any, ...] = ()
        if site is not None:
            query += (
                " WHERE r.article_id IN (SELECT a.id FROM articles a JOIN sites s ON s.id = a.site_id"
                " WHERE s.name = ?)"
            )
            params = (site,)
        return [(row[0], row[1], row[2]) for row in self._db.execute(query + " ORDER BY r.id", params)]

    @wrap_errors
    def index_sources(self, article_ids: list[int], *, bodies: bool = True) -> dict[int, tuple[int, str, int, str]]:
        """What each article's index row should hold: (title revision, title, body
        revision, body text): the current revision's title, and the text of the newest
        extracted revision if there is one, else the current revision's ("" without
        ``bodies``: nothing to unpack when the caller has them)."""
        read = self._read_derived
        body = f"coalesce({read('x.text', 'x.content_html')}, {read('c.text', 'c.content_html')})" if bodies else "''"
        sql = (
            f"SELECT a.id, c.id, c.title, coalesce(x.id, c.id), {body}"
            " FROM articles a JOIN revisions c ON c.id = a.current_revision_id"
            " LEFT JOIN revisions x ON x.id = (SELECT max(id) FROM revisions"
            "   WHERE article_id = a.id AND source = 'extracted' AND text IS NOT NULL)"
            " WHERE a.id IN ({marks}) AND coalesce(x.text, c.text) IS NOT NULL"
        )
        return {row[0]: (row[1], row[2], row[3], row[4]) for row in self._rows_in(sql, article_ids)}

    @wrap_errors
    def index_missing(self) -> bool:
        """Whether the search index is empty while derived text exists (a new kind of index
        was made by a migration, to be built from the archive)."""
        row = self._db.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM search_rows)"
            " AND EXISTS (SELECT 1 FROM revisions WHERE text IS NOT NULL)"
        ).fetchone()
        return bool(row[0])

    @wrap_errors
    def indexed_sources(self, article_ids: list[int]) -> dict[int, tuple[int, str, int, str]]:
        """What each article's index row holds now (same shape as index_sources)."""
        sql = (
            f"SELECT i.article_id, t.id, t.title, b.id, {self._read_derived('b.text', 'b.content_html')} FROM search_rows i"
            " JOIN revisions t ON t.id = i.title_revision JOIN revisions b ON b.id = i.body_revision"
            " WHERE i.article_id IN ({marks})"
        )
        return {row[0]: (row[1], row[2], row[3], row[4] or "") for row in self._rows_in(sql, article_ids)}
