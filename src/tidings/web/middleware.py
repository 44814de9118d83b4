"""ASGI middleware of the web app: the strict headers on every response, and the gate of a
private archive."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from .access import Access, TooManyAttempts
from .syndication import FEED_SUFFIXES

__all__ = ["PrivateGate", "SecurityHeaders"]


class PrivateGate:
    """ASGI middleware of a private archive: nothing but the sign-in page without the token."""

    OPEN = ("/login", "/static/", "/favicon.ico")

    def __init__(self, app: Any, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.OPEN):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        response: Response
        try:
            allowed = self.access.may_read(request)
        except TooManyAttempts as exc:
            response = JSONResponse({"error": str(exc)}, status_code=429, headers={"retry-after": str(exc.retry_after)})
            await response(scope, receive, send)
            return
        if allowed:
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/api/") or scope["path"].endswith(FEED_SUFFIXES):
            response = JSONResponse(
                {"error": "this archive is private: send the token"},
                status_code=401,
                headers={"www-authenticate": 'Basic realm="tidings", charset="UTF-8"'},
            )
        else:
            response = RedirectResponse("/login", status_code=303)
        await response(scope, receive, send)


class SecurityHeaders:
    """ASGI middleware: the same strict headers on every response, errors included."""

    def __init__(self, app: Any, policy: str) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", policy.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + self.headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
