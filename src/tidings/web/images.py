"""A same-origin image proxy: article images load through the archive's server.

The reader's browser then talks to nobody else (no tracking pixels, no referrer
leaks, the page's Content-Security-Policy stays ``img-src 'self'``). Only URLs
the server itself put in a page are fetched: each carries an HMAC signature made
with a secret of this server process, so the proxy is not an open relay. Every
host name is resolved and refused when any of its addresses is private,
loopback, link-local, multicast or otherwise not global, after every redirect
too; answers must be raster images (SVG can carry script) and are read up to a
byte limit with a time limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from typing import Any
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import httpx

from ..pages.views import IMG_TAG
from ..fetch.addresses import Address, AddressPolicy, all_allowed, is_public, is_web_url, resolve
from ..version import __version__

MAX_BYTES = 8 * 1024 * 1024
TIMEOUT = 10.0
MAX_REDIRECTS = 3
_SOURCE = re.compile(r"<source\b[^>]*>", re.IGNORECASE)
_SRC = re.compile(r'\ssrc="([^"]*)"')
_SRCSET = re.compile(r'\s(?:srcset|sizes)="[^"]*"')


class ImageRefused(Exception):
    """The proxy will not fetch this URL (``status`` says how to answer)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ImageProxy:
    def __init__(
        self,
        *,
        allow: AddressPolicy = is_public,
        max_bytes: int = MAX_BYTES,
        timeout: float = TIMEOUT,
    ) -> None:
        self._secret = secrets.token_bytes(32)
        self._allow = allow
        self._max_bytes = max_bytes
        self._timeout = timeout

    def _signature(self, url: str) -> str:
        return hmac.new(self._secret, url.encode(), hashlib.sha256).hexdigest()[:32]

    def path(self, url: str) -> str:
        """The same-origin address that serves the image at ``url``."""
        return f"/image?u={quote(url, safe='')}&s={self._signature(url)}"

    def rewrite(self, html: str) -> str:
        """Point the images of sanitised ``html`` at the proxy (``srcset`` and ``<source>`` dropped)."""

        def image(match: re.Match[str]) -> str:
            tag = _SRCSET.sub("", match.group(0))
            found = _SRC.search(tag)
            if found is None:
                return tag
            src = found.group(1)
            if src.startswith("data:") or (src.startswith("/") and not src.startswith("//")):
                return tag  # inline, or served by this server (an archived image): nothing to proxy
            if not is_web_url(src):
                return tag.replace(found.group(0), "", 1)  # nothing this server could fetch
            url = src.replace("&amp;", "&")
            return tag.replace(found.group(0), f' src="{self.path(url).replace("&", "&amp;")}"', 1)

        return _SOURCE.sub("", IMG_TAG.sub(image, html))

    async def fetch(self, url: str, signature: str) -> tuple[bytes, str]:
        """The image's bytes and media type; ImageRefused when it may not or cannot be had."""
        if not hmac.compare_digest(signature.encode(), self._signature(url).encode()):
            raise ImageRefused(403, "this image address was not issued by this server")
        async with httpx.AsyncClient(
            follow_redirects=False,
            timeout=self._timeout,
            headers={"User-Agent": f"tidings/{__version__} (image proxy)", "Accept": "image/*"},
            trust_env=False,
        ) as client:
            for _ in range(MAX_REDIRECTS + 1):
                address = await self._check(url)
                try:
                    async with asyncio.timeout(self._timeout):
                        async with client.stream(**_pinned(url, address)) as response:
                            if response.is_redirect and "location" in response.headers:
                                url = urljoin(url, response.headers["location"])
                                continue
                            return await self._read(response)
                except (httpx.HTTPError, TimeoutError) as exc:
                    raise ImageRefused(502, f"the image could not be fetched: {type(exc).__name__}") from exc
        raise ImageRefused(502, "too many redirects")

    async def _check(self, url: str) -> Address:
        """The address to connect to; ImageRefused unless every address of the host is allowed."""
        try:
            parts = urlsplit(url)
            hostname, port = parts.hostname, parts.port
        except ValueError as exc:
            raise ImageRefused(502, "not a usable image address") from exc
        if parts.scheme not in ("http", "https") or not hostname:
            raise ImageRefused(403, "only http and https images are fetched")
        try:
            addresses = await resolve(hostname, port or (443 if parts.scheme == "https" else 80), self._timeout)
        except (OSError, TimeoutError, UnicodeError, ValueError) as exc:
            raise ImageRefused(502, f"the image's host does not resolve: {hostname}") from exc
        if not all_allowed(addresses, self._allow):
            raise ImageRefused(403, f"{hostname} is a private or local address")
        return addresses[0]

    async def _read(self, response: httpx.Response) -> tuple[bytes, str]:
        if response.status_code != 200:
            raise ImageRefused(502, f"the image's server answered {response.status_code}")
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if not media_type.startswith("image/") or "svg" in media_type:
            raise ImageRefused(502, f"not a raster image: {media_type or 'no type'}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise ImageRefused(502, "the image is too large")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > self._max_bytes:
                raise ImageRefused(502, "the image is too large")
        return bytes(body), media_type


def _pinned(url: str, address: Address) -> dict[str, Any]:
    """Request arguments that connect to the checked ``address`` (no second lookup, so no
    DNS rebinding), while the Host header and TLS (SNI, certificate) still name the host."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    return {
        "method": "GET",
        "url": urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")),
        "headers": {"Host": parts.netloc.rpartition("@")[2]},
        "extensions": {"sni_hostname": host} if parts.scheme == "https" else {},
    }
