"""Feeds of the archive itself: Atom 1.0 and JSON Feed 1.1, with full (clean) content.

Each entry is the article's current revision; its id is stable (a tag URI built
from the article's id), so a reader subscribed to the archive sees an edited
article as an update of the same entry, not a new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from lxml import etree

from ..fetch.addresses import is_web_url
from ..model import Article, Revision, iso_utc

ATOM = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"

Entry = tuple[Article, Revision]


def _entry_id(base: str, article: Article) -> str:
    return f"{base.rstrip('/')}/article/{article.id}"


def _updated(entries: Sequence[Entry], fallback: datetime) -> datetime:
    return max((revision.seen for _, revision in entries), default=fallback)


def _content(revision: Revision) -> str:
    return revision.clean_html if revision.clean_html is not None else ""


def atom(
    title: str, base: str, self_url: str, entries: Sequence[Entry], now: datetime, *, home: str | None = None
) -> bytes:
    """An Atom 1.0 document of ``entries`` (newest first); ``home`` is the page the feed
    stands for (a site's timeline), the archive's front page by default."""
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    etree.SubElement(feed, f"{{{ATOM}}}id").text = _xml_safe(self_url)
    etree.SubElement(feed, f"{{{ATOM}}}title").text = _xml_safe(title)
    etree.SubElement(feed, f"{{{ATOM}}}updated").text = iso_utc(_updated(entries, now))
    etree.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=_xml_safe(self_url))
    etree.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=_xml_safe(home or base))
    etree.SubElement(feed, f"{{{ATOM}}}generator").text = "tidings"
    for article, revision in entries:
        entry = etree.SubElement(feed, f"{{{ATOM}}}entry")
        etree.SubElement(entry, f"{{{ATOM}}}id").text = _xml_safe(_entry_id(base, article))
        etree.SubElement(entry, f"{{{ATOM}}}title").text = _xml_safe(revision.title)
        etree.SubElement(entry, f"{{{ATOM}}}updated").text = iso_utc(revision.seen)
        if article.published is not None:
            etree.SubElement(entry, f"{{{ATOM}}}published").text = iso_utc(article.published)
        author = etree.SubElement(entry, f"{{{ATOM}}}author")
        etree.SubElement(author, f"{{{ATOM}}}name").text = _xml_safe(revision.author or article.site)
        if is_web_url(article.url):
            etree.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=_xml_safe(article.url))
        etree.SubElement(entry, f"{{{ATOM}}}link", rel="via", href=_xml_safe(_entry_id(base, article)))
        etree.SubElement(entry, f"{{{ATOM}}}category", term=_xml_safe(article.site))
        content = etree.SubElement(entry, f"{{{ATOM}}}content", type="html")
        content.text = _xml_safe(_content(revision))
    return bytes(etree.tostring(feed, xml_declaration=True, encoding="utf-8"))


def json_feed(
    title: str, base: str, self_url: str, entries: Sequence[Entry], *, home: str | None = None
) -> dict[str, Any]:
    """A JSON Feed 1.1 document of ``entries`` (newest first); ``home`` as for :func:`atom`."""
    items = []
    for article, revision in entries:
        item: dict[str, Any] = {
            "id": _entry_id(base, article),
            "url": article.url if is_web_url(article.url) else _entry_id(base, article),
            "external_url": _entry_id(base, article),
            "title": revision.title,
            "content_html": _content(revision),
            "date_modified": iso_utc(revision.seen),
            "authors": [{"name": revision.author or article.site}],
            "tags": [article.site],
        }
        if article.published is not None:
            item["date_published"] = iso_utc(article.published)
        if revision.language:
            item["language"] = revision.language
        items.append(item)
    return {
        "version": JSON_FEED_VERSION,
        "title": title,
        "home_page_url": home or base,
        "feed_url": self_url,
        "items": items,
    }


def _xml_safe(text: str) -> str:
    """Drop the characters XML 1.0 cannot carry (controls other than tab, newline, return)."""
    return "".join(
        ch
        for ch in text
        if ch in "\t\n\r" or ("\x20" <= ch <= "\ud7ff") or ("\ue000" <= ch <= "\ufffd") or ch >= "\U00010000"
    )
