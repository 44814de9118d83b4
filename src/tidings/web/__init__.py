"""The web app: read, search and compare versions, in a browser and through a JSON API.

A thin client of :class:`tidings.Archive` (no SQL here). Every response
carries a strict Content-Security-Policy (no script at all, styles and, by
default, images from this origin only) and the usual security headers;
article HTML is the sanitised clean HTML only; errors are pages (or JSON)
with a message, never a traceback. Changing actions need the token given to
:func:`create_app` (``Authorization: Bearer <token>``); wrong tokens are
throttled per client (see :mod:`tidings.web.access`). Feeds added or fetched
through the web are http(s) feeds only, unless ``allow_local_feeds``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..errors import InvalidInputError, NotFoundError, TidingsError
from .access import Access, Throttle, TooManyAttempts
from .api import api_routes
from .context import WebContext
from .images import ImageProxy
from .middleware import PrivateGate, SecurityHeaders
from .syndication import feed_routes
from .views import page_routes

__all__ = ["create_app"]


def create_app(
    database: str | Path,
    *,
    token: str | None = None,
    images: str = "proxy",
    image_proxy: ImageProxy | None = None,
    private: bool = False,
    base_url: str | None = None,
    allow_local_feeds: bool = False,
    throttle: Throttle | None = None,
    media: Path | None = None,
) -> Starlette:
    """The web app over the archive in ``database``.

    ``images``: ``proxy`` (article images load through this server's image
    proxy, which refuses private and loopback addresses: the browser talks to
    nobody else), ``none`` (images are shown as links and not loaded) or
    ``direct`` (images load from their sites over https). ``image_proxy``
    replaces the proxy (tests use one that may reach loopback servers).
    ``token`` is the one credential that allows changes (and, with ``private``,
    reading): see :mod:`tidings.web.access`. ``base_url`` is the address readers
    reach the archive at (behind a proxy), used for the ids and links of its feeds.
    Feeds are added and fetched through the web only when they are http(s) URLs:
    a local path or file:// URL would let whoever holds the token (or a form)
    make the server read its own files; ``allow_local_feeds`` lifts that (the
    command line always may). ``throttle`` replaces the back-off on wrong tokens.
    ``media`` is the folder of archived images (default: beside the database).
    """
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise ValueError("base_url must be an http(s) address")
    token = token or None  # an empty token is no token: it would let anyone in
    if private and not token:
        raise ValueError("a private archive needs a token to read it with")
    if images not in ("proxy", "none", "direct"):
        raise ValueError(f"images must be proxy, none or direct, not {images!r}")
    web = WebContext(
        database,
        access=Access(token, throttle=throttle),
        images=images,
        proxy=image_proxy or ImageProxy(),
        base_url=base_url,
        allow_local_feeds=allow_local_feeds,
        media=media,
    )
    img_src = "'self' data: https:" if images == "direct" else "'self' data:"
    policy = (
        f"default-src 'none'; style-src 'self'; img-src {img_src}; form-action 'self';"
        " base-uri 'none'; frame-ancestors 'none'"
    )

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return web.error(request, exc.status_code, str(exc.detail))

    async def throttled(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TooManyAttempts)
        response = web.error(request, 429, str(exc))
        response.headers["retry-after"] = str(exc.retry_after)
        return response

    async def not_found(request: Request, exc: Exception) -> Response:
        return web.error(request, 404, str(exc))

    async def bad_input(request: Request, exc: Exception) -> Response:
        return web.error(request, 400, str(exc))

    async def failure(request: Request, exc: Exception) -> Response:
        return web.error(request, 500, "the archive could not answer this request")

    app = Starlette(
        routes=feed_routes(web) + api_routes(web) + page_routes(web),
        exception_handlers={
            HTTPException: http_error,
            TooManyAttempts: throttled,
            NotFoundError: not_found,
            InvalidInputError: bad_input,
            TidingsError: failure,
            Exception: failure,
        },
    )
    gated: Any = PrivateGate(app, web.access) if private else app
    return SecurityHeaders(gated, policy)  # type: ignore[return-value]
