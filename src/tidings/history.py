"""What counts as an edit, and what a disappearance is: the pure decisions of history.

**Same revision or not.** Two contents of an article are the same revision when their
*fingerprints* are equal. The fingerprint is taken from the title and the *clean* HTML
(what :class:`~tidings.clean.Cleaner` keeps), so whatever the cleaning rules remove
(share widgets, the feedx footer, tracking pixels, ``utm_*`` and other tracking
parameters) never makes an edit, and it is insensitive to whitespace (any run is one
space), to the order of attributes, to entity spelling (``&#20013;`` is 中), and to the
query of an image address (cache-busting ``?v=123``). Everything else — a word, a link's
target, an image, the title — is an edit. The raw bytes of every variant are still kept.

**What changed.** :func:`changed_parts` names the parts in which a new revision differs
from the one that was current: ``title``, ``body`` (the text), ``author``, ``links`` (the
set of link targets), ``images`` (the set of image addresses, queries ignored).

**Looking again.** Young articles are re-checked through their pages on a decaying
schedule (:data:`RECHECK_SCHEDULE`, :func:`recheck_due`): every 30 minutes while under six
hours old, hourly under a day, every six hours under a week, daily under a month, then
never.

**Disappearance.** An article is *missing* when its feed no longer lists it while an item
published before it still is there (so it did not just fall off the end of the feed):
:func:`vanished`. Checking its link then decides: 404 or 410, or a redirect to the site's
front page or to another page, is *deleted*; a page that still answers keeps it missing
(:func:`verdict`).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from .model import Article, ArticleState, Revision

__all__ = [
    "RECHECK_SCHEDULE",
    "changed_parts",
    "fingerprint",
    "image_addresses",
    "link_targets",
    "recheck_due",
    "vanished",
    "verdict",
]

#: How often a young article's page is looked at again, by its age: (under this age, every).
#: Older than the last age, it is not re-checked any more.
RECHECK_SCHEDULE: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(hours=6), timedelta(minutes=30)),
    (timedelta(days=1), timedelta(hours=1)),
    (timedelta(days=7), timedelta(hours=6)),
    (timedelta(days=30), timedelta(days=1)),
)

_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>|<!--.*?-->", re.S)
_ATTRIBUTE = re.compile(r"([^\s=/>\"']+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?")
_SPACE = re.compile(r"\s+")
_IMAGE_ATTRIBUTES = {"src", "srcset", "data-src", "poster"}


def _unquote(value: str | None) -> str:
    if value is None:
        return ""
    if value[:1] in "\"'" and value[-1:] == value[:1]:
        value = value[1:-1]
    return html.unescape(value).strip()


def _without_query(address: str) -> str:
    return address.split("?", 1)[0].split("#", 1)[0]


def _canonical_attributes(tag: str, text: str) -> str:
    pairs = []
    for match in _ATTRIBUTE.finditer(text):
        name = match.group(1).lower()
        value = _unquote(match.group(2))
        if name in _IMAGE_ATTRIBUTES and tag in ("img", "source", "video"):
            value = " ".join(_without_query(part) for part in _SPACE.split(value) if "://" in part or "/" in part)
        pairs.append(f"{name}={_SPACE.sub(' ', value)}")
    return " ".join(sorted(pairs))


def _canonical(clean_html: str) -> str:
    out: list[str] = []
    position = 0
    for match in _TAG.finditer(clean_html):
        text = _SPACE.sub(" ", html.unescape(clean_html[position : match.start()]))
        if text.strip():
            out.append(text.strip())
        position = match.end()
        if match.group(2) is None:
            continue  # a comment
        closing, tag = match.group(1), match.group(2).lower()
        out.append(f"<{closing}{tag} {_canonical_attributes(tag, match.group(3) or '')}>")
    tail = _SPACE.sub(" ", html.unescape(clean_html[position:])).strip()
    if tail:
        out.append(tail)
    return "\n".join(out)


def fingerprint(title: str, clean_html: str) -> str:
    """What decides whether two contents are one revision (see the module's docstring)."""
    digest = hashlib.sha256()
    digest.update(_SPACE.sub(" ", html.unescape(title)).strip().encode("utf-8"))
    digest.update(b"\0")
    digest.update(_canonical(clean_html).encode("utf-8"))
    return digest.hexdigest()


def link_targets(clean_html: str) -> frozenset[str]:
    """Where an article's links point."""
    found = set()
    for match in _TAG.finditer(clean_html):
        if match.group(2) and match.group(2).lower() == "a" and not match.group(1):
            for attribute in _ATTRIBUTE.finditer(match.group(3) or ""):
                if attribute.group(1).lower() == "href":
                    found.add(_unquote(attribute.group(2)))
    return frozenset(found)


def image_addresses(clean_html: str) -> frozenset[str]:
    """The images an article shows, their queries ignored."""
    found = set()
    for match in _TAG.finditer(clean_html):
        if match.group(2) and match.group(2).lower() == "img" and not match.group(1):
            for attribute in _ATTRIBUTE.finditer(match.group(3) or ""):
                if attribute.group(1).lower() == "src":
                    found.add(_without_query(_unquote(attribute.group(2))))
    return frozenset(found)


def _same_text(a: str | None, b: str | None) -> bool:
    return _SPACE.sub(" ", a or "").strip() == _SPACE.sub(" ", b or "").strip()


def changed_parts(
    old: Revision | None,
    *,
    title: str,
    text: str,
    clean_html: str,
    author: str | None,
    old_clean_html: str | None = None,
    old_text: str | None = None,
) -> tuple[str, ...]:
    """The parts of a new content that differ from ``old`` (the revision current before it),
    in a fixed order; empty for an article's first revision."""
    if old is None:
        return ()
    before_html = old_clean_html if old_clean_html is not None else (old.clean_html or "")
    before_text = old_text if old_text is not None else (old.text or "")
    parts = []
    if not _same_text(html.unescape(old.title), html.unescape(title)):
        parts.append("title")
    if not _same_text(before_text, text):
        parts.append("body")
    if not _same_text(old.author, author):
        parts.append("author")
    if link_targets(before_html) != link_targets(clean_html):
        parts.append("links")
    if image_addresses(before_html) != image_addresses(clean_html):
        parts.append("images")
    return tuple(parts)


def vanished(
    listed: Iterable[Article],
    present_keys: set[str],
    present_urls: set[str],
    document_times: Sequence[datetime | None],
    *,
    previous_document: datetime | None,
) -> list[Article]:
    """Of the present articles of a feed, the ones its new document no longer lists (by key
    or canonical link) although they were in its previous document (last seen at
    ``previous_document``) and an item published before them is still listed: those did
    not fall off the end, they were taken out. Without dates in the document nothing is
    judged (no false disappearances)."""
    times = [t for t in document_times if t is not None]
    if not times or previous_document is None:
        return []
    oldest_listed = min(times)
    gone = []
    for article in listed:
        if article.key in present_keys or article.url in present_urls:
            continue
        if article.last_seen < previous_document:
            continue  # not in the previous document either: judged before, or never listed
        when = article.published or article.first_seen
        if when > oldest_listed:
            gone.append(article)
    return gone


def _host(name: str | None) -> str:
    name = (name or "").lower()
    return name[4:] if name.startswith("www.") else name


def verdict(article_url: str, status: int | None, final_url: str | None) -> tuple[ArticleState, str]:
    """What checking a missing article's link shows: ``deleted`` for 404/410, or a redirect
    to the site's front page or to another page; ``missing`` when the page still answers
    (or the check could not tell). The reason is for the event's evidence."""
    if status in (404, 410):
        return ArticleState.DELETED, f"the link answers {status}"
    if final_url and final_url != article_url:
        target = urlsplit(final_url)
        origin = urlsplit(article_url)
        if target.path in ("", "/") or (target.path.rstrip("/") == "" and not target.query):
            return ArticleState.DELETED, "the link redirects to the site's front page"
        if (_host(target.hostname), target.path.rstrip("/")) != (_host(origin.hostname), origin.path.rstrip("/")):
            return ArticleState.DELETED, "the link redirects to another page"
    if status is not None and 200 <= status < 300:
        return ArticleState.MISSING, f"the page still answers {status}"
    return ArticleState.MISSING, f"the check was not conclusive ({status if status is not None else 'no answer'})"


def recheck_due(
    first_seen: datetime,
    last_checked: datetime | None,
    now: datetime,
    schedule: Sequence[tuple[timedelta, timedelta]] = RECHECK_SCHEDULE,
) -> bool:
    """Whether an article's page is due for another look: its age picks the interval from
    ``schedule`` (none past the last age), counted from the last look (the feed's first
    showing counts as one)."""
    age = now - first_seen
    for under, every in schedule:
        if age < under:
            return now - (last_checked or first_seen) >= every
    return False

