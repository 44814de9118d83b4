"""Feeds of the whole history of a published mirror (RFC 5005 archived feeds).

Each entry is one revision (so an edit is an update of the same entry: its id is the
article's). Revisions are numbered by when tidings stored them, which only grows, and
cut into archive pages of :data:`PER_ARCHIVE` each::

    feed.atom, feed.json                    the subscription documents: the newest entries
    archive/<n>.atom                        archive page n, 1 the oldest
    site/<site>/feed.atom ...               the same for each site

An archive page is written once it is full and never changes after (mirrors and git do
not churn); the subscription document holds every entry not yet in a full page, and at
least the newest :data:`NEWEST`, and links to the newest full page (``prev-archive``),
which links to the one before, down to the first. JSON Feed has no archived form, so
``feed.json`` holds the same entries as ``feed.atom`` and no chain: the history is kept
once per scope, in Atom, which keeps a large mirror small.
"""

from __future__ import annotations

import json
from urllib.parse import quote
from datetime import datetime, timezone

from ..archive import Archive
from ..model import Article
from ..pages import StaticLinks, syndicate
from .files import Mirror, digest

__all__ = ["NEWEST", "PER_ARCHIVE", "write_history_feeds"]

#: Entries of a full archive page.
PER_ARCHIVE = 100
#: Entries the subscription document holds at least.
NEWEST = 50
_NO_TIME = datetime(1970, 1, 1, tzinfo=timezone.utc)


def write_history_feeds(
    archive: Archive,
    mirror: Mirror,
    *,
    site: str | None,
    articles: dict[int, Article],
    links: StaticLinks,
    base_url: str | None,
) -> None:
    """Write the feeds of ``site`` (or of every site in ``articles``) into ``mirror``."""
    store = archive.store
    keys = [key for key in store.revision_keys(site) if key[1] in articles]
    folder = "" if site is None else f"{links.site_folder(site)}/"
    title = site or "tidings"

    def address(path: str, here: str) -> str:
        """An absolute address with ``base_url``, else a link relative to ``here``."""
        return base_url + quote(path, safe="/") if base_url else links.at(here).to(path)

    def page_of(article: Article) -> str:
        if base_url:
            return f"{base_url}article/{article.id}.html"
        return f"urn:x-tidings:article:{article.id}"

    def write(stem: str, chunk: list[tuple[int, int, int]], older: str | None, archived: bool) -> None:
        """``stem``.atom (and for a subscription document ``stem``.json) of the revisions in
        ``chunk``, unless current."""
        stale = []
        for kind in ("atom",) if archived else ("atom", "json"):
            page_digest = digest("feed", kind, chunk, older, archived, title)
            if not mirror.is_current(f"{stem}.{kind}", page_digest):
                stale.append((kind, page_digest))
        if not stale:
            return
        revisions = sorted(store.revisions_by_id([key[0] for key in chunk]), key=lambda r: -r.id)
        entries = [(articles[r.article_id], r) for r in revisions]
        home = f"{folder}index.html"
        for kind, page_digest in stale:
            path = f"{stem}.{kind}"
            older_path = f"{older}.{kind}" if older is not None else None
            if kind == "atom":
                feed_links = [("current", address(f"{folder}feed.atom", path))] if archived else []
                if older_path is not None:
                    feed_links.append(("prev-archive", address(older_path, path)))
                data = syndicate.atom(
                    title,
                    base_url or "",
                    address(path, path),
                    entries,
                    max((r.seen for r in revisions), default=_NO_TIME),
                    home=address(home, path),
                    page_of=page_of,
                    links=feed_links,
                    archive=archived,
                    feed_id=None if base_url else f"urn:x-tidings:feed:{path}",
                )
            else:
                document = syndicate.json_feed(
                    title,
                    base_url or "",
                    address(path, path),
                    entries,
                    home=address(home, path),
                    page_of=page_of,
                )
                data = (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
            mirror.write(path, data)
            mirror.remember(path, page_digest)

    full = len(keys) // PER_ARCHIVE
    for number in range(1, full + 1):
        chunk = keys[(number - 1) * PER_ARCHIVE : number * PER_ARCHIVE]
        write(f"{folder}archive/{number}", chunk, f"{folder}archive/{number - 1}" if number > 1 else None, True)
    newest = keys[min(full * PER_ARCHIVE, max(0, len(keys) - NEWEST)) :]
    write(f"{folder}feed", newest, f"{folder}archive/{full}" if full else None, False)
