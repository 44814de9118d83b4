"""Which article an entry is: the identity rule, as pure functions.

An entry's key is its GUID (RSS ``guid``, Atom ``id``, JSON Feed ``id``);
without one, its canonical link; without that, a hash of its title and
publication time. An entry matches an existing article of the same site when
the keys are equal **or when the canonical links are equal**: some outlets
(DW, RFI) put the title into the GUID, so an edited headline brings a new GUID
for the same story, and the link is what stays. The canonical link is the
WHATWG-serialised URL without its fragment and without tracking parameters
(``utm_*``, ``fbclid``, ``gclid``, ...).

A matched entry whose title and content are unchanged is only "seen"; one
whose content differs becomes a new revision; an unmatched one a new article.
Entries of one document that are the same story are taken once (the first).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from ada_url import URL

from .model import ArticleRef, ParsedEntry, content_hash

__all__ = ["Planned", "canonical_url", "entry_content", "entry_key", "plan_entries"]

_TRACKING = re.compile(r"^(?:utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|igshid)$", re.I)


def canonical_url(link: str | None) -> str | None:
    """The link an article is known by, or None when there is no usable link."""
    if not link:
        return None
    try:
        url = URL(link.strip())
    except ValueError:
        return None
    if url.protocol not in ("http:", "https:"):
        return url.href
    url.hash = ""
    if url.search:
        pairs = parse_qsl(url.search[1:], keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if not _TRACKING.match(k)]
        if len(kept) != len(pairs):
            url.search = urlencode(kept) if kept else ""
    return url.href


def entry_key(entry: ParsedEntry, url: str | None) -> str:
    """The identity key of an entry (see the module docstring)."""
    if entry.id and entry.id.strip():
        return entry.id.strip()
    if url:
        return url
    published = entry.published.isoformat() if entry.published else ""
    digest = hashlib.sha256(f"{entry.title or ''}\x00{published}".encode("utf-8", "surrogatepass"))
    return "hash:" + digest.hexdigest()[:32]


def entry_content(entry: ParsedEntry) -> str:
    """The HTML a revision keeps: the full content, else the summary (exactly as received)."""
    if entry.content is not None:
        return entry.content
    return entry.summary or ""


@dataclass(frozen=True, slots=True)
class Planned:
    """What to do with one entry: ``new``, ``changed`` or ``seen``."""

    entry: ParsedEntry
    key: str
    url: str | None
    action: str
    article_id: int | None = None


def plan_entries(entries: Iterable[ParsedEntry], existing: Iterable[ArticleRef]) -> list[Planned]:
    """Decide, for each entry, whether it is new, changed or only seen again."""
    by_key: dict[str, ArticleRef] = {}
    by_url: dict[str, ArticleRef] = {}
    for known in existing:
        by_key[known.key] = known
        by_url.setdefault(known.url, known)
    plan: list[Planned] = []
    taken: set[str] = set()  # keys and urls of stories already planned from this document
    for entry in entries:
        url = canonical_url(entry.link)
        key = entry_key(entry, url)
        if key in taken or (url is not None and url in taken):
            continue
        taken.add(key)
        if url is not None:
            taken.add(url)
        ref: ArticleRef | None = by_key.get(key) or (by_url.get(url) if url is not None else None)
        if ref is None:
            plan.append(Planned(entry, key, url, "new"))
            continue
        digest = content_hash(entry.title or "", entry_content(entry))
        action = "seen" if digest == ref.current_hash else "changed"
        plan.append(Planned(entry, key, url, action, ref.id))
    return plan
