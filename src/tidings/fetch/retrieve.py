"""The retriever an update uses: one object for every URL scheme, and one-shot :func:`fetch`."""

from __future__ import annotations

import asyncio
from types import TracebackType

import httpx

from ..errors import FetchError
from .base import MAX_BODY_BYTES, Limits, Response
from .file import fetch_file, is_local
from .http import HttpFetcher

__all__ = ["Fetcher", "fetch"]


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
        self,
        source: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        linked_from: str | None = None,
        keep: bool = False,
    ) -> Response:
        """Retrieve a feed, or with ``linked_from`` (the URL of the feed that links to it) a
        page for a follow-up fetch, which must be on the web, on that feed's host or public.
        ``keep``: the HTTP exchanges go to the limits' recorder (local files are not kept)."""
        if is_local(source):
            if linked_from is not None:
                raise FetchError("url", f"{source}: a page a feed links to must be an http(s) URL")
            return await asyncio.to_thread(
                fetch_file, source, max_bytes=self.limits.max_bytes, etag=etag
            )
        return await self._http.fetch(
            source, etag=etag, last_modified=last_modified, linked_from=linked_from, keep=keep
        )


def fetch(source: str, *, timeout: float = 30.0, max_bytes: int = MAX_BODY_BYTES) -> Response:
    """Retrieve one URL or local path, synchronously."""
    limits = Limits(read_timeout=timeout, total_timeout=max(timeout * 4, timeout), max_bytes=max_bytes)

    async def run() -> Response:
        async with Fetcher(limits) as fetcher:
            return await fetcher.fetch(source)

    return asyncio.run(run())
