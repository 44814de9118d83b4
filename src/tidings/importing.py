"""Importing archive documents: a repository in the original layout or any folder of files.

A repository has ``articles/<site>/<id>_<title>.md``; the site is the folder
name, except that a folder whose name carries a digest
(:func:`~tidings.document.site_folder_name`) takes the site name on the first
line of its ``lists/<folder>.md`` when that name gives this folder back. Any
other folder is read recursively: files in a subfolder belong to the site
named after the first subfolder, files at the top to the site named after the
folder itself (or the site the caller gives).

The folder (or file) the caller names is its own choice and is resolved once,
even if it is a link. Nothing under it is followed: a symbolic link is
reported as skipped and never read, only regular files are opened (without
following links, without blocking, checked with ``fstat``) and no more than
:data:`~tidings.document.MAX_DOCUMENT_BYTES` + 1 bytes are ever read from one,
whatever its size claims. No message quotes a file that is not a document.

Each file becomes (or joins) an article keyed by its link, with the file's
content as a revision and a record of the file name, id and exact framing so
that an export writes the same bytes back. Importing is idempotent: a file
already recorded with the same content changes nothing. Files are committed
in batches, so an interrupted import keeps every batch it finished and a
second run completes it.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .document import (
    MAX_DOCUMENT_BYTES,
    Document,
    parse_document,
    parse_file_id,
    read_bounded,
    site_folder_name,
)
from .errors import DocumentError
from .model import DocumentFile, FileProblem, ImportReport, NewRevision, Revision, RevisionSource
from .store import Store

__all__ = ["DOCUMENT_SUFFIXES", "article_key", "find_documents", "import_documents"]

#: File name endings read as documents outside the ``articles/`` layout.
DOCUMENT_SUFFIXES = (".md", ".txt")
BATCH_SIZE = 256

Progress = Callable[[int, int], None]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
_FILE_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
# How much of a list file is read for the site name on its first line.
_LIST_HEAD_BYTES = 64 * 1024
_LINK = "a symbolic link; links inside an import are never followed"


@dataclass(frozen=True, slots=True)
class _Source:
    """One entry to import: where it is shown, its site, and how to reach it.

    ``parts`` are the names from the folder being imported down to the file;
    empty when the caller named the file itself. ``skipped`` says why an
    entry is reported without being read.
    """

    path: Path
    site: str
    parts: tuple[str, ...] = ()
    skipped: str | None = None


def _not_regular(mode: int) -> str:
    what = (
        "a FIFO" if stat.S_ISFIFO(mode)
        else "a socket" if stat.S_ISSOCK(mode)
        else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a folder" if stat.S_ISDIR(mode)
        else "not a file"
    )
    return f"not a regular file ({what}); not read"


def _read_open(fd: int) -> bytes:
    """The bytes of an open file: a regular one, within the size limit; DocumentError otherwise."""
    status = os.fstat(fd)
    if not stat.S_ISREG(status.st_mode):
        raise DocumentError(_not_regular(status.st_mode))
    if status.st_size > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"file too large ({status.st_size} bytes, limit {MAX_DOCUMENT_BYTES})")
    data = read_bounded(fd, MAX_DOCUMENT_BYTES, status.st_size)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"file too large (more than {MAX_DOCUMENT_BYTES} bytes)")
    return data


def _entries(
    fd: int, here: Path, parts: tuple[str, ...], site: str, suffixes: tuple[str, ...]
) -> tuple[list[_Source], list[str]]:
    """The entries of one open folder to import (oldest first) and its subfolders.

    Hidden entries are passed over; a link is listed as skipped whatever its
    name, since it may stand for a folder; files not named like documents
    are passed over, and those that are not regular files are listed as skipped.
    """
    files: list[_Source] = []
    folders: list[str] = []
    with os.scandir(fd) as scan:
        for entry in scan:
            name = entry.name
            if name.startswith("."):
                continue
            if entry.is_symlink():
                files.append(_Source(here / name, site, parts + (name,), _LINK))
            elif entry.is_dir(follow_symlinks=False):
                folders.append(name)
            elif not name.endswith(suffixes):
                continue
            elif entry.is_file(follow_symlinks=False):
                files.append(_Source(here / name, site, parts + (name,)))
            else:
                try:
                    reason = _not_regular(entry.stat(follow_symlinks=False).st_mode)
                except OSError as exc:
                    reason = f"cannot read: {exc.strerror or exc}"
                files.append(_Source(here / name, site, parts + (name,), reason))
    files.sort(key=lambda source: _oldest_first(source.parts[-1]))
    return files, folders


class _Tree:
    """The folder being imported, opened once; all in it is reached without following links."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.fd = os.open(root, _FOLDER_FLAGS)  # the caller's own path: a link to it is followed
        self._folder: tuple[tuple[str, ...], int] | None = None

    def close(self) -> None:
        self._forget_folder()
        os.close(self.fd)

    def _forget_folder(self) -> None:
        if self._folder is not None:
            os.close(self._folder[1])
            self._folder = None

    def open_folder(self, parts: tuple[str, ...]) -> int:
        """A new descriptor of the folder at ``parts``, each step taken without following a link."""
        fd = os.dup(self.fd)
        try:
            for name in parts:
                child = os.open(name, _FOLDER_FLAGS | _NOFOLLOW, dir_fd=fd)
                os.close(fd)
                fd = child
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _folder_of(self, parts: tuple[str, ...]) -> int:
        # Files come folder by folder, so one open folder serves a run of them.
        if self._folder is None or self._folder[0] != parts:
            self._forget_folder()
            self._folder = (parts, self.open_folder(parts))
        return self._folder[1]

    def read(self, source: _Source) -> bytes:
        try:
            folder = self._folder_of(source.parts[:-1])
            fd = os.open(source.parts[-1], _FILE_FLAGS | _NOFOLLOW, dir_fd=folder)
        except OSError as exc:
            if exc.errno == errno.ELOOP or exc.errno == errno.EMLINK:
                raise DocumentError(_LINK) from exc
            raise DocumentError(f"cannot read: {exc.strerror or exc}") from exc
        try:
            return _read_open(fd)
        except OSError as exc:
            raise DocumentError(f"cannot read: {exc.strerror or exc}") from exc
        finally:
            os.close(fd)

    def listed_site(self, folder: str) -> str:
        """The site of ``articles/<folder>``: the name on the first line of its list when that
        name gives this folder back (a name with a digest, see ``site_folder_name``), else the
        folder's name."""
        if "~" not in folder:
            return folder
        try:
            lists = self.open_folder(("lists",))
            try:
                fd = os.open(f"{folder}.md", _FILE_FLAGS | _NOFOLLOW, dir_fd=lists)
            finally:
                os.close(lists)
            try:
                status = os.fstat(fd)
                regular = stat.S_ISREG(status.st_mode)
                head = read_bounded(fd, _LIST_HEAD_BYTES, status.st_size) if regular else b""
            finally:
                os.close(fd)
        except OSError:
            return folder
        line, newline, _ = head[:_LIST_HEAD_BYTES].partition(b"\n")
        try:
            name = line.decode("utf-8").removeprefix("\ufeff").removesuffix("\r")
        except UnicodeDecodeError:
            return folder
        return name if newline and site_folder_name(name) == folder else folder

    def find(self, site: str | None) -> list[_Source]:
        """The entries to import, in a stable order: folders depth first, each folder's files
        oldest first, then its subfolders by name."""
        try:
            articles = os.stat("articles", dir_fd=self.fd, follow_symlinks=False)
            repository = stat.S_ISDIR(articles.st_mode)
        except OSError:
            repository = False
        base: tuple[str, ...] = ("articles",) if repository else ()
        suffixes = (".md",) if repository else DOCUMENT_SUFFIXES
        default_site = site or self.root.resolve().name
        sites: dict[str, str] = {}
        sources: list[_Source] = []
        pending = [base]
        while pending:
            parts = pending.pop()
            here = self.root.joinpath(*parts)
            relative = parts[len(base) :]
            if site is not None:
                file_site = site
            elif not relative:
                file_site = default_site
            elif repository:
                if relative[0] not in sites:
                    sites[relative[0]] = self.listed_site(relative[0])
                file_site = sites[relative[0]]
            else:
                file_site = relative[0]
            try:
                fd = self.open_folder(parts)
                try:
                    files, folders = _entries(fd, here, parts, file_site, suffixes)
                finally:
                    os.close(fd)
            except OSError as exc:
                reason = _LINK if exc.errno in (errno.ELOOP, errno.EMLINK) else (
                    f"cannot read the folder: {exc.strerror or exc}"
                )
                sources.append(_Source(here, file_site, parts, reason))
                continue
            sources.extend(files)
            pending.extend(parts + (name,) for name in sorted(folders, reverse=True))
        return sources


def find_documents(root: Path, site: str | None = None) -> list[_Source]:
    """The document files under ``root`` with the site each belongs to, in a stable order.

    Entries that are not read (links, FIFOs, devices) are listed too, with
    the reason in ``skipped``.
    """
    sources, tree = _find(root, site)
    if tree is not None:
        tree.close()
    return sources


def _find(root: Path, site: str | None) -> tuple[list[_Source], _Tree | None]:
    """The entries under ``root`` and, for a folder, the open tree to read them from."""
    try:
        mode = os.stat(root).st_mode  # the caller's own path: a link to it is followed
    except OSError as exc:
        return [_Source(root, site or root.name, (), f"cannot read: {exc.strerror or exc}")], None
    if not stat.S_ISDIR(mode):
        skipped = None if stat.S_ISREG(mode) else _not_regular(mode)
        return [_Source(root, site or root.resolve().parent.name, (), skipped)], None
    try:
        tree = _Tree(root)
    except OSError as exc:
        return [_Source(root, site or root.name, (), f"cannot read: {exc.strerror or exc}")], None
    try:
        return tree.find(site), tree
    except BaseException:
        tree.close()
        raise


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


def _read(source: _Source, tree: _Tree | None) -> Document:
    if source.skipped is not None:
        raise DocumentError(source.skipped)
    if tree is None:
        # The file the caller named: a link to it is followed, a FIFO or device is not read.
        try:
            fd = os.open(source.path, _FILE_FLAGS)
        except OSError as exc:
            raise DocumentError(f"cannot read: {exc.strerror or exc}") from exc
        try:
            data = _read_open(fd)
        except OSError as exc:
            raise DocumentError(f"cannot read: {exc.strerror or exc}") from exc
        finally:
            os.close(fd)
    else:
        data = tree.read(source)
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
    sources, tree = _find(root, site)
    try:
        return _import(store, sources, tree, now, progress, batch_size)
    finally:
        if tree is not None:
            tree.close()


def _import(
    store: Store,
    sources: list[_Source],
    tree: _Tree | None,
    now: datetime,
    progress: Progress | None,
    batch_size: int,
) -> ImportReport:
    errors: list[FileProblem] = []
    new_articles = new_revisions = unchanged = 0
    done = 0
    for batch in _batches(sources, batch_size):
        parsed: list[tuple[_Source, Document]] = []
        for source in batch:
            try:
                parsed.append((source, _read(source, tree)))
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
