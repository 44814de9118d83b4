"""HTTP(S) retrieval with httpx, async: polite, bounded, with clear error kinds.

One :class:`HttpFetcher` serves a whole update: a global limit on requests in
flight and a per-host limit, connect/read/total timeouts, conditional GET,
redirects followed by hand (so that a chain of permanent redirects can move
the subscription), bodies decoded by :class:`~tidings.fetch.decode.BoundedDecoder`
and bounded in size. Every failure becomes a :class:`~tidings.errors.FetchError`
with a stable kind: ``timeout``, ``dns``, ``connect``, ``tls``, ``incomplete``,
``redirects``, ``too_large``, ``decoding``, ``url``, ``http_<status>``.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from datetime import datetime, timezone
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpx

from ..errors import FetchError
from ..version import __version__
from .base import MAX_BODY_BYTES, Limits, Response, cache_lifetime, retry_after_seconds
from .decode import ACCEPT_ENCODING, BoundedDecoder

__all__ = ["HttpFetcher", "Limits", "USER_AGENT"]

USER_AGENT = f"tidings/{__version__} (news archive; +https://pypi.org/project/tidings/)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9,"
    " application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT = {301, 308}


def _error_kind(exc: Exception) -> str:
    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        cause = exc.__cause__ or exc.__context__
        text = f"{exc} {cause}".lower()
        if isinstance(cause, ssl.SSLError) or "ssl" in text or "certificate" in text:
            return "tls"
        if any(s in text for s in ("name or service", "nodename", "getaddrinfo", "name resolution")):
            return "dns"
        return "connect"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return "incomplete"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "url"
    return "http"


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


class HttpFetcher:
    """Fetches URLs over HTTP(S); use as an async context manager."""

    def __init__(self, limits: Limits = Limits(), *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.limits = limits
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(
                limits.read_timeout, connect=limits.connect_timeout, pool=limits.total_timeout
            ),
            limits=httpx.Limits(
                max_connections=limits.concurrency, max_keepalive_connections=limits.concurrency
            ),
            headers={"User-Agent": limits.user_agent or USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING},
            follow_redirects=False,
            transport=transport,
        )
        self._all = asyncio.Semaphore(limits.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> HttpFetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def _host_limit(self, url: str) -> asyncio.Semaphore:
        host = (urlsplit(url).hostname or "").lower()
        semaphore = self._hosts.get(host)
        if semaphore is None:
            semaphore = self._hosts[host] = asyncio.Semaphore(self.limits.per_host)
        return semaphore

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Response:
        """GET a URL (conditionally when validators are given)."""
        async with self._all, self._host_limit(url):
            try:
                async with asyncio.timeout(self.limits.total_timeout):
                    return await self._fetch(url, etag, last_modified)
            except FetchError:
                raise
            except (httpx.HTTPError, TimeoutError, OSError) as exc:
                kind = _error_kind(exc)
                if kind == "timeout" and isinstance(exc, TimeoutError):
                    message = f"{url}: no complete answer within {self.limits.total_timeout:g} s"
                else:
                    message = f"{url}: {_describe(exc)}"
                raise FetchError(kind, message) from exc
            except Exception as exc:  # noqa: BLE001 - a server can provoke anything (bad IDNA, bad ports...)
                raise FetchError("url", f"{url}: {type(exc).__name__}: {exc}") from exc

    async def _fetch(self, url: str, etag: str | None, last_modified: str | None) -> Response:
        headers: dict[str, str] = {}
        if etag and _header_safe(etag):
            headers["If-None-Match"] = etag
        if last_modified and _header_safe(last_modified):
            headers["If-Modified-Since"] = last_modified
        current = url
        permanent = True
        for _hop in range(self.limits.max_redirects + 1):
            request = self._client.build_request("GET", current, headers=headers)
            response = await self._client.send(request, stream=True)
            try:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    permanent = permanent and response.status_code in _PERMANENT
                    current = urljoin(current, response.headers["location"])
                    continue
                return await self._finish(url, current, permanent, response, conditional=bool(headers))
            finally:
                await response.aclose()
        raise FetchError("redirects", f"{url}: more than {self.limits.max_redirects} redirects")

    @staticmethod
    async def _drain(response: httpx.Response, limit: int = 64 * 1024) -> None:
        """Read a small body we do not need, so the connection can be reused.

        Whatever goes wrong here is ignored: the status already says what matters.
        """
        received = 0
        try:
            async for chunk in response.aiter_raw():
                received += len(chunk)
                if received > limit:
                    break
        except (httpx.HTTPError, OSError):
            pass

    async def _finish(
        self, url: str, final: str, permanent: bool, response: httpx.Response, *, conditional: bool = False
    ) -> Response:
        now = datetime.now(timezone.utc)
        status = response.status_code
        headers = response.headers
        moved = final if permanent and final != url else None
        if status == 304 or status >= 400:
            # Read the (small or empty) body so the connection goes back to the pool.
            await self._drain(response)
        if status == 304 and not conditional:
            raise FetchError("http_304", f"{final}: HTTP 304 Not Modified to a request that was not conditional")
        if status == 304:
            return Response(
                url=final,
                status=304,
                not_modified=True,
                etag=_validator(headers, "etag"),
                last_modified=_validator(headers, "last-modified"),
                permanent_url=moved,
                fresh_for=cache_lifetime(headers.get("cache-control"), headers.get("expires"), now),
            )
        if status >= 400:
            retry = retry_after_seconds(headers.get("retry-after"), now) if status in (429, 503) else None
            reason = response.reason_phrase or "error"
            raise FetchError(
                f"http_{status}", f"{final}: HTTP {status} {reason}", status=status, retry_after=retry
            )
        if status >= 300:
            raise FetchError(f"http_{status}", f"{final}: HTTP {status} without a usable Location")
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.limits.max_bytes:
            raise FetchError("too_large", f"{final}: body of {declared} bytes, over {self.limits.max_bytes}")
        decoder = BoundedDecoder(headers.get("content-encoding"), self.limits.max_bytes, final)
        chunks: list[bytes] = []
        received = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received > self.limits.max_bytes:
                raise FetchError("too_large", f"{final}: body over {self.limits.max_bytes} bytes")
            chunks.append(decoder.feed(chunk))
        chunks.append(decoder.flush())
        return Response(
            url=final,
            content=b"".join(chunks),
            status=status,
            content_type=headers.get("content-type"),
            content_language=headers.get("content-language"),
            content_location=headers.get("content-location"),
            etag=_validator(headers, "etag"),
            last_modified=_validator(headers, "last-modified"),
            permanent_url=moved,
            fresh_for=cache_lifetime(headers.get("cache-control"), headers.get("expires"), now),
            received_bytes=received,
        )


def _header_safe(value: str | None) -> bool:
    """Whether a validator can be sent back as it is: printable ASCII, of sane length."""
    return bool(value) and len(value or "") <= 1024 and all(" " <= ch <= "~" for ch in value or "")


def _validator(headers: httpx.Headers, name: str) -> str | None:
    """An ETag or Last-Modified worth keeping (one that can be sent back), else None."""
    value = headers.get(name)
    return value if _header_safe(value) else None
