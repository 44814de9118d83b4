"""What every part of the web app shares for one app: the archive (one connection per
thread), the templates, the credential, and how a page or an error is answered."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from ..archive import Archive, open_archive
from ..pages import Pages, ServerLinks
from ..pages.render import ChineseCheck, reader_zone
from ..pages.texts import TEXTS
from .access import Access
from .images import ImageProxy

__all__ = ["PAGE", "FEED_ENTRIES", "WebContext", "int_param", "require_token"]

PAGE = 25  # articles per timeline page
FEED_ENTRIES = 50  # entries in the archive's own Atom and JSON feeds
LINKS = ServerLinks()


class WebContext:
    """The parts one web app's routes share."""

    def __init__(
        self,
        database: str | Path,
        *,
        access: Access,
        images: str,
        proxy: ImageProxy,
        base_url: str | None,
        allow_local_feeds: bool,
        media: Path | None = None,
    ) -> None:
        self.database = database
        self.media = media
        self.access = access
        self.images = images
        self.proxy = proxy
        self.base_url = base_url
        self.allow_local_feeds = allow_local_feeds
        self.pages = Pages()
        self._local = threading.local()

    def archive(self) -> Archive:
        opened = getattr(self._local, "archive", None)
        if opened is None:
            opened = self._local.archive = open_archive(self.database, media=self.media)
        return opened

    def language_of(self, request: Request) -> str:
        lang = request.query_params.get("lang") or request.cookies.get("lang") or ""
        if lang not in TEXTS:
            accept = request.headers.get("accept-language", "")
            lang = "zh" if accept.lower().startswith("zh") else "en"
        return lang

    def page(self, request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        lang = self.language_of(request)
        chosen = reader_zone(request.query_params.get("tz"))
        zone = chosen or reader_zone(request.cookies.get("tz"))
        access = self.access
        session_id = access.session(request)
        body = self.pages.render(
            name,
            lang=lang,
            links=LINKS,
            chinese=ChineseCheck(self.archive().site_language),
            reader_tz=zone,
            signed_in=session_id is not None,
            csrf=access.csrf(session_id) if session_id else "",
            changes=access.enabled,
            **values,
        )
        response = HTMLResponse(body, status_code=status)
        if request.query_params.get("lang") in TEXTS:
            response.set_cookie("lang", request.query_params["lang"], samesite="strict", httponly=True)
        if chosen is not None:
            response.set_cookie("tz", chosen.key, samesite="strict", httponly=True, max_age=400 * 86400)
        return response

    def public_base(self, request: Request) -> str:
        """The archive's public address (``base_url`` when configured, else the request's),
        ending in ``/``."""
        return (self.base_url or str(request.base_url)).rstrip("/") + "/"

    def error(self, request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=status)
        return self.page(request, "error.html", status, code=status, message=message)

    def require_site(self, site: str | None) -> None:
        if site is not None and site not in self.archive().sites():
            raise HTTPException(404, f"no site named {site}")


def int_param(value: str) -> int:
    """A number from a path or query, or 404."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise HTTPException(404, f"not a number: {value!r}") from None
    if not -(2**63) <= number < 2**63:
        raise HTTPException(404, "no such number here")
    return number


def require_token(request: Request, access: Access) -> None:
    if not access.enabled:
        raise HTTPException(403, "changes are disabled: start tidings serve with --token")
    if not access.by_header(request):
        raise HTTPException(401, "a valid token is needed (Authorization: Bearer <token>)")

