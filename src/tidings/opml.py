"""OPML subscription lists: read and write.

tidings writes OPML 2.0 with one folder outline per site holding that site's
feeds, and reads any OPML: a feed outline (one with ``xmlUrl``) belongs to
the site named by its enclosing folder outline, else by its own text.
Parsing never resolves entities or fetches anything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from lxml import etree

from .errors import InvalidInputError
from .model import Feed

__all__ = ["OpmlFeed", "read_opml", "write_opml"]


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One subscription found in an OPML file."""

    url: str
    site: str | None
    title: str | None


def _text(outline: Any) -> str | None:
    value = outline.get("text") or outline.get("title")
    return value.strip() if value and value.strip() else None


def read_opml(data: bytes) -> list[OpmlFeed]:
    """The feed outlines of an OPML document; InvalidInputError if it is not OPML."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise InvalidInputError(f"not an OPML file: {exc}") from exc
    if root is None or not isinstance(root.tag, str) or root.tag.rpartition("}")[2].lower() != "opml":
        raise InvalidInputError("not an OPML file (no <opml> root element)")
    found: list[OpmlFeed] = []
    for outline in root.iter("{*}outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url:
            continue
        parent = outline.getparent()
        is_folder = parent is not None and str(parent.tag).rpartition("}")[2] == "outline"
        folder = _text(parent) if is_folder else None
        title = outline.get("title") or outline.get("text")
        found.append(OpmlFeed(url, folder or _text(outline), title.strip() if title else None))
    return found


def write_opml(feeds: Iterable[Feed], now: datetime) -> bytes:
    """An OPML 2.0 document of the subscriptions, one folder per site."""
    root = etree.Element("opml", attrib={"version": "2.0"})
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = "tidings subscriptions"
    etree.SubElement(head, "dateCreated").text = format_datetime(now)
    body = etree.SubElement(root, "body")
    by_site: dict[str, list[Feed]] = defaultdict(list)
    for feed in feeds:
        by_site[feed.site].append(feed)
    for site in sorted(by_site):
        folder = etree.SubElement(body, "outline", attrib={"text": site, "title": site})
        for feed in by_site[site]:
            attributes = {"type": "rss", "text": feed.title or site, "xmlUrl": feed.url}
            if feed.title:
                attributes["title"] = feed.title
            etree.SubElement(folder, "outline", attrib=attributes)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
