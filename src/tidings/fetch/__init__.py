"""Retrieving feeds and pages by URL scheme: ``http(s)://``, ``file://`` and local paths.

:class:`~tidings.fetch.retrieve.Fetcher` is what an update uses: ``await fetcher.fetch(url, etag=…,
last_modified=…)`` returns a :class:`Response` (possibly ``not_modified``) or
raises :class:`~tidings.errors.FetchError` with a stable ``kind``. Bodies are
bounded in size, compressed or not. :func:`~tidings.fetch.retrieve.fetch` does one retrieval
synchronously. This package is the only place that imports httpx.
Importing this package is cheap; httpx loads with :mod:`tidings.fetch.retrieve`
and :mod:`tidings.fetch.http`.
"""

from __future__ import annotations

from .base import MAX_BODY_BYTES, Limits, Response

__all__ = ["MAX_BODY_BYTES", "Limits", "Response"]
