"""The JSON API (described by the OpenAPI document at ``/api/openapi.json``): feeds and their
health, articles, revisions, sightings, state changes, recent changes and search. Reading is
open (unless the archive is private); changing the subscriptions needs the token."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..model import Change, FeedOptions, FeedState, iso_utc
from ..records import event_record, feed_record, sighting_record
from .context import PAGE, WebContext, int_param, require_token
from .views import update_feed

__all__ = ["OPENAPI", "api_routes", "change_record"]


def api_routes(web: WebContext) -> list[BaseRoute]:
    """The routes of the JSON API."""

    def api_feeds(request: Request) -> Response:
        return JSONResponse([feed_record(f) for f in web.archive().feeds()])

    async def api_add_feed(request: Request) -> Response:
        require_token(request, web.access)
        try:
            payload = await request.json()
        except ValueError:
            raise HTTPException(400, "the body must be JSON: {\"url\": ..., \"site\": ...}") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("url"), str):
            raise HTTPException(400, "give {\"url\": \"https://...\"}")
        site = payload.get("site") if isinstance(payload.get("site"), str) else None
        feed = await run_in_threadpool(
            lambda: web.archive().add_feed(payload["url"], site=site, options=FeedOptions(), allow_local=web.allow_local_feeds)
        )
        return JSONResponse(feed_record(feed), status_code=201)

    def _feed_ref(request: Request) -> int:
        require_token(request, web.access)
        return int_param(request.path_params["id"])

    def api_remove_feed(request: Request) -> Response:
        return JSONResponse(feed_record(web.archive().remove_feed(_feed_ref(request))))

    def api_pause_feed(request: Request) -> Response:
        return JSONResponse(feed_record(web.archive().set_feed_state(_feed_ref(request), FeedState.PAUSED)))

    def api_resume_feed(request: Request) -> Response:
        return JSONResponse(feed_record(web.archive().set_feed_state(_feed_ref(request), FeedState.ACTIVE)))

    def api_update_feed(request: Request) -> Response:
        a = web.archive()
        feed = a.get_feed(_feed_ref(request))
        summary = update_feed(web, feed.id)
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
        limit = int_param(request.query_params.get("limit", str(PAGE)))
        timeline = web.archive().timeline(site=site, cursor=request.query_params.get("cursor"), limit=limit)
        return JSONResponse(
            {
                "articles": [_article_json(article, title) for article, title in timeline.items],
                "next_cursor": timeline.next_cursor,
            }
        )

    def api_article(request: Request) -> Response:
        a = web.archive()
        article = a.get_article(int_param(request.path_params["id"]))
        revisions = a.revisions(article.id)
        current = a.current_revision(article.id, revisions)
        data = _article_json(article, current.title)
        data["clean_html"] = current.clean_html
        data["revisions"] = len(revisions)
        data["current_revision_id"] = current.id
        return JSONResponse(data)

    def api_sightings(request: Request) -> Response:
        return JSONResponse([sighting_record(s) for s in web.archive().sightings(int_param(request.path_params["id"]))])

    def api_events(request: Request) -> Response:
        return JSONResponse([event_record(e) for e in web.archive().state_changes(int_param(request.path_params["id"]))])

    def api_changes(request: Request) -> Response:
        limit = int_param(request.query_params.get("limit", "50"))
        changes = web.archive().recent_changes(
            request.query_params.get("site"), limit=limit, cursor=request.query_params.get("cursor")
        )
        return JSONResponse(
            {"changes": [change_record(c) for c in changes.items], "next_cursor": changes.next_cursor}
        )

    def api_revisions(request: Request) -> Response:
        revisions = web.archive().revisions(int_param(request.path_params["id"]))
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
        limit = int_param(request.query_params.get("limit", "20"))
        result = web.archive().search(
            request.query_params.get("q", ""),
            limit=limit,
            cursor=request.query_params.get("cursor"),
            sort=request.query_params.get("sort") or None,
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

    return [
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
    ]


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
                    {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["relevance", "new"]}},
                ],
                "responses": {"200": _schema("a page of hits", {"hits": {"type": "array", "items": {"type": "object"}}, "next_cursor": {"type": "string", "nullable": True}}), "400": _ERROR},
            }
        },
    },
    "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
}
