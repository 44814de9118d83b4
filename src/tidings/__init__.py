"""tidings: a news archive that keeps every article and every version of it.

The public API is what this module exports; everything else is internal.
"""

from __future__ import annotations

from .archive import Archive, default_database_path, open_archive
from .errors import (
    ArchiveClosedError,
    ArticleNotFoundError,
    DocumentError,
    ExportTargetError,
    InvalidInputError,
    NotFoundError,
    SchemaVersionError,
    StorageError,
    TidingsError,
)
from .model import (
    Article,
    ArticleState,
    ExportReport,
    FileProblem,
    ImportReport,
    Revision,
    RevisionSource,
    Stats,
)

__version__ = "0.1.0"

__all__ = [
    "Archive",
    "ArchiveClosedError",
    "Article",
    "ArticleNotFoundError",
    "ArticleState",
    "DocumentError",
    "ExportReport",
    "ExportTargetError",
    "FileProblem",
    "ImportReport",
    "InvalidInputError",
    "NotFoundError",
    "Revision",
    "RevisionSource",
    "SchemaVersionError",
    "Stats",
    "StorageError",
    "TidingsError",
    "__version__",
    "default_database_path",
    "open_archive",
]
