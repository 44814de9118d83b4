"""tidings: a news archive that keeps every article and every version of it.

The public API is what this module exports; everything else is internal.
"""

from __future__ import annotations

from .archive import Archive, default_database_path, open_archive, read_feed
from .errors import (
    ArchiveClosedError,
    ArticleNotFoundError,
    DocumentError,
    ExportTargetError,
    InvalidInputError,
    NotFoundError,
    SchemaVersionError,
    FeedParseError,
    FetchError,
    NotAFeedError,
    StorageError,
    TidingsError,
)
from .model import (
    Article,
    ArticleState,
    Enclosure,
    ExportReport,
    FileProblem,
    ImportReport,
    ParsedEntry,
    ParsedFeed,
    Revision,
    RevisionSource,
    Stats,
)
from .parse import parse_feed
from .version import __version__


__all__ = [
    "Archive",
    "ArchiveClosedError",
    "Article",
    "ArticleNotFoundError",
    "ArticleState",
    "DocumentError",
    "Enclosure",
    "ExportReport",
    "ExportTargetError",
    "FeedParseError",
    "FetchError",
    "FileProblem",
    "ImportReport",
    "InvalidInputError",
    "NotAFeedError",
    "NotFoundError",
    "ParsedEntry",
    "ParsedFeed",
    "Revision",
    "RevisionSource",
    "SchemaVersionError",
    "Stats",
    "StorageError",
    "TidingsError",
    "__version__",
    "default_database_path",
    "open_archive",
    "parse_feed",
    "read_feed",
]
