"""Importing archive documents: a repository in the original layout or any folder of files.

A repository has ``articles/<site>/<id>_<title>.md``; the site is the folder
name. Any other folder is read recursively: files in a subfolder belong to
the site named after the first subfolder, files at the top to the site named
after the folder itself (or the site the caller gives).

Each file becomes (or joins) an article keyed by its link, with the file's
content as a revision and a record of the file name, id and exact framing so
that an export writes the same bytes back. Importing is idempotent: a file
already recorded with the same content changes nothing. Files are committed
in batches, so an interrupted import keeps every batch it finished and a
second run completes it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .document import MAX_DOCUMENT_BYTES, Document, parse_document, parse_file_id
from .errors import DocumentError
from .model import DocumentFile, FileProblem, ImportReport, NewRevision, Revision, RevisionSource
from .store import Store

__all__ = ["DOCUMENT_SUFFIXES", "article_key", "find_documents", "import_documents"]

#: File name endings read as documents outside the ``articles/`` layout.
DOCUMENT_SUFFIXES = (".md", ".txt")
BATCH_SIZE = 256

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class _Source:
    path: Path
    site: str


def find_documents(root: Path, site: str | None = None) -> list[_Source]:
    """The document files under ``root`` with the site each belongs to, in a stable order."""
    if root.is_file():
        return [_Source(root, site or root.resolve().parent.name)]
    base = root / "articles"
    repository = base.is_dir()
    if not repository:
        base = root
    default_site = site or root.resolve().name
    sources: list[_Source] = []
    for directory, subdirs, files in os.walk(base):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        here = Path(directory)
        rel_parts = here.relative_to(base).parts
        file_site = site or (rel_parts[0] if rel_parts else default_site)
        for name in sorted(files, key=_oldest_first):
            if name.startswith("."):
                continue
            if repository and not name.endswith(".md"):
                continue
            if not repository and not name.endswith(DOCUMENT_SUFFIXES):
                continue
            sources.append(_Source(here / name, file_site))
    return sources


def _oldest_first(name: str) -> tuple[int, int, str]:
    """Order of import within a folder: ids count down, so the highest id is the oldest.

    Importing the oldest file first makes the newest the current revision when
    one article was written to several files.
    """
    file_id = parse_file_id(name)
    return (0, -file_id, name) if file_id is not None else (1, 0, name)


def article_key(doc: Document) -> str:
    """The identity of an imported article within its site: its link, else title and time."""
    if "://" in doc.url:
        return doc.url
    digest = hashlib.sha256(f"{doc.title}\x00{doc.ts}".encode("utf-8", "surrogatepass"))
    return "doc:" + digest.hexdigest()[:32]


def _read(path: Path) -> Document:
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise DocumentError(f"file too large ({size} bytes, limit {MAX_DOCUMENT_BYTES})")
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read: {exc.strerror or exc}") from exc
    return parse_document(data)


def _batches(items: list[_Source], size: int) -> Iterator[list[_Source]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def import_makes_current(revisions: Sequence[Revision], content_hash: str) -> bool:
    """Whether an imported document's content becomes its article's current revision.

    Seeing a content again through an import is not an edit: a file imported again
    (or an older copy of it) never brings back an older content. New content from a
    file becomes current only while the article's own feed or page has shown none:
    what the outlet itself shows is the newest word.
    """
    if any(r.content_hash == content_hash for r in revisions):
        return False
    return not any(r.source is not RevisionSource.IMPORT for r in revisions)


def import_documents(
    store: Store,
    root: Path,
    *,
    now: datetime,
    site: str | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Import every document under ``root``; unreadable files are reported, not fatal."""
    sources = find_documents(root, site)
    errors: list[FileProblem] = []
    new_articles = new_revisions = unchanged = 0
    done = 0
    for batch in _batches(sources, batch_size):
        parsed: list[tuple[_Source, Document]] = []
        for source in batch:
            try:
                parsed.append((source, _read(source.path)))
            except DocumentError as exc:
                errors.append(FileProblem(str(source.path), exc.reason))
        with store.transaction():
            for source, doc in parsed:
                site_id = store.site(source.site).id
                key = article_key(doc)
                article = store.find_article(site_id, key)
                incoming = NewRevision(
                    seen=now, title=doc.title, content_html=doc.html, source=RevisionSource.IMPORT
                )
                if article is None:
                    article = store.add_article(site_id, key, doc.url, now, doc.published)
                    new_articles += 1
                    current = True
                else:
                    current = import_makes_current(store.revisions(article.id), incoming.content_hash)
                revision, created = store.add_revision(article.id, incoming, current=current)
                new_revisions += created
                name = source.path.name
                record = DocumentFile(
                    site=source.site,
                    file_name=name,
                    file_id=parse_file_id(name),
                    article_id=article.id,
                    revision_id=revision.id,
                    head=doc.head,
                    tail=doc.tail,
                    bom=doc.bom,
                )
                if store.document_file(site_id, name) == record:
                    unchanged += 1
                else:
                    store.put_document_file(record)
        done += len(batch)
        if progress is not None:
            progress(done, len(sources))
    return ImportReport(
        files=len(sources),
        new_articles=new_articles,
        new_revisions=new_revisions,
        unchanged=unchanged,
        errors=tuple(errors),
    )
