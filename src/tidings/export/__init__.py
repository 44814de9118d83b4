"""Output formats of the archive, one module each.

Each exporter reads through the :class:`~tidings.store.Store` protocol and
writes one format; :class:`~tidings.archive.Archive` is what calls them.
"""

from __future__ import annotations

from .documents import export_documents
from .jsonl import export_jsonl
from .warc import export_warc

__all__ = ["export_documents", "export_jsonl", "export_warc"]
