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

import re
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..archive import Archive, open_archive
from ..diff import inline_diff
from ..records import event_record, feed_record, sighting_record
from ..fetch.addresses import is_web_url
from ..errors import InvalidInputError, NotFoundError, TidingsError
from ..model import Change, FeedOptions, FeedState, Revision, RevisionSource, Sighting, UpdateSummary, iso_utc
from . import syndicate
from .access import SESSION_COOKIE, SESSION_SECONDS, Access, Throttle, TooManyAttempts, read_form, same_origin
from .images import ImageProxy, ImageRefused, images_as_links
from .texts import TEXTS, counted

__all__ = ["create_app"]

HERE = Path(__file__).parent
PAGE = 25  # articles per timeline page
FEED_ENTRIES = 50  # entries in the archive's own Atom and JSON feeds
_CHINA = timezone(timedelta(hours=8))


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def chinese_content(language: str | None, site_language: str | None, site: str | None) -> bool:
    """Whether content is Chinese (and so gets China time beside UTC): the article's own
    language when it states one, else the language most of its site's articles state,
    else whether the site's name is written in Chinese characters."""
    for stated in (language, site_language):
        if stated and stated.strip():
            return stated.strip().lower().startswith("zh")
    return bool(site) and _has_cjk(site or "")


def site_path(name: str) -> str:
    """A site's name as one path segment: every reserved character, ``/`` too, percent-encoded."""
    return quote(name, safe="")


ZONES = (
    "UTC", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "Europe/London",
    "Europe/Paris", "Europe/Berlin", "America/New_York", "America/Chicago", "America/Los_Angeles",
    "Australia/Sydney",
)  # offered in the time zone field; any IANA name is accepted


def web_link(url: str | None) -> str:
    """``url`` when it is an http(s) address, else "" (never a javascript: or data: link)."""
    return url if url and is_web_url(url) else ""


def reader_zone(name: str | None) -> ZoneInfo | None:
    """The IANA time zone ``name``, or None when it is empty or unknown."""
    if not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, ZoneInfoNotFoundError):  # unknown, malformed, or a folder of the database
        return None


@pass_context
def _when(context: Any, moment: datetime | None, china: bool = False) -> str:
    """The reader's time (chosen with ?tz=, remembered in a cookie), China time for
    Chinese content (``china``: see :func:`chinese_content`), and UTC."""
    if moment is None:
        return "-"
    parts = []
    zone = context.get("reader_tz")
    offset = None
    if zone is not None and zone.key != "UTC":
        local = moment.astimezone(zone)
        offset = local.utcoffset()
        parts.append(f"{local.strftime('%Y-%m-%d %H:%M')} ({zone.key})")
    if china and offset != timedelta(hours=8):
        parts.append(f"{moment.astimezone(_CHINA).strftime('%Y-%m-%d %H:%M')} (UTC+8)")
    parts.append(moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    return " · ".join(parts)


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
    """
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise ValueError("base_url must be an http(s) address")
    token = token or None  # an empty token is no token: it would let anyone in
    if private and not token:
        raise ValueError("a private archive needs a token to read it with")
    access = Access(token, throttle=throttle)
    if images not in ("proxy", "none", "direct"):
        raise ValueError(f"images must be proxy, none or direct, not {images!r}")
    proxy = image_proxy or ImageProxy()
    local = threading.local()

    def archive() -> Archive:
        opened = getattr(local, "archive", None)
        if opened is None:
            opened = local.archive = open_archive(database)
        return opened

    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"])
    )
    templates.filters["when"] = _when
    templates.filters["web_link"] = web_link
    templates.filters["site_path"] = site_path
    img_src = "'self' data: https:" if images == "direct" else "'self' data:"
    policy = (
        f"default-src 'none'; style-src 'self'; img-src {img_src}; form-action 'self';"
        " base-uri 'none'; frame-ancestors 'none'"
    )

    def language_of(request: Request) -> str:
        lang = request.query_params.get("lang") or request.cookies.get("lang") or ""
        if lang not in TEXTS:
            accept = request.headers.get("accept-language", "")
            lang = "zh" if accept.lower().startswith("zh") else "en"
        return lang

    def chinese_for_page() -> Callable[..., bool]:
        """chinese_content for one page, looking each site's language up once."""
        site_languages: dict[str, str | None] = {}

        def chinese(site: str | None, language: str | None = None) -> bool:
            stated = bool(language and language.strip())
            if not stated and site and site not in site_languages:
                site_languages[site] = archive().site_language(site)
            return chinese_content(language, site_languages.get(site or ""), site)

        return chinese

    def page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        lang = language_of(request)
        t = TEXTS[lang]
        chosen = reader_zone(request.query_params.get("tz"))
        zone = chosen or reader_zone(request.cookies.get("tz"))
        session_id = access.session(request)
        body = templates.get_template(name).render(
            t=t,
            query=values.pop("query", None),
            reader_tz=zone,
            zones=ZONES,
            signed_in=session_id is not None,
            csrf=access.csrf(session_id) if session_id else "",
            changes=access.enabled,
            count=lambda number, noun: counted(lang, noun, number),
            chinese=chinese_for_page(),
            **values,
        )
        response = HTMLResponse(body, status_code=status)
        if request.query_params.get("lang") in TEXTS:
            response.set_cookie("lang", request.query_params["lang"], samesite="strict", httponly=True)
        if chosen is not None:
            response.set_cookie("tz", chosen.key, samesite="strict", httponly=True, max_age=400 * 86400)
        return response

    # pages

    def index(request: Request) -> Response:
        a = archive()
        return page(
            request,
            "index.html",
            sites=sorted(a.site_article_counts().items()),
            feeds=a.feeds(),
            today=datetime.now(timezone.utc).date().isoformat(),
        )

    def site_page(request: Request) -> Response:
        return site_page_named(request, request.path_params["name"])

    def site_page_named(request: Request, name: str) -> Response:
        if name not in archive().sites():
            raise HTTPException(404, f"no site named {name}")
        timeline = archive().timeline(site=name, cursor=request.query_params.get("cursor"), limit=PAGE)
        return page(
            request,
            "timeline.html",
            heading=name,
            page=timeline,
            feed_path="/site/" + site_path(name),
            feed_title=name,
            changes_path="/site/" + site_path(name) + "/changes",
        )

    def day_page(request: Request) -> Response:
        try:
            day = date.fromisoformat(request.path_params["day"])
        except ValueError:
            raise HTTPException(404, "not a day: use YYYY-MM-DD") from None
        timeline = archive().timeline(day=day, cursor=request.query_params.get("cursor"), limit=200)
        return page(request, "timeline.html", heading=day.isoformat(), page=timeline)

    def article_page(request: Request) -> Response:
        article_id = _int(request.path_params["id"])
        a = archive()
        article = a.get_article(article_id)
        revisions = a.revisions(article_id)
        current = a.current_revision(article_id, revisions)
        body = current.clean_html
        if body is None:
            body = a.cleaner.clean(current.content_html, base_url=article.url, site_url=article.url).html
        if images == "proxy":
            body = proxy.rewrite(body)
        elif images == "none":
            body = images_as_links(body)
        sightings = a.sightings(article_id)
        events = a.state_changes(article_id)
        return page(
            request,
            "article.html",
            article=article,
            revision=current,
            revisions=revisions,
            dates=a.revision_dates(article_id),
            body=body,
            numbers={r.id: place + 1 for place, r in enumerate(revisions)},
            compared_with=compared_with(revisions),
            sightings=sighting_rows(sightings),
            events=events,
            state_event=events[-1] if events and events[-1].new_state is article.state else None,
        )

    def diff_page(request: Request) -> Response:
        article_id = _int(request.path_params["id"])
        a = archive()
        article = a.get_article(article_id)
        revisions = a.revisions(article_id)
        if not revisions:
            return page(request, "diff.html", article=article, old=None, new=None, dates={})
        # Without ?to= the newest revision; without ?from= the one before ?to=.
        by_id = {r.id: r for r in revisions}
        wanted_from = request.query_params.get("from") or None
        wanted_to = request.query_params.get("to") or None
        new = by_id.get(_int(wanted_to)) if wanted_to is not None else revisions[-1]
        if new is None:
            raise HTTPException(404, "no such revisions of this article")
        if wanted_from is not None:
            old = by_id.get(_int(wanted_from))
            if old is None:
                raise HTTPException(404, "no such revisions of this article")
        else:
            place = revisions.index(new)
            old = revisions[place - 1] if place > 0 else None
        return page(
            request,
            "diff.html",
            article=article,
            old=old,
            new=new,
            dates=a.revision_dates(article_id),
            title_diff=inline_diff(old.title, new.title) if old else "",
            text_diff=inline_diff(old.text or "", new.text or "") if old else "",
        )

    def search_page(request: Request) -> Response:
        query = request.query_params.get("q", "").strip()
        if not query:
            return page(request, "search.html", query="", hits=(), next_cursor=None, error=None)
        try:
            result = archive().search(query, cursor=request.query_params.get("cursor"))
        except InvalidInputError as exc:
            return page(request, "search.html", 400, query=query, hits=(), next_cursor=None, error=str(exc))
        return page(
            request, "search.html", query=query, hits=result.hits, next_cursor=result.next_cursor, error=None
        )

    async def image(request: Request) -> Response:
        if images != "proxy":
            raise HTTPException(404, "the image proxy is off")
        try:
            body, media_type = await proxy.fetch(
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
        return page(request, "login.html", error=False)

    async def login(request: Request) -> Response:
        if not access.enabled:
            raise HTTPException(404, "changes are disabled: start tidings serve with --token")
        fields = await read_form(request)
        if not same_origin(request) or not access.check_token(request, fields.get("token", "")):
            return page(request, "login.html", 403, error=True)
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
                lambda: archive().add_feed(url, site=site, options=FeedOptions(), allow_local=allow_local_feeds)
            )
            return RedirectResponse("/", status_code=303)
        feed_id = _int(request.path_params.get("id", ""))
        changes: dict[str, Callable[[], object]] = {
            "pause": lambda: archive().set_feed_state(feed_id, FeedState.PAUSED),
            "resume": lambda: archive().set_feed_state(feed_id, FeedState.ACTIVE),
            "update": lambda: update_feed(feed_id),
            "remove": lambda: archive().remove_feed(feed_id),
        }
        if action not in changes:
            raise HTTPException(404, f"no action {action}")
        await run_in_threadpool(changes[action])
        return RedirectResponse("/", status_code=303)

    # feeds of the archive itself

    def _entries(site: str | None) -> tuple[str, list[syndicate.Entry]]:
        a = archive()
        if site is not None and site not in a.sites():
            raise HTTPException(404, f"no site named {site}")
        timeline = a.timeline(site=site, limit=FEED_ENTRIES)
        entries = [(article, a.revisions(article.id)[-1]) for article, _ in timeline.items]
        return (site or "tidings"), entries

    def addresses(request: Request, site: str | None, kind: str) -> tuple[str, str, str]:
        """The archive's public address, this feed's and its page's (the front page, or the
        site's timeline), from ``base_url`` when configured (else from the request, whose
        Host header the client chooses). The site's name is one percent-encoded segment:
        the request's own path is decoded, so ``/`` in a name would become a separator."""
        base = (base_url or str(request.base_url)).rstrip("/") + "/"
        home = base if site is None else f"{base}site/{site_path(site)}"
        here = f"{base}feed.{kind}" if site is None else f"{home}/feed.{kind}"
        return base, here + (f"?{request.url.query}" if request.url.query else ""), home

    def atom_feed(request: Request) -> Response:
        site = request.path_params.get("name")
        title, entries = _entries(site)
        base, here, home = addresses(request, site, "atom")
        body = syndicate.atom(title, base, here, entries, datetime.now(timezone.utc), home=home)
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    def json_feed(request: Request) -> Response:
        site = request.path_params.get("name")
        title, entries = _entries(site)
        base, here, home = addresses(request, site, "json")
        return JSONResponse(
            syndicate.json_feed(title, base, here, entries, home=home),
            media_type="application/feed+json",
        )

    # recent changes: pages and feeds

    def _changes_site(request: Request) -> str | None:
        site = request.path_params.get("name")
        if site is not None and site not in archive().sites():
            raise HTTPException(404, f"no site named {site}")
        return site

    def changes_page(request: Request) -> Response:
        site = request.path_params.get("name")
        if site is not None and site not in archive().sites():
            if f"{site}/changes" in archive().sites():  # a site named "x/changes": its timeline
                return site_page_named(request, f"{site}/changes")
            raise HTTPException(404, f"no site named {site}")
        changes = archive().recent_changes(site, cursor=request.query_params.get("cursor"), limit=PAGE)
        path = "/changes" if site is None else f"/site/{site_path(site)}/changes"
        return page(
            request,
            "changes.html",
            site=site,
            page=changes,
            changes_feed=path,
            feed_title=site or "tidings",
        )

    def change_addresses(request: Request, site: str | None, kind: str) -> tuple[str, str, str]:
        """As :func:`addresses`, for the feeds of recent changes: the archive's address, this
        feed's, and the page of those changes."""
        base = (base_url or str(request.base_url)).rstrip("/") + "/"
        home = f"{base}changes" if site is None else f"{base}site/{site_path(site)}/changes"
        return base, f"{home}.{kind}" + (f"?{request.url.query}" if request.url.query else ""), home

    def _changes_for_feed(request: Request) -> tuple[str | None, str, dict[str, str], list[Change]]:
        site = _changes_site(request)
        words = TEXTS[language_of(request)]
        title = words["changes"] if site is None else words["site_changes"].format(site=site)
        return site, title, words, list(archive().recent_changes(site, limit=FEED_ENTRIES).items)

    def changes_atom(request: Request) -> Response:
        site, title, words, changes = _changes_for_feed(request)
        base, here, home = change_addresses(request, site, "atom")
        body = syndicate.changes_atom(title, base, here, changes, datetime.now(timezone.utc), home=home, words=words)
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    def changes_json(request: Request) -> Response:
        site, title, words, changes = _changes_for_feed(request)
        base, here, home = change_addresses(request, site, "json")
        return JSONResponse(
            syndicate.changes_json_feed(title, base, here, changes, home=home, words=words),
            media_type="application/feed+json",
        )

    # JSON API

    def api_feeds(request: Request) -> Response:
        return JSONResponse([feed_record(f) for f in archive().feeds()])

    async def api_add_feed(request: Request) -> Response:
        _require_token(request, access)
        try:
            payload = await request.json()
        except ValueError:
            raise HTTPException(400, "the body must be JSON: {\"url\": ..., \"site\": ...}") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("url"), str):
            raise HTTPException(400, "give {\"url\": \"https://...\"}")
        site = payload.get("site") if isinstance(payload.get("site"), str) else None
        feed = await run_in_threadpool(
            lambda: archive().add_feed(payload["url"], site=site, options=FeedOptions(), allow_local=allow_local_feeds)
        )
        return JSONResponse(feed_record(feed), status_code=201)

    def _feed_ref(request: Request) -> int:
        _require_token(request, access)
        return _int(request.path_params["id"])

    def api_remove_feed(request: Request) -> Response:
        return JSONResponse(feed_record(archive().remove_feed(_feed_ref(request))))

    def api_pause_feed(request: Request) -> Response:
        return JSONResponse(feed_record(archive().set_feed_state(_feed_ref(request), FeedState.PAUSED)))

    def api_resume_feed(request: Request) -> Response:
        return JSONResponse(feed_record(archive().set_feed_state(_feed_ref(request), FeedState.ACTIVE)))

    def update_feed(feed_id: int) -> UpdateSummary:
        """Fetch one feed now; a local feed file only with ``allow_local_feeds`` (a web
        request must not make the server read its files, whoever subscribed to them)."""
        a = archive()
        feed = a.get_feed(feed_id)
        if not allow_local_feeds and not is_web_url(feed.url):
            raise HTTPException(
                403,
                "this feed is a local file: it is updated from the command line, not through the web"
                " (unless the server runs with --allow-local-feeds)",
            )
        return a.update(feeds=[feed.id])

    def api_update_feed(request: Request) -> Response:
        a = archive()
        feed = a.get_feed(_feed_ref(request))
        summary = update_feed(feed.id)
        outcome = summary.outcomes[0] if summary.outcomes else None
        return JSONResponse(
            {
                "feed": feed_record(a.get_feed(feed.id)),
                "fetched": summary.fetched,
                "not_modified": summary.not_modified,
                "failed": summary.failed,
                "new_articles": summary.new_articles,
                "changed_articles": summary.changed_articles,
                "error": outcome.error_message if outcome is not None else None,
            }
        )

    def api_articles(request: Request) -> Response:
        site = request.query_params.get("site")
        limit = _int(request.query_params.get("limit", str(PAGE)))
        timeline = archive().timeline(site=site, cursor=request.query_params.get("cursor"), limit=limit)
        return JSONResponse(
            {
                "articles": [_article_json(article, title) for article, title in timeline.items],
                "next_cursor": timeline.next_cursor,
            }
        )

    def api_article(request: Request) -> Response:
        a = archive()
        article = a.get_article(_int(request.path_params["id"]))
        revisions = a.revisions(article.id)
        current = a.current_revision(article.id, revisions)
        data = _article_json(article, current.title)
        data["clean_html"] = current.clean_html
        data["revisions"] = len(revisions)
        data["current_revision_id"] = current.id
        return JSONResponse(data)

    def api_sightings(request: Request) -> Response:
        return JSONResponse([sighting_record(s) for s in archive().sightings(_int(request.path_params["id"]))])

    def api_events(request: Request) -> Response:
        return JSONResponse([event_record(e) for e in archive().state_changes(_int(request.path_params["id"]))])

    def api_changes(request: Request) -> Response:
        limit = _int(request.query_params.get("limit", "50"))
        changes = archive().recent_changes(
            request.query_params.get("site"), limit=limit, cursor=request.query_params.get("cursor")
        )
        return JSONResponse(
            {"changes": [change_record(c) for c in changes.items], "next_cursor": changes.next_cursor}
        )

    def api_revisions(request: Request) -> Response:
        revisions = archive().revisions(_int(request.path_params["id"]))
        return JSONResponse(
            [
                {
                    "id": r.id,
                    "seen": iso_utc(r.seen),
                    "title": r.title,
                    "source": r.source.value,
                    "content_html": r.content_html,
                    "clean_html": r.clean_html,
                    "text": r.text,
                    "changed": list(r.changed),
                    "fingerprint": r.fingerprint,
                }
                for r in revisions
            ]
        )

    def api_search(request: Request) -> Response:
        limit = _int(request.query_params.get("limit", "20"))
        result = archive().search(
            request.query_params.get("q", ""), limit=limit, cursor=request.query_params.get("cursor")
        )
        return JSONResponse(
            {
                "hits": [
                    {
                        "id": h.article_id,
                        "site": h.site,
                        "title": h.title,
                        "link": h.url,
                        "published": iso_utc(h.published),
                        "snippet": h.snippet,
                        "score": h.score,
                        "sources": list(h.sources),
                    }
                    for h in result.hits
                ],
                "next_cursor": result.next_cursor,
            }
        )

    def openapi(request: Request) -> Response:
        return JSONResponse(OPENAPI)

    # errors and headers

    def _wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    def error(request: Request, status: int, message: str) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": message}, status_code=status)
        return page(request, "error.html", status, code=status, message=message)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error(request, exc.status_code, str(exc.detail))

    async def throttled(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TooManyAttempts)
        response = error(request, 429, str(exc))
        response.headers["retry-after"] = str(exc.retry_after)
        return response

    async def not_found(request: Request, exc: Exception) -> Response:
        return error(request, 404, str(exc))

    async def bad_input(request: Request, exc: Exception) -> Response:
        return error(request, 400, str(exc))

    async def failure(request: Request, exc: Exception) -> Response:
        return error(request, 500, "the archive could not answer this request")

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/site/{name:path}/feed.atom", atom_feed),
            Route("/site/{name:path}/feed.json", json_feed),
            Route("/site/{name:path}/changes.atom", changes_atom),
            Route("/site/{name:path}/changes.json", changes_json),
            Route("/site/{name:path}/changes", changes_page),
            Route("/site/{name:path}", site_page),
            Route("/changes", changes_page),
            Route("/changes.atom", changes_atom),
            Route("/changes.json", changes_json),
            Route("/day/{day}", day_page),
            Route("/article/{id}", article_page),
            Route("/article/{id}/diff", diff_page),
            Route("/search", search_page),
            Route("/image", image),
            Route("/login", login_form, methods=["GET"]),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/feeds/{action}", change_feed, methods=["POST"]),
            Route("/feeds/{id}/{action}", change_feed, methods=["POST"]),
            Route("/feed.atom", atom_feed),
            Route("/feed.json", json_feed),
            Route("/api/feeds", api_feeds, methods=["GET"]),
            Route("/api/feeds", api_add_feed, methods=["POST"]),
            Route("/api/feeds/{id}", api_remove_feed, methods=["DELETE"]),
            Route("/api/feeds/{id}/pause", api_pause_feed, methods=["POST"]),
            Route("/api/feeds/{id}/resume", api_resume_feed, methods=["POST"]),
            Route("/api/feeds/{id}/update", api_update_feed, methods=["POST"]),
            Route("/api/articles", api_articles),
            Route("/api/articles/{id}", api_article),
            Route("/api/articles/{id}/revisions", api_revisions),
            Route("/api/articles/{id}/sightings", api_sightings),
            Route("/api/articles/{id}/events", api_events),
            Route("/api/changes", api_changes),
            Route("/api/search", api_search),
            Route("/api/openapi.json", openapi),
            Route("/favicon.ico", lambda request: Response(status_code=204)),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        exception_handlers={
            HTTPException: http_error,
            TooManyAttempts: throttled,
            NotFoundError: not_found,
            InvalidInputError: bad_input,
            TidingsError: failure,
            Exception: failure,
        },
    )

    gated: Any = PrivateGate(app, access) if private else app
    return SecurityHeaders(gated, policy)  # type: ignore[return-value]


FEED_SUFFIXES = ("/feed.atom", "/feed.json", "/changes.atom", "/changes.json")  # read by feed readers


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


def _int(value: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise HTTPException(404, f"not a number: {value!r}") from None
    if not -(2**63) <= number < 2**63:
        raise HTTPException(404, "no such number here")
    return number


def _require_token(request: Request, access: Access) -> None:
    if not access.enabled:
        raise HTTPException(403, "changes are disabled: start tidings serve with --token")
    if not access.by_header(request):
        raise HTTPException(401, "a valid token is needed (Authorization: Bearer <token>)")


def _article_json(article: Any, title: str) -> dict[str, Any]:
    return {
        "id": article.id,
        "site": article.site,
        "title": title,
        "url": article.url,
        "published": iso_utc(article.published),
        "first_seen": iso_utc(article.first_seen),
        "state": article.state.value,
        "state_since": iso_utc(article.state_since),
    }


def compared_with(revisions: list[Revision]) -> dict[int, int]:
    """For each revision but the first, the one its differences are shown against: the
    newest older one of the same kind of source (the feed's content, imports included, or
    the page's full text), else the one before it."""
    found: dict[int, int] = {}
    newest: dict[bool, int] = {}
    for place, revision in enumerate(revisions):
        lane = revision.source is RevisionSource.EXTRACTED
        if lane in newest:
            found[revision.id] = newest[lane]
        elif place > 0:
            found[revision.id] = revisions[place - 1].id
        newest[lane] = revision.id
    return found


def sighting_rows(sightings: list[Sighting]) -> list[tuple[Sighting, bool]]:
    """Each sighting with whether it is a revert: its source had shown a newer revision before."""
    rows = []
    newest: dict[str, int] = {}
    for sighting in sightings:
        rows.append((sighting, sighting.revision_id < newest.get(sighting.source, 0)))
        newest[sighting.source] = max(newest.get(sighting.source, 0), sighting.revision_id)
    return rows


def change_record(change: Change) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": change.kind,
        "id": change.id,
        "at": iso_utc(change.at),
        "article_id": change.article_id,
        "site": change.site,
        "url": change.url,
        "title": change.title,
    }
    if change.kind == "edit":
        record.update(
            revision_id=change.revision_id,
            previous_revision_id=change.previous_revision_id,
            source=change.source,
            changed=list(change.changed),
            diff=f"/article/{change.article_id}/diff?from={change.previous_revision_id}&to={change.revision_id}",
        )
    else:
        record.update(
            old_state=change.old_state.value if change.old_state else None,
            new_state=change.new_state.value if change.new_state else None,
            evidence=change.evidence,
        )
    return record


def _schema(description: str, properties: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"type": "object", "properties": properties or {}}}}}


_ERROR = {"description": "an error, with a message", "content": {"application/json": {"schema": {"type": "object", "properties": {"error": {"type": "string"}}}}}}
_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "tidings", "version": "1", "description": "The news archive: reading is open; changing the subscriptions needs the token."},
    "paths": {
        "/api/feeds": {
            "get": {"summary": "Feeds with their health", "responses": {"200": {"description": "a list of feeds", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}}},
            "post": {
                "summary": "Subscribe to a feed (needs the token)",
                "security": [{"token": []}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "required": ["url"], "properties": {"url": {"type": "string"}, "site": {"type": "string"}}}}}},
                "responses": {"201": _schema("the new feed"), "400": _ERROR, "401": _ERROR, "403": _ERROR, "429": _ERROR},
            },
        },
        "/api/feeds/{id}": {
            "delete": {"summary": "Unsubscribe (needs the token); the articles stay", "security": [{"token": []}], "parameters": _ID, "responses": {"200": _schema("the removed feed"), "401": _ERROR, "403": _ERROR, "429": _ERROR, "404": _ERROR}}
        },
        "/api/feeds/{id}/pause": {
            "post": {"summary": "Stop fetching a feed (needs the token)", "security": [{"token": []}], "parameters": _ID, "responses": {"200": _schema("the feed"), "401": _ERROR, "403": _ERROR, "429": _ERROR, "404": _ERROR}}
        },
        "/api/feeds/{id}/resume": {
            "post": {"summary": "Fetch a paused feed again, from now (needs the token)", "security": [{"token": []}], "parameters": _ID, "responses": {"200": _schema("the feed"), "401": _ERROR, "403": _ERROR, "429": _ERROR, "404": _ERROR}}
        },
        "/api/feeds/{id}/update": {
            "post": {"summary": "Fetch a feed now and store what is new (needs the token)", "security": [{"token": []}], "parameters": _ID, "responses": {"200": _schema("what the fetch did", {"feed": {"type": "object"}, "fetched": {"type": "integer"}, "failed": {"type": "integer"}, "new_articles": {"type": "integer"}, "error": {"type": "string", "nullable": True}}), "401": _ERROR, "403": _ERROR, "429": _ERROR, "404": _ERROR}}
        },
        "/api/articles": {
            "get": {
                "summary": "Articles, newest first",
                "parameters": [
                    {"name": "site", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {"200": _schema("a page of articles", {"articles": {"type": "array", "items": {"type": "object"}}, "next_cursor": {"type": "string", "nullable": True}}), "400": _ERROR},
            }
        },
        "/api/articles/{id}": {"get": {"summary": "One article", "parameters": _ID, "responses": {"200": _schema("the article"), "404": _ERROR}}},
        "/api/articles/{id}/revisions": {"get": {"summary": "Every revision of an article", "parameters": _ID, "responses": {"200": {"description": "revisions, oldest first", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}, "404": _ERROR}}},
        "/api/articles/{id}/sightings": {"get": {"summary": "When which source showed which revision of an article (runs of looks), oldest first", "parameters": _ID, "responses": {"200": {"description": "sightings, oldest first", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}, "revision_id": {"type": "integer"}, "source": {"type": "string"}, "first_seen": {"type": "string"}, "last_seen": {"type": "string"}, "times": {"type": "integer"}, "feed_id": {"type": "integer", "nullable": True}, "status": {"type": "integer", "nullable": True}, "raw_id": {"type": "integer", "nullable": True}}}}}}}, "404": _ERROR}}},
        "/api/articles/{id}/events": {"get": {"summary": "An article's state changes (present, missing, deleted) with their evidence, oldest first", "parameters": _ID, "responses": {"200": {"description": "state changes, oldest first", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}, "at": {"type": "string"}, "old_state": {"type": "string", "enum": ["present", "missing", "deleted"]}, "new_state": {"type": "string", "enum": ["present", "missing", "deleted"]}, "evidence": {"type": "object"}}}}}}}, "404": _ERROR}}},
        "/api/changes": {
            "get": {
                "summary": "Recent changes, newest first: edits (kind edit) and state changes (kind state)",
                "parameters": [
                    {"name": "site", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {"200": _schema("a page of changes", {"changes": {"type": "array", "items": {"type": "object", "properties": {"kind": {"type": "string", "enum": ["edit", "state"]}, "id": {"type": "integer"}, "at": {"type": "string"}, "article_id": {"type": "integer"}, "site": {"type": "string"}, "title": {"type": "string"}, "changed": {"type": "array", "items": {"type": "string"}}, "diff": {"type": "string"}, "new_state": {"type": "string"}, "evidence": {"type": "object"}}}}, "next_cursor": {"type": "string", "nullable": True}}), "400": _ERROR, "404": _ERROR},
            }
        },
        "/api/search": {
            "get": {
                "summary": "Search (the query language of tidings search)",
                "parameters": [
                    {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {"200": _schema("a page of hits", {"hits": {"type": "array", "items": {"type": "object"}}, "next_cursor": {"type": "string", "nullable": True}}), "400": _ERROR},
            }
        },
    },
    "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
}
