"""Files of the original document layout, and per-site counts and languages."""

from __future__ import annotations

from typing import Any

from ..model import (
    DocumentFile,
)
from .common import Queries, document_file_row, wrap_errors

__all__ = ["DocumentQueries"]


class DocumentQueries(Queries):
    """Files of the original document layout, and per-site counts and languages (mixed into each store)."""

    @wrap_errors
    def document_file(self, site_id: int, file_name: str) -> DocumentFile | None:
        row = self._db.execute(
            "SELECT s.name, d.file_name, d.file_id, d.article_id, d.revision_id, d.head, d.tail,"
            " d.bom FROM document_files d JOIN sites s ON s.id = d.site_id"
            " WHERE d.site_id = ? AND d.file_name = ?",
            (site_id, file_name),
        ).fetchone()
        return document_file_row(row) if row else None

    @wrap_errors
    def put_document_file(self, record: DocumentFile) -> None:
        site_id = self.site(record.site).id
        self._db.execute(
            "INSERT INTO document_files(site_id, file_name, file_id, article_id,"
            " revision_id, head, tail, bom) VALUES (?,?,?,?,?,?,?,?)"
            " ON CONFLICT (site_id, file_name) DO UPDATE SET file_id = excluded.file_id,"
            " article_id = excluded.article_id, revision_id = excluded.revision_id,"
            " head = excluded.head, tail = excluded.tail, bom = excluded.bom",
            (
                site_id,
                record.file_name,
                record.file_id,
                record.article_id,
                record.revision_id,
                record.head,
                record.tail,
                int(record.bom),
            ),
        )

    @wrap_errors
    def document_files(self, site: str | None = None) -> list[DocumentFile]:
        query = (
            "SELECT s.name, d.file_name, d.file_id, d.article_id, d.revision_id, d.head, d.tail,"
            " d.bom FROM document_files d JOIN sites s ON s.id = d.site_id"
        )
        params: tuple[Any, ...] = ()
        if site is not None:
            query += " WHERE s.name = ?"
            params = (site,)
        rows = self._db.execute(query + " ORDER BY s.name, d.file_name", params).fetchall()
        return [document_file_row(row) for row in rows]

    @wrap_errors
    def article_document_files(self, article_id: int) -> list[DocumentFile]:
        rows = self._db.execute(
            "SELECT s.name, d.file_name, d.file_id, d.article_id, d.revision_id, d.head, d.tail,"
            " d.bom FROM document_files d JOIN sites s ON s.id = d.site_id"
            " WHERE d.article_id = ? ORDER BY s.name, d.file_name",
            (article_id,),
        ).fetchall()
        return [document_file_row(row) for row in rows]

    @wrap_errors
    def site_article_counts(self) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT s.name, (SELECT count(*) FROM articles a WHERE a.site_id = s.id)"
            " FROM sites s ORDER BY s.name"
        ).fetchall()
        return {name: count for name, count in rows}

    @wrap_errors
    def site_language(self, site: str, sample: int = 200) -> str | None:
        """The most common language (lower-cased) of the current revisions of the
        site's ``sample`` newest articles; None when none of them states one."""
        row = self._db.execute(
            "SELECT lower(trim(r.language)) AS lang FROM ("
            "  SELECT a.current_revision_id AS rid FROM articles a"
            "  WHERE a.site_id = (SELECT id FROM sites WHERE name = ?)"
            "  ORDER BY coalesce(a.published, a.first_seen) DESC, a.id DESC LIMIT ?"
            ") newest JOIN revisions r ON r.id = newest.rid"
            " WHERE trim(coalesce(r.language, '')) != ''"
            " GROUP BY lang ORDER BY count(*) DESC, lang LIMIT 1",
            (site, sample),
        ).fetchone()
        return str(row[0]) if row else None
