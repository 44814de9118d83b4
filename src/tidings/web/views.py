"""The web app's pages (timelines, articles, differences, search, recent changes) and the
forms that change the archive. What a page shows comes from :mod:`tidings.pages.views`,
as in a published mirror."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import InvalidInputError, NotFoundError
from ..fetch.addresses import is_web_url
from ..model import FeedOptions, FeedState, UpdateSummary
from ..pages.render import HERE as PAGES_HERE
from ..media import image_urls
from ..pages.views import article_values, diff_values, images_as_links, local_images
from .access import SESSION_COOKIE, SESSION_SECONDS, read_form, same_origin
from .context import PAGE, WebContext, int_param
from .images import ImageRefused

__all__ = ["page_routes", "update_feed"]


def _static_folder() -> Path:
    return PAGES_HERE / "static"


def update_feed(web: WebContext, feed_id: int) -> UpdateSummary:
    """Fetch one feed now; a local feed file only with ``allow_local_feeds`` (a web
    request must not make the server read its files, whoever subscribed to them)."""
    a = web.archive()
    feed = a.get_feed(feed_id)
    if not web.allow_local_feeds and not is_web_url(feed.url):
        raise HTTPException(
            403,
            "this feed is a local file: it is updated from the command line, not through the web"
            " (unless the server runs with --allow-local-feeds)",
        )
    return a.update(feeds=[feed.id])


def page_routes(web: WebContext) -> list[BaseRoute]:
    """The routes of the pages and forms."""
    access = web.access

    def index(request: Request) -> Response:
        a = web.archive()
        sites = sorted(a.site_article_counts().items())
        return web.page(
            request,
            "index.html",
            sites=sites,
            site_names={name for name, _ in sites},
            feeds=a.feeds(),
            today=datetime.now(timezone.utc).date().isoformat(),
        )

    def site_page(request: Request) -> Response:
        return site_page_named(request, request.path_params["name"])

    def site_page_named(request: Request, name: str) -> Response:
        web.require_site(name)
        timeline = web.archive().timeline(site=name, cursor=request.query_params.get("cursor"), limit=PAGE)
        return web.page(
            request,
            "timeline.html",
            heading=name,
            page=timeline,
            feed_site=name,
            feed_title=name,
            changes_site=name,
            older_link=f"?cursor={timeline.next_cursor}" if timeline.next_cursor else None,
        )

    def day_page(request: Request) -> Response:
        try:
            day = date.fromisoformat(request.path_params["day"])
        except ValueError:
            raise HTTPException(404, "not a day: use YYYY-MM-DD") from None
        timeline = web.archive().timeline(day=day, cursor=request.query_params.get("cursor"), limit=200)
        return web.page(
            request,
            "timeline.html",
            heading=day.isoformat(),
            page=timeline,
            older_link=f"?cursor={timeline.next_cursor}" if timeline.next_cursor else None,
        )

    def body_filter(body: str) -> str:
        # Archived images from the archive itself; the others as the server is told.
        archived = web.archive().archived_images(image_urls(body))
        body = local_images(body, archived, lambda sha256, _type: f"/media/{sha256}")
        if web.images == "proxy":
            return web.proxy.rewrite(body)
        if web.images == "none":
            return images_as_links(body)
        return body

    def article_page(request: Request) -> Response:
        values = article_values(web.archive(), int_param(request.path_params["id"]), body_filter=body_filter)
        return web.page(request, "article.html", **values)

    def diff_page(request: Request) -> Response:
        # Without ?to= the newest revision; without ?from= the one before ?to=.
        wanted_from = request.query_params.get("from") or None
        wanted_to = request.query_params.get("to") or None
        try:
            values = diff_values(
                web.archive(),
                int_param(request.path_params["id"]),
                int_param(wanted_from) if wanted_from is not None else None,
                int_param(wanted_to) if wanted_to is not None else None,
            )
        except NotFoundError as exc:
            raise HTTPException(404, str(exc)) from None
        return web.page(request, "diff.html", **values)

    def search_page(request: Request) -> Response:
        query = request.query_params.get("q", "").strip()
        if not query:
            return web.page(request, "search.html", query="", hits=(), next_cursor=None, error=None)
        try:
            result = web.archive().search(
                query, cursor=request.query_params.get("cursor"), sort=request.query_params.get("sort") or None
            )
        except InvalidInputError as exc:
            return web.page(request, "search.html", 400, query=query, hits=(), next_cursor=None, error=str(exc))
        return web.page(
            request,
            "search.html",
            query=query,
            hits=result.hits,
            next_cursor=result.next_cursor,
            error=None,
            sort=request.query_params.get("sort") or "",
            # A new kind of index came with an upgrade: empty until the next derive stage.
            index_missing=not result.hits and web.archive().store.index_missing(),
        )

    def changes_page(request: Request) -> Response:
        site = request.path_params.get("name")
        if site is not None and site not in web.archive().sites():
            if f"{site}/changes" in web.archive().sites():  # a site named "x/changes": its timeline
                return site_page_named(request, f"{site}/changes")
            raise HTTPException(404, f"no site named {site}")
        changes = web.archive().recent_changes(site, cursor=request.query_params.get("cursor"), limit=PAGE)
        return web.page(
            request,
            "changes.html",
            site=site,
            page=changes,
            changes_feed=True,
            changes_site=site,
            feed_site=site,
            feed_title=site or "tidings",
            older_link=f"?cursor={changes.next_cursor}" if changes.next_cursor else None,
        )

    def media(request: Request) -> Response:
        sha256 = request.path_params["sha256"]
        found = web.archive().media_file(sha256) if len(sha256) == 64 else None
        if found is None:
            raise HTTPException(404, "no such image in the archive")
        data, media_type = found
        return Response(
            data,
            media_type=media_type,
            headers={"cache-control": "public, max-age=31536000, immutable", "content-disposition": "inline"},
        )

    async def image(request: Request) -> Response:
        if web.images != "proxy":
            raise HTTPException(404, "the image proxy is off")
        try:
            body, media_type = await web.proxy.fetch(
                request.query_params.get("u", ""), request.query_params.get("s", "")
            )
        except ImageRefused as exc:
            raise HTTPException(exc.status, str(exc)) from None
        return Response(
            body,
            media_type=media_type,
            headers={"cache-control": "private, max-age=86400", "content-disposition": "inline"},
        )

    # signing in, and the forms that change the archive

    async def login_form(request: Request) -> Response:
        if not access.enabled:
            raise HTTPException(404, "changes are disabled: start tidings serve with --token")
        return web.page(request, "login.html", error=False)

    async def login(request: Request) -> Response:
        if not access.enabled:
            raise HTTPException(404, "changes are disabled: start tidings serve with --token")
        fields = await read_form(request)
        if not same_origin(request) or not access.check_token(request, fields.get("token", "")):
            return web.page(request, "login.html", 403, error=True)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            access.new_session(),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            max_age=SESSION_SECONDS,
        )
        return response

    async def logout(request: Request) -> Response:
        if access.form_allowed(request, await read_form(request)):
            access.end(access.session(request) or "")
            response = RedirectResponse("/", status_code=303)
            response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict")
            return response
        raise HTTPException(403, "this form is stale or comes from elsewhere: sign in again")

    async def change_feed(request: Request) -> Response:
        fields = await read_form(request)
        if not access.form_allowed(request, fields):
            raise HTTPException(403, "this form is stale or comes from elsewhere: sign in again")
        action = request.path_params["action"]
        if action == "add":
            url = fields.get("url", "").strip()
            site = fields.get("site", "").strip() or None
            await run_in_threadpool(
                lambda: web.archive().add_feed(
                    url, site=site, options=FeedOptions(), allow_local=web.allow_local_feeds
                )
            )
            return RedirectResponse("/", status_code=303)
        feed_id = int_param(request.path_params.get("id", ""))
        changes: dict[str, Callable[[], object]] = {
            "pause": lambda: web.archive().set_feed_state(feed_id, FeedState.PAUSED),
            "resume": lambda: web.archive().set_feed_state(feed_id, FeedState.ACTIVE),
            "update": lambda: update_feed(web, feed_id),
            "remove": lambda: web.archive().remove_feed(feed_id),
        }
        if action not in changes:
            raise HTTPException(404, f"no action {action}")
        await run_in_threadpool(changes[action])
        return RedirectResponse("/", status_code=303)

    return [
        Route("/", index),
        Route("/site/{name:path}/changes", changes_page),
        Route("/site/{name:path}", site_page),
        Route("/changes", changes_page),
        Route("/day/{day}", day_page),
        Route("/article/{id}", article_page),
        Route("/article/{id}/diff", diff_page),
        Route("/search", search_page),
        Route("/image", image),
        Route("/media/{sha256}", media),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/feeds/{action}", change_feed, methods=["POST"]),
        Route("/feeds/{id}/{action}", change_feed, methods=["POST"]),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Mount("/static", StaticFiles(directory=_static_folder()), name="static"),
    ]
