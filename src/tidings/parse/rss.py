"""RSS 0.90–2.0 and RSS 1.0 (RDF): items and channels into tidings' model.

Also read inside items: ``content:encoded``, Dublin Core (``dc:creator``,
``dc:date``, ``dc:subject``, ``dc:language``), ``dcterms:modified``, Media
RSS (``media:content``, ``media:group``, ``media:thumbnail``), enclosures,
``atom:link``, ``feedburner:origLink``. A ``guid`` that is a permalink serves
as the link when there is none (RFA's feeds rely on it).
"""

from __future__ import annotations

from typing import Any

from ..model import Enclosure, ParsedEntry
from .common import (
    ARCHIVE_RELATIONS,
    KEY_CACHE,
    Context,
    element_key,
    first_text,
    has_cjk,
    normalise_language,
    html_to_text,
    inner_markup,
    int_or_none,
    link_relation,
    resolve_url,
)
from .dates import parse_date

__all__ = ["rss_entry", "rss_feed_fields"]

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_AUTHOR_RANK = {"dc:creator": 0, "author": 1, "itunes:author": 2, "dc:author": 1}


def _media(element: Any, key: str, base: str | None, out: list[Enclosure]) -> None:
    if key == "media:group":
        for child in element:
            if isinstance(child.tag, str):
                _media(child, element_key(child.tag), base, out)
        return
    url = resolve_url(base, element.get("url"))
    if not url:
        return
    if key == "media:content":
        out.append(
            Enclosure(
                url,
                element.get("type"),
                int_or_none(element.get("fileSize")),
                element.get("medium"),
            )
        )
    elif key == "media:thumbnail":
        out.append(Enclosure(url, None, None, "image", "thumbnail"))


def _itunes_categories(element: Any, key: str, out: list[str]) -> None:
    if key == "itunes:keywords":
        for word in (element.text or "").split(","):
            word = word.strip()
            if word and word not in out:
                out.append(word)
        return
    text = (element.get("text") or "").strip()
    if text and text not in out:
        out.append(text)
    for child in element:
        if isinstance(child.tag, str) and element_key(child.tag) == "itunes:category":
            _itunes_categories(child, "itunes:category", out)


def rss_entry(item: Any, ctx: Context) -> ParsedEntry:
    """One RSS item."""
    base = ctx.base_of(item)
    title = link = guid = author = summary = content = language = None
    published_text = updated_text = dc_date = None
    permalink = True
    author_rank = 99
    content_language: str | None = None
    original_link = alternate = None
    enclosures: list[Enclosure] = []
    categories: list[str] = []
    keys = KEY_CACHE
    for child in item:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        key = keys.get(tag) or element_key(tag)
        if key == "title":
            title = inner_markup(child)
        elif key in ("dc:title", "media:title") and title is None:
            title = inner_markup(child)
        elif key == "dc:description" and summary is None:
            summary = inner_markup(child)
        elif key == "link":
            link = first_text(child) or child.get("href")
        elif key == "description":
            summary = inner_markup(child)
        elif key == "content:encoded":
            content = inner_markup(child, ctx.c1)
            content_language = child.get(_XML_LANG)
        elif key == "guid":
            guid = first_text(child)
            permalink = (child.get("isPermaLink") or "true").strip().lower() != "false"
        elif key == "pubdate":
            published_text = child.text
        elif key in ("dc:date", "dcterms:issued", "dcterms:created"):
            dc_date = dc_date or child.text
        elif key in ("atom:updated", "dcterms:modified", "atom:modified"):
            updated_text = child.text
        elif key in _AUTHOR_RANK:
            rank = _AUTHOR_RANK[key]
            text = first_text(child)
            if text and rank < author_rank:
                author, author_rank = text, rank
        elif key in ("category", "dc:subject", "media:category"):
            text = first_text(child)
            if text:
                categories.append(text)
        elif key in ("itunes:category", "itunes:keywords"):
            _itunes_categories(child, key, categories)
        elif key in ("itunes:summary", "itunes:subtitle") and summary is None:
            summary = inner_markup(child) if key == "itunes:summary" else summary
        elif key == "enclosure":
            url = resolve_url(base, child.get("url"))
            if url:
                enclosures.append(
                    Enclosure(url, child.get("type"), int_or_none(child.get("length")))
                )
        elif key.startswith("media:"):
            _media(child, key, base, enclosures)
        elif key == "atom:link":
            rel = child.get("rel") or "alternate"
            href = resolve_url(base, child.get("href"))
            if href and rel == "alternate":
                alternate = href
            elif href and rel == "enclosure":
                enclosures.append(
                    Enclosure(href, child.get("type"), int_or_none(child.get("length")))
                )
        elif key == "feedburner:origlink":
            original_link = first_text(child)
        elif key == "dc:language":
            language = normalise_language(first_text(child))
        elif key in ("xhtml:body", "fullitem", "body") and content is None:
            content = inner_markup(child, ctx.c1)
            content_language = child.get(_XML_LANG)

    if title is not None:
        title = html_to_text(title)
    if guid is None:
        guid = item.get(f"{{{_RDF}}}about") or None
    link = resolve_url(base, original_link or link or alternate)
    if link is None and guid and permalink and guid.startswith(("http://", "https://")):
        link = guid
    published = parse_date(published_text or dc_date, chinese=ctx.chinese or has_cjk(title))
    updated = None
    if updated_text or dc_date:
        updated = parse_date(updated_text or dc_date, chinese=ctx.chinese or has_cjk(title))
    return ParsedEntry(
        id=guid,
        link=link,
        title=title,
        author=author,
        published=published,
        updated=updated,
        summary=summary,
        content=content,
        enclosures=tuple(enclosures),
        categories=tuple(categories),
        language=language or ctx.entry_language(item, content_language),
        base=base,
    )


def rss_feed_fields(channel: Any, ctx: Context) -> dict[str, Any]:
    """Feed-level fields from an RSS channel (and, for RDF, the image beside it)."""
    fields: dict[str, Any] = {}
    for child in channel:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        key = element_key(tag)
        if key in ("title", "dc:title") and "title" not in fields:
            fields["title"] = html_to_text(inner_markup(child))
        elif key == "link" and "link" not in fields:
            fields["link"] = resolve_url(ctx.url, first_text(child) or child.get("href"))
        elif key == "atom:link" and (child.get("rel") or "alternate") == "alternate":
            fields.setdefault("link", resolve_url(ctx.url, child.get("href")))
        elif key == "atom:link" and link_relation(child.get("rel")) in ARCHIVE_RELATIONS:
            href = resolve_url(ctx.base_of(child), child.get("href"))
            if href:
                fields.setdefault(ARCHIVE_RELATIONS[link_relation(child.get("rel"))], href)
        elif key == "fh:complete":
            fields["complete"] = True
        elif key in ("description", "itunes:summary", "itunes:subtitle") and "subtitle" not in fields:
            fields["subtitle"] = inner_markup(child)
        elif key in ("category", "dc:subject", "media:category"):
            text = first_text(child)
            if text:
                fields.setdefault("categories", []).append(text)
        elif key in ("itunes:category", "itunes:keywords"):
            _itunes_categories(child, key, fields.setdefault("categories", []))
        elif key in ("language", "dc:language"):
            fields.setdefault("language", normalise_language(first_text(child)))
        elif key in ("lastbuilddate", "pubdate", "dc:date", "atom:updated", "dcterms:modified"):
            fields.setdefault("updated_text", child.text)
        elif key in ("managingeditor", "dc:creator", "itunes:author", "webmaster", "author"):
            fields.setdefault("author", first_text(child))
        elif key == "ttl":
            fields["ttl_minutes"] = int_or_none(child.text)
        elif key == "image":
            for part in child:
                if isinstance(part.tag, str) and element_key(part.tag) == "url":
                    fields.setdefault("image", resolve_url(ctx.url, first_text(part)))
            if child.get(f"{{{_RDF}}}resource"):
                fields.setdefault("image", resolve_url(ctx.url, child.get(f"{{{_RDF}}}resource")))
        elif key == "itunes:image":
            fields.setdefault("image", resolve_url(ctx.url, child.get("href")))
    return fields


_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
