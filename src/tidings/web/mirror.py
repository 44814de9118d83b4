"""Serving a published mirror (``tidings serve --mirror DIR``): its files as they are, so its
search page works (browsers will not run it from ``file://``), with no database at all.

The mirror's search page runs Pagefind's script and WebAssembly from the mirror itself,
so this policy allows scripts from this origin (and WebAssembly), unlike the web app's.
Hidden entries (``.git``, ``.tidings``) are never served.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from .middleware import SecurityHeaders

__all__ = ["MIRROR_POLICY", "create_mirror_app"]

MIRROR_POLICY = (
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; style-src 'self';"
    " img-src 'self' data: https:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


class _NoHiddenEntries:
    """Answer 404 for any path with a segment that starts with a dot."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and any(part.startswith(".") for part in scope["path"].split("/")):
            await PlainTextResponse("not found", status_code=404)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_mirror_app(folder: str | Path) -> Any:
    """An ASGI app serving the published mirror in ``folder``."""
    root = Path(folder)
    if not (root / "index.html").is_file():
        raise ValueError(f"{root} holds no published mirror (no index.html): run tidings publish first")
    app = Starlette(routes=[Mount("/", StaticFiles(directory=root, html=True, follow_symlink=False))])
    return SecurityHeaders(_NoHiddenEntries(app), MIRROR_POLICY)
