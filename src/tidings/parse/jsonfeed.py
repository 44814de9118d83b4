"""JSON Feed 1.0 and 1.1 into tidings' model."""

from __future__ import annotations

import json
from typing import Any

from ..errors import FeedParseError, NotAFeedError
from ..model import Enclosure, ParsedEntry, ParsedFeed
from .common import has_cjk, html_to_text, resolve_url, text_to_html
from .dates import parse_date

__all__ = ["parse_json_feed"]


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _author(item: dict[str, Any]) -> str | None:
    authors = item.get("authors")
    if isinstance(authors, list) and authors:
        first = authors[0]
    else:
        first = item.get("author")
    if isinstance(first, dict):
        return _text(first.get("name")) or _text(first.get("url"))
    return _text(first)


def _entry(item: dict[str, Any], base: str | None, language: str | None) -> ParsedEntry:
    title = _text(item.get("title"))
    content = _text(item.get("content_html"))
    if content is None and _text(item.get("content_text")) is not None:
        content = text_to_html(_text(item.get("content_text")) or "")
    enclosures = []
    attachments = item.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else []:
        if isinstance(attachment, dict):
            url = resolve_url(base, _text(attachment.get("url")))
            if url:
                size = attachment.get("size_in_bytes")
                enclosures.append(
                    Enclosure(
                        url,
                        _text(attachment.get("mime_type")),
                        size if isinstance(size, int) and not isinstance(size, bool) else None,
                        title=_text(attachment.get("title")),
                    )
                )
    for key in ("image", "banner_image"):
        url = resolve_url(base, _text(item.get(key)))
        if url:
            enclosures.append(Enclosure(url, None, None, "image", key))
    tags = item.get("tags")
    chinese = (language or "").lower().startswith("zh") or has_cjk(title)
    return ParsedEntry(
        id=_text(item.get("id")),
        link=resolve_url(base, _text(item.get("url")) or _text(item.get("external_url"))),
        title=html_to_text(title) if title is not None else None,
        author=_author(item),
        published=parse_date(_text(item.get("date_published")), chinese=chinese),
        updated=parse_date(_text(item.get("date_modified")), chinese=chinese),
        summary=_text(item.get("summary")),
        content=content,
        enclosures=tuple(enclosures),
        categories=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
        language=_text(item.get("language")) or language,
        base=base,
    )


def parse_json_feed(text: str, url: str | None, encoding: str) -> ParsedFeed:
    """A JSON Feed from its text; NotAFeedError for JSON that is not one."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise FeedParseError(f"malformed JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise NotAFeedError(f"received JSON {type(document).__name__}, not a JSON Feed")
    version_url = _text(document.get("version")) or ""
    items = document.get("items")
    if "jsonfeed.org" not in version_url and not isinstance(items, list):
        keys = ", ".join(list(document)[:5])
        raise NotAFeedError(f"received JSON that is not a JSON Feed (keys: {keys})")
    version = "json11" if version_url.rstrip("/").endswith("1.1") else "json1"
    base = _text(document.get("feed_url")) or url
    language = _text(document.get("language"))
    entries = tuple(
        _entry(item, base, language) for item in (items or []) if isinstance(item, dict)
    )
    author = _author(document)
    title = _text(document.get("title"))
    found = len(items) if isinstance(items, list) else len(entries)
    return ParsedFeed(
        version=version,
        encoding=encoding,
        entries=entries,
        title=html_to_text(title) if title is not None else None,
        link=resolve_url(base, _text(document.get("home_page_url"))),
        subtitle=_text(document.get("description")),
        language=language,
        author=author,
        image=resolve_url(base, _text(document.get("icon")) or _text(document.get("favicon"))),
        item_elements=found,
        skipped_items=found - len(entries),
        next_page=resolve_url(url, _text(document.get("next_url"))),
    )
