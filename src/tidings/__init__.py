"""tidings: a news archive that keeps every article and every version of it.

The public API is what this module exports; everything else is internal.
The archive and the parser load on first use (``tidings.open_archive``,
``tidings.parse_feed``), so that importing tidings, or any of its light
modules, stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
    FeedOutcome,
    FeedState,
    FileProblem,
    ImportReport,
    ParsedEntry,
    ParsedFeed,
    Revision,
    RevisionSource,
    Stats,
    UpdateSummary,
)
from .version import __version__

if TYPE_CHECKING:
    from .archive import Archive, default_database_path, open_archive, read_feed
    from .parse import parse_feed

#: Public names that load their module on first use, and where they live.
_LAZY = {
    "Archive": "archive",
    "default_database_path": "archive",
    "open_archive": "archive",
    "read_feed": "archive",
    "parse_feed": "parse",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tidings' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


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
