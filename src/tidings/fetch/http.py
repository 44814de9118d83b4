"""HTTP(S) retrieval with httpx, async: polite, bounded, with clear error kinds.

One :class:`HttpFetcher` serves a whole update: a global limit on requests in
flight and a per-host limit, connect/read/total timeouts, conditional GET,
redirects followed by hand (so that a chain of permanent redirects can move
the subscription), bodies decoded by :class:`~tidings.fetch.decode.BoundedDecoder`
and bounded in size. Every failure becomes a :class:`~tidings.errors.FetchError`
with a stable kind: ``timeout``, ``dns``, ``connect``, ``tls``, ``incomplete``,
``redirects``, ``too_large``, ``decoding``, ``url``, ``http_<status>``,
``redirect_private``, ``private_address``. Messages say what happened (status,
size, addresses), never what a server sent in a body or a malformed header.

Every hop of every fetch is resolved by tidings itself (once per host and
fetcher, that is per update pass), judged by the policy in
:class:`~tidings.fetch.Limits` (:mod:`tidings.fetch.addresses`), and the
connection goes to an address that was judged: the URL is rewritten to that
address while the Host header and TLS (SNI and the certificate check) still name
the host, so a name that resolves differently a moment later (DNS rebinding)
gains nothing. The rules:

* a feed URL a person subscribed to may be anywhere (an intranet or loopback
  feed is legitimate), but once a hop was on the public internet, a redirect to
  an address that is not public is refused (``redirect_private``), unless it
  leads back to the subscribed URL's own host;
* a follow-up fetch (``linked_from``: a page a feed links to) may go only to the
  feed's own host or to hosts whose addresses are all public, on every hop
  (``private_address`` for the first, ``redirect_private`` for a redirect).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http
import logging
from collections.abc import AsyncIterator
import ssl
from dataclasses import dataclass
from datetime import datetime, timezone
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from ..errors import FetchError
from ..version import __version__
from .addresses import Address, literal_address, resolve
from . import netio
from .base import Exchange, Limits, Response, cache_lifetime, retry_after_seconds
from .decode import ACCEPT_ENCODING, BoundedDecoder
from .slots import LeftAlone, SharedSlots

__all__ = ["HttpFetcher", "Limits", "USER_AGENT"]

log = logging.getLogger(__name__)

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
    """What went wrong, in words that never quote what the server sent (the HTTP parser's
    messages about a malformed status line or header carry the server's bytes)."""
    if isinstance(exc, httpx.ProtocolError):
        return f"the server broke off or broke the HTTP protocol ({type(exc).__name__})"
    if isinstance(exc, httpx.DecodingError):
        return f"the body could not be decoded ({type(exc).__name__})"
    text = str(exc).strip()
    return text or type(exc).__name__


def _reason(status: int) -> str:
    """The standard reason phrase of a status (the server's own is not repeated)."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "error"


@dataclass(frozen=True, slots=True)
class _Target:
    """One hop's URL as httpx reads it (so that what is checked is what is connected to)."""

    url: httpx.URL
    host: str
    port: int


@functools.cache
def _tls() -> ssl.SSLContext:
    """The TLS settings every fetcher uses (httpx's defaults: certifi's authorities),
    made once: loading the authorities costs ~20 ms a client."""
    return httpx.create_ssl_context()


def _host_of(url: str) -> str | None:
    """The host of a URL as httpx reads it (lower case, IDNA-encoded); None if there is none."""
    try:
        host = httpx.URL(url).raw_host.decode("ascii").lower()
    except Exception:  # noqa: BLE001 - any URL httpx cannot read has no host to compare
        return None
    return host or None


class HttpFetcher:
    """Fetches URLs over HTTP(S); use as an async context manager."""

    def __init__(self, limits: Limits = Limits(), *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.limits = limits
        pool = httpx.Limits(max_connections=limits.concurrency, max_keepalive_connections=limits.concurrency)
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(
                limits.read_timeout, connect=limits.connect_timeout, pool=limits.total_timeout
            ),
            limits=pool,
            headers={"User-Agent": limits.user_agent or USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING},
            follow_redirects=False,
            transport=transport if transport is not None else netio.transport(_tls(), pool),
            verify=_tls(),
        )
        self._all = asyncio.Semaphore(limits.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        # One lookup per host name and fetcher (one update pass), shared by concurrent fetches.
        self._lookups: dict[str, asyncio.Future[list[Address]]] = {}
        self._slots = SharedSlots(limits.gate, limits.per_host) if limits.gate is not None else None

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
        if self._slots is not None:
            self._slots.close()
        await self._client.aclose()

    @contextlib.asynccontextmanager
    async def _shared_slot(self, url: str) -> AsyncIterator[None]:
        """With a gate (several workers): hold one of the host's slots shared by all of
        them (see :mod:`tidings.fetch.slots`), and refuse a host that asked every worker to
        wait; a 429 or 503 with Retry-After makes all of them wait."""
        host = (urlsplit(url).hostname or "").lower()
        if self._slots is None or not host:
            yield
            return
        try:
            kept = await self._slots.take(host)
        except LeftAlone as exc:
            raise _left_alone(url, host, exc.seconds) from None
        retry_after = None
        try:
            yield
        except FetchError as exc:
            if exc.kind in ("http_429", "http_503") and exc.retry_after:
                retry_after = exc.retry_after
            raise
        finally:
            self._slots.give_back(host, kept, retry_after=retry_after)

    def _host_limit(self, url: str) -> asyncio.Semaphore:
        host = (urlsplit(url).hostname or "").lower()
        semaphore = self._hosts.get(host)
        if semaphore is None:
            semaphore = self._hosts[host] = asyncio.Semaphore(self.limits.per_host)
        return semaphore

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        linked_from: str | None = None,
        keep: bool = False,
    ) -> Response:
        """GET a URL (conditionally when validators are given).

        ``linked_from`` makes it a follow-up fetch: ``url`` is a page the feed at
        ``linked_from`` links to, and may be fetched only from that feed's host or
        from public addresses (see the module docstring). With ``keep`` every hop's
        exchange goes to the limits' recorder."""
        recorder = self.limits.recorder if keep else None
        async with self._all, self._host_limit(url):
            try:
                async with asyncio.timeout(self.limits.total_timeout), self._shared_slot(url):
                    return await self._fetch(url, etag, last_modified, linked_from, recorder is not None)
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

    async def _fetch(
        self, url: str, etag: str | None, last_modified: str | None, linked_from: str | None, keep: bool
    ) -> Response:
        headers: dict[str, str] = {}
        if etag and _header_safe(etag):
            headers["If-None-Match"] = etag
        if last_modified and _header_safe(last_modified):
            headers["If-Modified-Since"] = last_modified
        # The host that may be reached whatever its addresses: the feed's, for a follow-up;
        # for a feed, the host of the URL subscribed to.
        own_host = _host_of(linked_from if linked_from is not None else url)
        current = url
        permanent = True
        been_public = False
        for hop in range(self.limits.max_redirects + 1):
            target = self._target(current)
            addresses = await self._lookup(current, target)
            public = all(self.limits.is_public(address) for address in addresses)
            if target.host != own_host and not public:
                if linked_from is not None:
                    kind = "redirect_private" if hop else "private_address"
                    raise FetchError(
                        kind,
                        f"{current}: not fetched, {target.host} is a private or local address"
                        f" (pages a feed links to come only from its own host or the public internet)",
                    )
                if been_public:
                    raise FetchError(
                        "redirect_private",
                        f"{url}: redirected from a public address to {target.host}, a private or"
                        f" local one; not followed",
                    )
            been_public = been_public or public
            started = datetime.now(timezone.utc)
            response = await self._send(target, addresses, headers)
            try:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    if keep:
                        self._keep(target, started, response, *await self._drain(response))
                    permanent = permanent and response.status_code in _PERMANENT
                    current = urljoin(current, response.headers["location"])
                    continue
                return await self._finish(
                    url,
                    current,
                    permanent,
                    response,
                    conditional=bool(headers),
                    kept=(target, started) if keep else None,
                )
            finally:
                await response.aclose()
        raise FetchError("redirects", f"{url}: more than {self.limits.max_redirects} redirects")

    def _target(self, url: str) -> _Target:
        """The hop's URL, validated as httpx would send it; FetchError ``url`` if it cannot be."""
        parsed = httpx.URL(url)  # what the client sends (it has no base URL to merge)
        host = parsed.raw_host.decode("ascii").lower()
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        if parsed.scheme not in ("http", "https") or not host:
            raise FetchError("url", f"{url}: not an http(s) URL with a host")
        if not 0 < port < 65536:
            raise FetchError("url", f"{url}: port {port} is out of range")
        return _Target(parsed, host, port)

    async def _lookup(self, url: str, target: _Target) -> list[Address]:
        """The host's addresses, looked up once per fetcher; FetchError ``dns`` if it has none."""
        literal = literal_address(target.host)
        if literal is not None:
            return [literal]
        lookup = self._lookups.get(target.host)
        if lookup is None:
            lookup = self._lookups[target.host] = asyncio.ensure_future(
                resolve(target.host, target.port, self.limits.connect_timeout)
            )
            # Whoever waits sees the failure; this only keeps asyncio from reporting it as unseen.
            lookup.add_done_callback(lambda done: done.cancelled() or done.exception())
        try:
            addresses = await asyncio.shield(lookup)
        except TimeoutError as exc:
            raise FetchError(
                "dns", f"{url}: no answer for {target.host} within {self.limits.connect_timeout:g} s"
            ) from exc
        except (UnicodeError, ValueError) as exc:
            raise FetchError("url", f"{url}: {target.host} is not a host name that can be looked up") from exc
        except OSError as exc:
            raise FetchError("dns", f"{url}: {target.host} does not resolve ({exc.strerror or exc})") from exc
        if not addresses:
            raise FetchError("dns", f"{url}: {target.host} has no addresses")
        return addresses

    async def _send(
        self, target: _Target, addresses: list[Address], headers: dict[str, str]
    ) -> httpx.Response:
        """Send the request to the first of the checked addresses that accepts a connection."""
        failure: httpx.ConnectError | None = None
        for address in addresses:
            request = self._client.build_request("GET", **_pinned(target, address, headers))
            try:
                return await self._client.send(request, stream=True)
            except httpx.ConnectError as exc:  # refused or unreachable: the next address may answer
                failure = exc
        assert failure is not None  # addresses is never empty
        raise failure

    @staticmethod
    async def _drain(response: httpx.Response, limit: int = 64 * 1024) -> tuple[bytes, str | None]:
        """Read a small body we do not need, so the connection can be reused; returns what
        was read and why it is short (``length``, ``disconnect``) if it is.

        Whatever goes wrong here is ignored: the status already says what matters.
        """
        chunks: list[bytes] = []
        received = 0
        try:
            async for chunk in response.aiter_raw():
                chunks.append(chunk)
                received += len(chunk)
                if received > limit:
                    return b"".join(chunks), "length"
        except (httpx.HTTPError, OSError):
            return b"".join(chunks), "disconnect"
        return b"".join(chunks), None

    def _keep(
        self, target: _Target, started: datetime, response: httpx.Response, body: bytes, truncated: str | None
    ) -> None:
        """Hand one hop's exchange to the recorder (the transfer coding is undone in ``body``,
        so its header is left out); a recorder's failure never fails the fetch."""
        recorder = self.limits.recorder
        if recorder is None:
            return
        request = response.request
        exchange = Exchange(
            url=str(target.url),
            started=started,
            address=request.url.host,
            request_headers=tuple(
                (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw
            ),
            status=response.status_code,
            reason=response.reason_phrase or _reason(response.status_code),
            http_version=response.http_version,
            response_headers=tuple(
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in response.headers.raw
                if name.lower() != b"transfer-encoding"
            ),
            body=body,
            truncated=truncated,
        )
        try:
            recorder.record(exchange)
        except Exception:  # noqa: BLE001 - keeping evidence must never cost the fetch
            log.exception("keeping the exchange with %s failed", exchange.url)

    async def _finish(
        self,
        url: str,
        final: str,
        permanent: bool,
        response: httpx.Response,
        *,
        conditional: bool = False,
        kept: tuple[_Target, datetime] | None = None,
    ) -> Response:
        now = datetime.now(timezone.utc)
        status = response.status_code
        headers = response.headers
        moved = final if permanent and final != url else None
        if status >= 300 or status < 200:
            # Read the (small or empty) body so the connection goes back to the pool.
            body, cut = await self._drain(response)
            if kept is not None:
                self._keep(*kept, response, body, cut)
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
            raise FetchError(
                f"http_{status}", f"{final}: HTTP {status} {_reason(status)}", status=status, retry_after=retry
            )
        if status >= 300:
            raise FetchError(f"http_{status}", f"{final}: HTTP {status} without a usable Location")
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.limits.max_bytes:
            if kept is not None:
                self._keep(*kept, response, b"", "length")
            raise FetchError("too_large", f"{final}: body of {declared} bytes, over {self.limits.max_bytes}")
        decoder = BoundedDecoder(headers.get("content-encoding"), self.limits.max_bytes, final)
        chunks: list[bytes] = []
        raw: list[bytes] | None = [] if kept is not None else None
        received = 0
        truncated: str | None = "disconnect"
        try:
            async for chunk in response.aiter_raw():
                if raw is not None:
                    raw.append(chunk)
                received += len(chunk)
                if received > self.limits.max_bytes:
                    truncated = "length"
                    raise FetchError("too_large", f"{final}: body over {self.limits.max_bytes} bytes")
                chunks.append(decoder.feed(chunk))
            truncated = None
        finally:
            # What was received is kept even when the answer is cut short or too large.
            if kept is not None and raw is not None:
                self._keep(*kept, response, b"".join(raw), truncated)
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


def _left_alone(url: str, host: str, waiting: float) -> FetchError:
    """The error of a fetch not made because the host asked every worker to wait."""
    return FetchError("http_429", f"{url}: {host} asked to be left alone for {waiting:.0f} s more", retry_after=waiting)


def _pinned(target: _Target, address: Address, headers: dict[str, str]) -> dict[str, Any]:
    """Request arguments that connect to ``address`` while the Host header and TLS (SNI,
    certificate) name the URL's host."""
    literal = literal_address(target.host)
    url = target.url if literal == address else target.url.copy_with(host=str(address))
    return {
        "url": url,
        "headers": {**headers, "Host": target.url.netloc.decode("ascii")},
        "extensions": {"sni_hostname": target.host} if target.url.scheme == "https" else {},
    }


def _header_safe(value: str | None) -> bool:
    """Whether a validator can be sent back as it is: printable ASCII, of sane length."""
    return bool(value) and len(value or "") <= 1024 and all(" " <= ch <= "~" for ch in value or "")


def _validator(headers: httpx.Headers, name: str) -> str | None:
    """An ETag or Last-Modified worth keeping (one that can be sent back), else None."""
    value = headers.get(name)
    return value if _header_safe(value) else None
