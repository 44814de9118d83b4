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
    FeedExistsError,
    FeedNotFoundError,
    FeedParseError,
    FeedTooLargeError,
    FetchError,
    InvalidRuleError,
    NotAFeedError,
    StorageError,
    TidingsError,
)
from .model import (
    Article,
    ArticleState,
    Enclosure,
    ExportReport,
    Feed,
    FeedOptions,
    FeedState,
    FileProblem,
    ImportReport,
    ParsedEntry,
    ParsedFeed,
    Revision,
    RevisionSource,
    Stats,
)
from .parse import parse_feed
from .update import FeedOutcome, UpdateSummary
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
    "FeedOutcome",
    "Feed",
    "FeedExistsError",
    "FeedNotFoundError",
    "FeedOptions",
    "FeedParseError",
    "FeedState",
    "FeedTooLargeError",
    "FetchError",
    "FileProblem",
    "ImportReport",
    "InvalidInputError",
    "InvalidRuleError",
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
    "UpdateSummary",
    "__version__",
    "default_database_path",
    "open_archive",
    "parse_feed",
    "read_feed",
]
