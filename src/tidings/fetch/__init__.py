"""Retrieving feeds and pages by URL scheme: ``http(s)://``, ``file://`` and local paths.

:func:`fetch` returns a :class:`Response` (the bytes, the final URL and the
headers that matter to parsing) or raises :class:`~tidings.errors.FetchError`
with a stable ``kind``. Bodies are bounded in size, compressed or not.
This package is the only place that imports httpx.
"""

from __future__ import annotations

from .base import MAX_BODY_BYTES, Response
from .file import fetch_file, is_local
from .http import USER_AGENT, fetch_http

__all__ = ["MAX_BODY_BYTES", "Response", "USER_AGENT", "fetch"]


def fetch(source: str, *, timeout: float = 30.0, max_bytes: int = MAX_BODY_BYTES) -> Response:
    """Retrieve a URL or a local path."""
    if is_local(source):
        return fetch_file(source, max_bytes=max_bytes)
    return fetch_http(source, timeout=timeout, max_bytes=max_bytes)
