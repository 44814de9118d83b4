"""Feeds of the archive itself: Atom 1.0 and JSON Feed 1.1, with full (clean) content.

Each entry is the article's current revision; its id is stable (a tag URI built
from the article's id), so a reader subscribed to the archive sees an edited
article as an update of the same entry, not a new one.

The feeds of recent changes have one entry per change (an edit, or an article going
missing, deleted or back): an edit's id is its difference page, a state change's its
anchor on the article page, so each change is one entry for good.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from lxml import etree

from ..fetch.addresses import is_web_url
from ..model import Article, ArticleState, Change, Revision, iso_utc

ATOM = "http://www.w3.org/2005/Atom"
FEED_HISTORY = "http://purl.org/syndication/history/1.0"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"

Entry = tuple[Article, Revision]


def _entry_id(base: str, article: Article) -> str:
    return f"{base.rstrip('/')}/article/{article.id}"


def _updated(entries: Sequence[Entry], fallback: datetime) -> datetime:
    return max((revision.seen for _, revision in entries), default=fallback)


def _content(revision: Revision) -> str:
    return revision.clean_html if revision.clean_html is not None else ""


def atom(
    title: str,
    base: str,
    self_url: str,
    entries: Sequence[Entry],
    now: datetime,
    *,
    home: str | None = None,
    page_of: Callable[[Article], str] | None = None,
    links: Sequence[tuple[str, str]] = (),
    archive: bool = False,
    feed_id: str | None = None,
) -> bytes:
    """An Atom 1.0 document of ``entries`` (newest first); ``home`` is the page the feed
    stands for (a site's timeline), the archive's front page by default.

    ``page_of`` gives an article's page (its entry id), the web app's by default;
    ``links`` are more (rel, href) links of the feed (RFC 5005 ``prev-archive``,
    ``current``); ``archive`` marks an archive document (``fh:archive``); ``feed_id`` is the
    feed's id when its own address is not absolute."""
    entry_id = page_of or (lambda article: _entry_id(base, article))
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM, "fh": FEED_HISTORY})
    etree.SubElement(feed, f"{{{ATOM}}}id").text = _xml_safe(feed_id or self_url)
    etree.SubElement(feed, f"{{{ATOM}}}title").text = _xml_safe(title)
    etree.SubElement(feed, f"{{{ATOM}}}updated").text = iso_utc(_updated(entries, now))
    etree.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=_xml_safe(self_url))
    etree.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=_xml_safe(home or base))
    for rel, href in links:
        etree.SubElement(feed, f"{{{ATOM}}}link", rel=rel, href=_xml_safe(href))
    etree.SubElement(feed, f"{{{ATOM}}}generator").text = "tidings"
    if archive:
        etree.SubElement(feed, f"{{{FEED_HISTORY}}}archive")
    for article, revision in entries:
        entry = etree.SubElement(feed, f"{{{ATOM}}}entry")
        etree.SubElement(entry, f"{{{ATOM}}}id").text = _xml_safe(entry_id(article))
        etree.SubElement(entry, f"{{{ATOM}}}title").text = _xml_safe(revision.title)
        etree.SubElement(entry, f"{{{ATOM}}}updated").text = iso_utc(revision.seen)
        if article.published is not None:
            etree.SubElement(entry, f"{{{ATOM}}}published").text = iso_utc(article.published)
        author = etree.SubElement(entry, f"{{{ATOM}}}author")
        etree.SubElement(author, f"{{{ATOM}}}name").text = _xml_safe(revision.author or article.site)
        if is_web_url(article.url):
            etree.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=_xml_safe(article.url))
        etree.SubElement(entry, f"{{{ATOM}}}link", rel="via", href=_xml_safe(entry_id(article)))
        etree.SubElement(entry, f"{{{ATOM}}}category", term=_xml_safe(article.site))
        content = etree.SubElement(entry, f"{{{ATOM}}}content", type="html")
        content.text = _xml_safe(_content(revision))
    return bytes(etree.tostring(feed, xml_declaration=True, encoding="utf-8"))


def json_feed(
    title: str,
    base: str,
    self_url: str,
    entries: Sequence[Entry],
    *,
    home: str | None = None,
    page_of: Callable[[Article], str] | None = None,
    next_url: str | None = None,
) -> dict[str, Any]:
    """A JSON Feed 1.1 document of ``entries`` (newest first); ``home`` and ``page_of`` as
    for :func:`atom`; ``next_url`` is the page of older entries (JSON Feed's paging)."""
    entry_id = page_of or (lambda article: _entry_id(base, article))
    items = []
    for article, revision in entries:
        item: dict[str, Any] = {
            "id": entry_id(article),
            "url": article.url if is_web_url(article.url) else entry_id(article),
            "external_url": entry_id(article),
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
    document: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": title,
        "home_page_url": home or base,
        "feed_url": self_url,
    }
    if next_url is not None:
        document["next_url"] = next_url
    document["items"] = items
    return document


def change_page(base: str, change: Change) -> str:
    """Where a change is shown: an edit's difference page, a state change's place on its
    article's page. Also the change's stable id in the feeds."""
    root = base.rstrip("/")
    if change.kind == "edit":
        return f"{root}/article/{change.article_id}/diff?from={change.previous_revision_id}&to={change.revision_id}"
    return f"{root}/article/{change.article_id}#event-{change.id}"


_STATE_TITLES = {ArticleState.PRESENT: "came_back", ArticleState.MISSING: "went_missing", ArticleState.DELETED: "was_deleted"}


def change_title(change: Change, words: Mapping[str, str]) -> str:
    """``Edited: <title>``, ``Missing: <title>``, ... in the reader's language."""
    if change.kind == "edit":
        label = words["edited"]
    else:
        label = words[_STATE_TITLES.get(change.new_state or ArticleState.PRESENT, "came_back")]
    return f"{label}: {change.title or change.url}"


def _change_html(base: str, change: Change, words: Mapping[str, str]) -> str:
    """A short HTML account of a change: what changed and a link to the differences, or
    the evidence of a state change and a link to the article."""
    esc = html.escape
    parts: list[str] = [f"<p>{esc(change.site)}</p>"]
    if change.kind == "edit":
        changed = ", ".join(words.get(f"changed_{part}", part) for part in change.changed) or "-"
        parts.append(f"<p>{esc(words['changed'])}: {esc(changed)}</p>")
        parts.append(f'<p><a href="{esc(change_page(base, change))}">{esc(words["see_diff"])}</a></p>')
    else:
        evidence = dict(change.evidence)
        reason = evidence.pop("reason", None)
        if reason:
            parts.append(f"<p>{esc(str(reason))}</p>")
        if evidence:
            items = "".join(f"<li>{esc(key)}: {esc(str(value))}</li>" for key, value in evidence.items())
            parts.append(f"<ul>{items}</ul>")
        parts.append(f'<p><a href="{esc(change_page(base, change))}">{esc(words["see_article"])}</a></p>')
    return "".join(parts)


def _change_category(change: Change) -> str:
    return "edit" if change.kind == "edit" else (change.new_state or ArticleState.PRESENT).value


def changes_atom(
    title: str,
    base: str,
    self_url: str,
    changes: Sequence[Change],
    now: datetime,
    *,
    home: str,
    words: Mapping[str, str],
) -> bytes:
    """An Atom 1.0 document of recent changes (newest first), one entry per change;
    ``home`` is the page of those changes, ``words`` the interface's words."""
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    etree.SubElement(feed, f"{{{ATOM}}}id").text = _xml_safe(self_url)
    etree.SubElement(feed, f"{{{ATOM}}}title").text = _xml_safe(title)
    etree.SubElement(feed, f"{{{ATOM}}}updated").text = iso_utc(max((c.at for c in changes), default=now))
    etree.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=_xml_safe(self_url))
    etree.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=_xml_safe(home))
    etree.SubElement(feed, f"{{{ATOM}}}generator").text = "tidings"
    for change in changes:
        entry = etree.SubElement(feed, f"{{{ATOM}}}entry")
        etree.SubElement(entry, f"{{{ATOM}}}id").text = _xml_safe(change_page(base, change))
        etree.SubElement(entry, f"{{{ATOM}}}title").text = _xml_safe(change_title(change, words))
        etree.SubElement(entry, f"{{{ATOM}}}updated").text = iso_utc(change.at)
        author = etree.SubElement(entry, f"{{{ATOM}}}author")
        etree.SubElement(author, f"{{{ATOM}}}name").text = _xml_safe(change.site)
        etree.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=_xml_safe(change_page(base, change)))
        if is_web_url(change.url):
            etree.SubElement(entry, f"{{{ATOM}}}link", rel="related", href=_xml_safe(change.url))
        etree.SubElement(entry, f"{{{ATOM}}}category", term=_xml_safe(change.site))
        etree.SubElement(entry, f"{{{ATOM}}}category", term=_change_category(change))
        content = etree.SubElement(entry, f"{{{ATOM}}}content", type="html")
        content.text = _xml_safe(_change_html(base, change, words))
    return bytes(etree.tostring(feed, xml_declaration=True, encoding="utf-8"))


def changes_json_feed(
    title: str, base: str, self_url: str, changes: Sequence[Change], *, home: str, words: Mapping[str, str]
) -> dict[str, Any]:
    """A JSON Feed 1.1 document of recent changes, as :func:`changes_atom`."""
    items = []
    for change in changes:
        item: dict[str, Any] = {
            "id": change_page(base, change),
            "url": change_page(base, change),
            "title": change_title(change, words),
            "content_html": _change_html(base, change, words),
            "date_published": iso_utc(change.at),
            "authors": [{"name": change.site}],
            "tags": [change.site, _change_category(change)],
        }
        if is_web_url(change.url):
            item["external_url"] = change.url
        items.append(item)
    return {"version": JSON_FEED_VERSION, "title": title, "home_page_url": home, "feed_url": self_url, "items": items}


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    """Drop the characters XML 1.0 cannot carry (controls other than tab, newline, return)."""
    return _NOT_XML.sub("", text)
