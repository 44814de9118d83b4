"""The archive's own feeds, served: the newest articles (of all sites or one) and the
recent changes, in Atom and JSON Feed (documents built by :mod:`tidings.pages.syndicate`)."""

from __future__ import annotations

from datetime import datetime, timezone

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..model import Change
from ..pages import syndicate
from ..pages.links import site_path
from ..pages.texts import TEXTS
from .context import FEED_ENTRIES, WebContext

__all__ = ["FEED_SUFFIXES", "feed_routes"]

FEED_SUFFIXES = ("/feed.atom", "/feed.json", "/changes.atom", "/changes.json")  # read by feed readers


def feed_routes(web: WebContext) -> list[BaseRoute]:
    """The routes of the archive's feeds."""

    def _entries(site: str | None) -> tuple[str, list[syndicate.Entry]]:
        web.require_site(site)
        a = web.archive()
        timeline = a.timeline(site=site, limit=FEED_ENTRIES)
        entries = [(article, a.revisions(article.id)[-1]) for article, _ in timeline.items]
        return (site or "tidings"), entries

    def addresses(request: Request, site: str | None, kind: str) -> tuple[str, str, str]:
        """The archive's public address, this feed's and its page's (the front page, or the
        site's timeline), from ``base_url`` when configured (else from the request, whose
        Host header the client chooses). The site's name is one percent-encoded segment:
        the request's own path is decoded, so ``/`` in a name would become a separator."""
        base = web.public_base(request)
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

    def change_addresses(request: Request, site: str | None, kind: str) -> tuple[str, str, str]:
        """As ``addresses``, for the feeds of recent changes: the archive's address, this
        feed's, and the page of those changes."""
        base = web.public_base(request)
        home = f"{base}changes" if site is None else f"{base}site/{site_path(site)}/changes"
        return base, f"{home}.{kind}" + (f"?{request.url.query}" if request.url.query else ""), home

    def _changes_for_feed(request: Request) -> tuple[str | None, str, dict[str, str], list[Change]]:
        site = request.path_params.get("name")
        web.require_site(site)
        words = TEXTS[web.language_of(request)]
        title = words["changes"] if site is None else words["site_changes"].format(site=site)
        return site, title, words, list(web.archive().recent_changes(site, limit=FEED_ENTRIES).items)

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

    return [
        Route("/site/{name:path}/feed.atom", atom_feed),
        Route("/site/{name:path}/feed.json", json_feed),
        Route("/site/{name:path}/changes.atom", changes_atom),
        Route("/site/{name:path}/changes.json", changes_json),
        Route("/changes.atom", changes_atom),
        Route("/changes.json", changes_json),
        Route("/feed.atom", atom_feed),
        Route("/feed.json", json_feed),
    ]
