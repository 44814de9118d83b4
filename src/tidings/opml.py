"""OPML subscription lists: read and write.

tidings writes OPML 2.0 with one folder outline per site holding that site's
feeds, and reads any OPML: a feed outline (one with ``xmlUrl``) belongs to
the site named by its enclosing folder outline, else by its own text.
Parsing never resolves entities or fetches anything.

A feed outline also carries tidings' own settings for the feed, in the
namespace :data:`NAMESPACE` (``tidings:interval`` in minutes, ``tidings:fullText``,
``tidings:keepTitle``, ``tidings:blockCategory`` …), so that exporting the
subscriptions and importing them elsewhere keeps every feed's schedule and
rules; other readers ignore them.
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
from .model import Feed, FeedOptions

__all__ = ["NAMESPACE", "OpmlFeed", "read_opml", "write_opml"]

#: The namespace of tidings' own outline attributes.
NAMESPACE = "urn:x-tidings:opml:1"
#: FeedOptions field -> attribute name (camelCase, as OPML's own attributes are).
_OPTION_ATTRIBUTES = {
    "keep_title": "keepTitle",
    "keep_category": "keepCategory",
    "keep_author": "keepAuthor",
    "block_title": "blockTitle",
    "block_category": "blockCategory",
    "block_author": "blockAuthor",
    "full_text": "fullText",
}


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One subscription found in an OPML file."""

    url: str
    site: str | None
    title: str | None
    interval_minutes: float | None = None
    options: FeedOptions = FeedOptions()


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
        interval, options = _settings(outline)
        found.append(
            OpmlFeed(url, folder or _text(outline), title.strip() if title else None, interval, options)
        )
    return found


def _settings(outline: Any) -> tuple[float | None, FeedOptions]:
    """tidings' own settings on a feed outline; values that cannot be used are ignored."""
    interval: float | None = None
    text = outline.get(f"{{{NAMESPACE}}}interval")
    if text:
        try:
            interval = float(text)
        except ValueError:
            interval = None
        if interval is not None and not (1 <= interval <= 366 * 24 * 60):
            interval = None
    values: dict[str, Any] = {}
    for field_name, attribute in _OPTION_ATTRIBUTES.items():
        value = outline.get(f"{{{NAMESPACE}}}{attribute}")
        if value:
            values[field_name] = value
    if values.get("full_text") not in (None, "auto", "always", "never"):
        del values["full_text"]
    if outline.get(f"{{{NAMESPACE}}}recheck", "").strip().lower() == "false":
        values["recheck"] = False
    return interval, FeedOptions(**values)


def write_opml(feeds: Iterable[Feed], now: datetime | None) -> bytes:
    """An OPML 2.0 document of the subscriptions, one folder per site, with each feed's
    interval and rules as attributes of :data:`NAMESPACE`; dated ``now`` unless None (a
    published mirror's copy is undated, so it changes only when the subscriptions do)."""
    root = etree.Element("opml", attrib={"version": "2.0"}, nsmap={"tidings": NAMESPACE})
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = "tidings subscriptions"
    if now is not None:
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
            attributes[f"{{{NAMESPACE}}}interval"] = f"{feed.interval_seconds / 60:g}"
            defaults = FeedOptions()
            for field_name, attribute in _OPTION_ATTRIBUTES.items():
                value = getattr(feed.options, field_name)
                if value is not None and value != getattr(defaults, field_name):
                    attributes[f"{{{NAMESPACE}}}{attribute}"] = value
            if not feed.options.recheck:
                attributes[f"{{{NAMESPACE}}}recheck"] = "false"
            etree.SubElement(folder, "outline", attrib=attributes)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
