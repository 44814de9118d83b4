"""Atom 1.0 and Atom 0.3: entries and feeds into tidings' model.

Text constructs become plain text (titles) or HTML (summary, content): type
``text`` is escaped, ``html`` kept as received, ``xhtml`` serialised from
its markup; Atom 0.3's ``mode="base64"`` and ``mode="escaped"`` are decoded.
``xml:base`` is honoured for links and recorded as the entry's base.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ..model import Enclosure, ParsedEntry
from .common import (
    ARCHIVE_RELATIONS,
    Context,
    element_key,
    first_text,
    has_cjk,
    html_to_text,
    inner_markup,
    int_or_none,
    link_relation,
    resolve_url,
    text_to_html,
)
from .dates import parse_date

__all__ = ["atom_entry", "atom_feed_fields", "atom_key"]

_HTML_TYPES = {"html", "text/html"}
_XHTML_TYPES = {"xhtml", "application/xhtml+xml"}
_PAGE_TYPES = {"text/html", "application/xhtml+xml"}
_TEXT_LIKE = {"text", "html", "xhtml"}
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def atom_key(tag: str, ctx: Context | None = None) -> str:
    """The key of an element in an Atom document, without the ``atom:`` prefix.

    In a feed whose namespace tidings does not know, that namespace counts as Atom's.
    """
    key = element_key(tag)
    if key.startswith("atom:"):
        return key[5:]
    if key[:1] == "{" and ctx is not None and ctx.foreign_namespace is not None:
        namespace, _, local = key[1:].partition("}")
        if namespace == ctx.foreign_namespace:
            return local.lower()
    return key


def text_construct(element: Any, *, as_html: bool, c1: bool = True) -> str:
    """An Atom text construct as HTML (``as_html``) or as plain text."""
    kind = (element.get("type") or "text").strip().lower()
    mode = (element.get("mode") or "").strip().lower()
    if mode == "base64":
        try:
            value = base64.b64decode(element.text or "").decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            value = element.text or ""
        is_markup = kind in _HTML_TYPES or kind in _XHTML_TYPES
    elif kind not in _TEXT_LIKE and not kind.startswith("text/") and not kind.endswith("xml"):
        # Atom 1.0: content of any other media type is base64.
        try:
            value = base64.b64decode(element.text or "").decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            value = element.text or ""
        is_markup = False
    elif kind == "xhtml":
        value = _xhtml(element)
        is_markup = True
    elif kind in _XHTML_TYPES or mode == "xml" or len(element):
        # Atom 0.3 inline XML (and markup left unescaped in a text construct).
        value = inner_markup(element)
        is_markup = True
    elif kind in _HTML_TYPES or mode == "escaped":
        value = inner_markup(element, c1)
        is_markup = True
    else:
        value = inner_markup(element) if len(element) else (element.text or "")
        is_markup = False
    if as_html:
        return value if is_markup else text_to_html(value)
    return html_to_text(value) if is_markup else value.strip()


def _xhtml(element: Any) -> str:
    # The content is usually wrapped in one xhtml:div, which is not part of it.
    children = [c for c in element if isinstance(c.tag, str)]
    if len(children) == 1 and element_key(children[0].tag) in ("xhtml:div", "div") and not (
        element.text or ""
    ).strip():
        element = children[0]
    if len(element) == 0:
        return text_to_html(element.text or "")
    return inner_markup(element)


def _person(element: Any) -> str | None:
    """An author as one string: "name (email)", or whichever of the two there is."""
    name = email = None
    for child in element:
        if not isinstance(child.tag, str):
            continue
        key = atom_key(child.tag)
        if key == "name":
            name = first_text(child)
        elif key == "email":
            email = first_text(child)
    if name and email:
        return f"{name} ({email})"
    return name or email or first_text(element)


def atom_entry(entry: Any, ctx: Context) -> ParsedEntry:
    """One Atom entry."""
    base = ctx.base_of(entry)
    title = link = any_link = identifier = author = summary = content = None
    link_is_html = False
    content_language: str | None = None
    published_text = updated_text = None
    enclosures: list[Enclosure] = []
    categories: list[str] = []
    for child in entry:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        key = atom_key(tag, ctx)
        if key == "title":
            title = text_construct(child, as_html=False)
        elif key == "link":
            rel = (child.get("rel") or "alternate").strip()
            href = resolve_url(
                ctx.base_of(child) if ctx.uses_xml_base else base,
                child.get("href") or first_text(child),
            )
            if not href:
                continue
            if rel == "alternate":
                # The first alternate link, unless a later one is the HTML page.
                is_html = (child.get("type") or "text/html") in _PAGE_TYPES
                if link is None or (is_html and not link_is_html):
                    link, link_is_html = href, is_html
            elif rel == "enclosure":
                enclosures.append(Enclosure(href, child.get("type"), int_or_none(child.get("length")), title=child.get("title")))
            any_link = any_link or href
        elif key == "id":
            identifier = first_text(child)
            if identifier and ":" not in identifier and "/" in identifier and " " not in identifier:
                # A relative id (invalid, but seen) is read against the base, as feedparser does.
                identifier = resolve_url(base, identifier)
        elif key in ("published", "issued", "created"):
            published_text = child.text  # the last one wins, as in feedparser
        elif key in ("updated", "modified"):
            updated_text = child.text  # the last one wins, as in feedparser
        elif key == "author" and author is None:
            author = _person(child)
        elif key == "summary":
            summary = text_construct(child, as_html=True)
        elif key == "content":
            if child.get("src") and not (child.text or len(child)):
                any_link = any_link or resolve_url(base, child.get("src"))
            else:
                content = text_construct(child, as_html=True, c1=ctx.c1)
                content_language = child.get(_XML_LANG)
        elif key == "category":
            term = child.get("term") or child.get("label") or first_text(child)
            if term:
                categories.append(term.strip())
        elif key in ("dc:subject", "media:category"):
            text = first_text(child)
            if text:
                categories.append(text)
        elif key.startswith("media:"):
            url = resolve_url(base, child.get("url"))
            if url:
                medium = "image" if key == "media:thumbnail" else child.get("medium")
                enclosures.append(Enclosure(url, child.get("type"), int_or_none(child.get("fileSize")), medium))
    chinese = ctx.chinese or has_cjk(title)
    return ParsedEntry(
        id=identifier,
        link=link or any_link,
        title=title,
        author=author,
        published=parse_date(published_text, chinese=chinese),
        updated=parse_date(updated_text, chinese=chinese),
        summary=summary,
        content=content,
        enclosures=tuple(enclosures),
        categories=tuple(categories),
        language=ctx.entry_language(entry, content_language),
        base=base,
    )


def atom_feed_fields(root: Any, ctx: Context) -> dict[str, Any]:
    """Feed-level fields of an Atom feed."""
    fields: dict[str, Any] = {}
    for child in root:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        key = atom_key(tag, ctx)
        if key == "title" and "title" not in fields:
            fields["title"] = text_construct(child, as_html=False)
        elif key == "link" and (child.get("rel") or "alternate") == "alternate":
            fields.setdefault("link", resolve_url(ctx.base_of(child), child.get("href")))
        elif key == "link" and link_relation(child.get("rel")) in ARCHIVE_RELATIONS:
            href = resolve_url(ctx.base_of(child), child.get("href"))
            if href:
                fields.setdefault(ARCHIVE_RELATIONS[link_relation(child.get("rel"))], href)
        elif key == "fh:complete":
            fields["complete"] = True
        elif key in ("subtitle", "tagline") and "subtitle" not in fields:
            fields["subtitle"] = text_construct(child, as_html=True)
        elif key in ("updated", "modified"):
            fields.setdefault("updated_text", child.text)
        elif key == "author":
            fields.setdefault("author", _person(child))
        elif key in ("logo", "icon"):
            fields.setdefault("image", resolve_url(ctx.base_of(child), first_text(child)))
        elif key == "id":
            identifier = first_text(child)
            if identifier and ":" not in identifier and "/" in identifier and " " not in identifier:
                identifier = resolve_url(ctx.base_of(child), identifier)
            fields.setdefault("id", identifier)
        elif key == "category":
            term = child.get("term") or child.get("label") or first_text(child)
            if term:
                fields.setdefault("categories", []).append(term.strip())
    return fields
