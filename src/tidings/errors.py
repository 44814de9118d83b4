"""The whole exception tree of tidings.

Every error tidings raises on purpose derives from :class:`TidingsError`;
errors about bad input also derive from :class:`ValueError`, so callers that
only care about "the input was wrong" can catch that::

    TidingsError
    ├── StorageError                  the database failed (wraps sqlite3 errors, cause chained)
    │   └── SchemaVersionError        the database was written by a newer tidings
    ├── ArchiveClosedError            the Archive was used after close()
    ├── FetchError                    a feed or page could not be retrieved (with a stable kind)
    ├── NotFoundError (LookupError)
    │   ├── ArticleNotFoundError
    │   └── FeedNotFoundError
    └── InvalidInputError (ValueError)
        ├── DocumentError             a file is not an archive document (path and reason)
        ├── ExportTargetError         an export destination cannot be used
        ├── FeedExistsError           a subscription to that URL exists already
        ├── InvalidRuleError          a keep/block rule that is not a regular expression
        └── FeedParseError            bytes that cannot be read as a feed
            ├── NotAFeedError         well-formed, but not a feed (an HTML page, other XML, JSON)
            └── FeedTooLargeError     compressed input that unpacks beyond the size bound

Foreign exceptions (sqlite3, OSError) are wrapped at one boundary each: the
store wraps sqlite3 errors, the importer turns per-file OSErrors into
DocumentErrors in its report.
"""

from __future__ import annotations


class TidingsError(Exception):
    """Base class of every error tidings raises on purpose."""


class StorageError(TidingsError):
    """The store could not complete an operation."""


class SchemaVersionError(StorageError):
    """The database schema is newer than this version of tidings understands."""


class ArchiveClosedError(TidingsError):
    """The archive was used after it was closed."""


class NotFoundError(TidingsError, LookupError):
    """Something asked for by identifier does not exist."""


class ArticleNotFoundError(NotFoundError):
    """No article has the given identifier."""


class FeedNotFoundError(NotFoundError):
    """No feed has the given identifier or URL."""


class InvalidInputError(TidingsError, ValueError):
    """Input given to tidings is malformed."""


class DocumentError(InvalidInputError):
    """A file is not a readable archive document.

    ``path`` is the file (when known) and ``reason`` a one-line explanation.
    """

    def __init__(self, reason: str, path: str | None = None) -> None:
        self.reason = reason
        self.path = path
        super().__init__(f"{path}: {reason}" if path else reason)


class ExportTargetError(InvalidInputError):
    """An export destination cannot be written to as asked."""


class FeedParseError(InvalidInputError):
    """Bytes that cannot be read as a feed at all; the message says what was received."""


class NotAFeedError(FeedParseError):
    """The input is readable but is not a feed (for example an HTML page)."""


class FeedTooLargeError(FeedParseError):
    """Compressed input that would unpack beyond the size bound."""


class FetchError(TidingsError):
    """A feed or page could not be retrieved.

    ``kind`` is a stable name for what went wrong (``timeout``, ``dns``,
    ``connect``, ``tls``, ``http_404``, ``too_large``, ``not_found``, ...),
    for the fetch log and for people.
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.kind = kind
        self.status = status
        #: Seconds the server asked us to wait (Retry-After on 429/503), if it said.
        self.retry_after = retry_after
        super().__init__(message)


class FeedExistsError(InvalidInputError):
    """A feed with this URL is already subscribed."""


class InvalidRuleError(InvalidInputError):
    """A keep/block rule is not a valid regular expression."""
