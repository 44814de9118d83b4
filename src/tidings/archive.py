"""The Archive: the library's entry point and the one place concrete parts are wired.

>>> with open_archive("news.sqlite3") as archive:          # doctest: +SKIP
...     report = archive.import_documents("old-repo/")
...     archive.export_documents("mirror/")

The CLI and the web app use nothing but this API.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TextIO
from urllib.parse import urljoin

import platformdirs

from .errors import ArchiveClosedError, InvalidInputError
from .export import export_documents, export_jsonl
from .fetch import fetch
from .importing import import_documents
from .model import Article, ExportReport, ImportReport, ParsedFeed, Revision, Stats, utc_now
from .parse import parse_feed
from .store import Store
from .store.sqlite import SQLiteStore

__all__ = ["Archive", "default_database_path", "open_archive", "read_feed"]

DATABASE_ENV = "TIDINGS_DB"


def default_database_path() -> Path:
    """Where the database lives when none is named: ``$TIDINGS_DB`` or the user's data folder."""
    named = os.environ.get(DATABASE_ENV)
    if named:
        return Path(named)
    return Path(platformdirs.user_data_dir("tidings", appauthor=False)) / "tidings.sqlite3"


class Archive:
    """A news archive: sites, articles and every revision of them."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._store: Store | None = store
        self._clock = clock

    @property
    def store(self) -> Store:
        if self._store is None:
            raise ArchiveClosedError("the archive is closed")
        return self._store

    def close(self) -> None:
        """Close the database; further calls raise ArchiveClosedError."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # reading

    def stats(self) -> Stats:
        """Counts of sites, feeds, articles and revisions, and the database size."""
        return self.store.stats()

    def sites(self) -> list[str]:
        """Names of every site, sorted."""
        return [site.name for site in self.store.sites()]

    def articles(self, site: str | None = None) -> Iterator[Article]:
        """Articles (of one site, or all) in the order they were archived."""
        return self.store.iter_articles(site)

    def get_article(self, article_id: int) -> Article:
        """One article; ArticleNotFoundError if there is none with this id."""
        return self.store.get_article(article_id)

    def revisions(self, article_id: int) -> list[Revision]:
        """Every revision of an article, oldest first."""
        self.store.get_article(article_id)
        return self.store.revisions(article_id)

    # importing and exporting

    def import_documents(
        self,
        path: str | os.PathLike[str],
        *,
        site: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportReport:
        """Import a repository of the original layout, a folder of documents, or one file.

        Files that cannot be read are listed in the report's ``errors``; the
        rest are imported. Running it again adds nothing.
        """
        root = Path(path)
        if not root.exists():
            raise InvalidInputError(f"{root}: no such file or folder")
        return import_documents(self.store, root, now=self._clock(), site=site, progress=progress)

    def export_documents(
        self, out: str | os.PathLike[str], *, site: str | None = None
    ) -> ExportReport:
        """Write (or continue) a repository of the original layout in folder ``out``."""
        return export_documents(self.store, Path(out), site=site)

    def export_jsonl(self, out: TextIO, *, site: str | None = None) -> int:
        """Write one JSON object per article to a text stream; returns how many."""
        return export_jsonl(self.store, out, site=site)


def open_archive(
    path: str | os.PathLike[str] | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> Archive:
    """Open (creating and migrating as needed) the archive in a SQLite file.

    ``path`` defaults to :func:`default_database_path`.
    """
    return Archive(SQLiteStore(path if path is not None else default_database_path()), clock=clock)


def read_feed(source: str, *, timeout: float = 30.0) -> ParsedFeed:
    """Retrieve a feed (URL, ``file://`` URL or local path) and parse it.

    Raises :class:`~tidings.errors.FetchError` when it cannot be retrieved and
    :class:`~tidings.errors.FeedParseError` when it is not a feed.
    """
    response = fetch(source, timeout=timeout)
    base = response.url
    if response.content_location:
        base = urljoin(base, response.content_location)
    return parse_feed(
        response.content,
        content_type=response.content_type,
        url=base,
        content_language=response.content_language,
    )
