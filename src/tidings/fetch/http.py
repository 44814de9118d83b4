"""HTTP(S) retrieval with httpx: timeouts, size bounds, clear error kinds."""

from __future__ import annotations

import ssl

import httpx

from ..version import __version__
from ..errors import FetchError
from .base import Response

__all__ = ["USER_AGENT", "fetch_http"]

USER_AGENT = f"tidings/{__version__} (news archive; +https://pypi.org/project/tidings/)"


def _kind(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        cause = exc.__context__ or exc.__cause__
        text = str(exc).lower()
        if isinstance(cause, ssl.SSLError) or "ssl" in text or "certificate" in text:
            return "tls"
        if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
            return "dns"
        return "connect"
    if isinstance(exc, httpx.TooManyRedirects):
        return "redirects"
    if isinstance(exc, httpx.DecodingError):
        return "decoding"
    return "http"


def fetch_http(url: str, *, timeout: float, max_bytes: int) -> Response:
    """GET a URL, following redirects; the body is bounded after decompression."""
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    try:
        with httpx.Client(
            timeout=httpx.Timeout(timeout), follow_redirects=True, max_redirects=10, headers=headers
        ) as client:
            with client.stream("GET", url) as response:
                if response.status_code >= 400:
                    raise FetchError(
                        f"http_{response.status_code}",
                        f"{url}: HTTP {response.status_code} {response.reason_phrase}",
                    )
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError("too_large", f"{url}: body over {max_bytes} bytes")
                    chunks.append(chunk)
                return Response(
                    url=str(response.url),
                    content=b"".join(chunks),
                    status=response.status_code,
                    content_type=response.headers.get("content-type"),
                    content_language=response.headers.get("content-language"),
                    content_location=response.headers.get("content-location"),
                )
    except httpx.InvalidURL as exc:
        raise FetchError("url", f"{url}: not a valid URL ({exc})") from exc
    except httpx.UnsupportedProtocol as exc:
        raise FetchError("url", f"{url}: unsupported URL scheme") from exc
    except httpx.HTTPError as exc:
        raise FetchError(_kind(exc), f"{url}: {exc or type(exc).__name__}") from exc
