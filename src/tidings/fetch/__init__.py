"""Retrieving feeds and pages by URL scheme: ``http(s)://``, ``file://`` and local paths.

:class:`Fetcher` is what an update uses: ``await fetcher.fetch(url, etag=…,
last_modified=…)`` returns a :class:`Response` (possibly ``not_modified``) or
raises :class:`~tidings.errors.FetchError` with a stable ``kind``. Bodies are
bounded in size, compressed or not. :func:`fetch` does one retrieval
synchronously. This package is the only place that imports httpx.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

import httpx

from .base import MAX_BODY_BYTES, Response
from .file import fetch_file, is_local
from .http import USER_AGENT, HttpFetcher, Limits

__all__ = ["MAX_BODY_BYTES", "Fetcher", "Limits", "Response", "USER_AGENT", "fetch"]


class Fetcher:
    """Retrieves any supported source; use as an async context manager."""

    def __init__(self, limits: Limits = Limits(), *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.limits = limits
        self._http = HttpFetcher(limits, transport=transport)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    async def fetch(
        self, source: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Response:
        if is_local(source):
            return await asyncio.to_thread(
                fetch_file, source, max_bytes=self.limits.max_bytes, etag=etag
            )
        return await self._http.fetch(source, etag=etag, last_modified=last_modified)


def fetch(source: str, *, timeout: float = 30.0, max_bytes: int = MAX_BODY_BYTES) -> Response:
    """Retrieve one URL or local path, synchronously."""
    limits = Limits(read_timeout=timeout, total_timeout=max(timeout * 4, timeout), max_bytes=max_bytes)

    async def run() -> Response:
        async with Fetcher(limits) as fetcher:
            return await fetcher.fetch(source)

    return asyncio.run(run())
