"""What each page shows: the values its template is rendered with, read from an archive.

The web app calls these per request, the publisher once per file, so a page holds the
same things in both. Bodies are the sanitised clean HTML (derived on the spot when a
revision has none yet); ``body_filter`` lets the caller change how images load.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import Any

from ..archive import Archive
from ..diff import inline_diff
from ..errors import ArticleNotFoundError, NotFoundError
from ..media import tag_image_urls
from ..model import Revision, RevisionSource, Sighting, current_of

__all__ = [
    "IMG_TAG", "article_values", "compared_with", "diff_values", "images_as_links", "local_images", "sighting_rows",
]

IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC_ALT = re.compile(r'\s(src|alt)="([^"]*)"')
_IMAGE_TAG = re.compile(r"<(img|source)\b[^>]*>", re.IGNORECASE)
_SRCSET_SIZES = re.compile(r'\s(?:srcset|sizes)="[^"]*"', re.IGNORECASE)
_SRC_VALUE = re.compile(r'(\ssrc=")[^"]*(")', re.IGNORECASE)


def local_images(html_text: str, archived: Mapping[str, tuple[str, str]], link: Callable[[str, str], str]) -> str:
    """Images of ``html_text`` that are archived, shown from the archive: an ``img`` or
    ``source`` any of whose addresses is in ``archived`` (URL → (SHA-256, type)) gets
    ``link(sha256, type)`` as its only source; the others are left for the caller."""
    if not archived:
        return html_text

    def replace(match: re.Match[str]) -> str:
        tag = match.group(0)
        found = next((archived[url] for url in tag_image_urls(tag) if url in archived), None)
        if found is None:
            return tag
        local = html.escape(link(*found), quote=True)
        if match.group(1).lower() == "source":
            return _SRCSET_SIZES.sub("", tag).replace("<source", f'<source srcset="{local}"', 1)
        tag = _SRCSET_SIZES.sub("", tag)
        if _SRC_VALUE.search(tag):
            return _SRC_VALUE.sub(lambda m: f"{m.group(1)}{local}{m.group(2)}", tag, count=1)
        return tag.replace("<img", f'<img src="{local}"', 1)

    return _IMAGE_TAG.sub(replace, html_text)


def images_as_links(html: str) -> str:
    """Outside images as links to them, so that showing a page fetches nothing elsewhere.

    ``html`` is the sanitiser's output, whose attributes are always double-quoted and escaped.
    """

    def replace(match: re.Match[str]) -> str:
        attributes = dict(_SRC_ALT.findall(match.group(0)))
        src = attributes.get("src", "")
        if not src.startswith(("http://", "https://")):
            return match.group(0)  # inline, or the archive's own copy: nothing elsewhere
        label = attributes.get("alt") or "image"
        return f'<a class="image" href="{src}" rel="noopener noreferrer nofollow">[{label}]</a>'

    return IMG_TAG.sub(replace, html)



def compared_with(revisions: list[Revision]) -> dict[int, int]:
    """For each revision but the first, the one its differences are shown against: the
    newest older one of the same kind of source (the feed's content, imports included, or
    the page's full text), else the one before it."""
    found: dict[int, int] = {}
    newest: dict[bool, int] = {}
    for place, revision in enumerate(revisions):
        lane = revision.source is RevisionSource.EXTRACTED
        if lane in newest:
            found[revision.id] = newest[lane]
        elif place > 0:
            found[revision.id] = revisions[place - 1].id
        newest[lane] = revision.id
    return found


def sighting_rows(sightings: list[Sighting]) -> list[tuple[Sighting, bool]]:
    """Each sighting with whether it is a revert: its source had shown a newer revision before."""
    rows = []
    newest: dict[str, int] = {}
    for sighting in sightings:
        rows.append((sighting, sighting.revision_id < newest.get(sighting.source, 0)))
        newest[sighting.source] = max(newest.get(sighting.source, 0), sighting.revision_id)
    return rows


def article_values(
    a: Archive, article_id: int, *, body_filter: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """An article's page: its current revision's clean body, every revision, sightings and
    state changes with their evidence."""
    article = a.get_article(article_id)
    store = a.store  # the article exists: read the rest without checking it again
    revisions = store.revisions(article_id)
    current = current_of(article, revisions)
    if current is None:
        raise ArticleNotFoundError(f"article {article_id} has no revision")
    body = current.clean_html
    if body is None:
        body = a.cleaner.clean(current.content_html, base_url=article.url, site_url=article.url).html
    if body_filter is not None:
        body = body_filter(body)
    events = store.state_changes(article_id)
    return {
        "article": article,
        "revision": current,
        "revisions": revisions,
        "dates": a.revision_dates(article_id, article=article, revisions=revisions),
        "body": body,
        "numbers": {r.id: place + 1 for place, r in enumerate(revisions)},
        "compared_with": compared_with(revisions),
        "sightings": sighting_rows(store.sightings(article_id)),
        "events": events,
        "state_event": events[-1] if events and events[-1].new_state is article.state else None,
    }


def diff_values(a: Archive, article_id: int, old_id: int | None, new_id: int | None) -> dict[str, Any]:
    """The differences between two revisions of an article: ``new_id`` (else the newest)
    against ``old_id`` (else the one before it). NotFoundError when either is not the
    article's."""
    article = a.get_article(article_id)
    revisions = a.revisions(article_id)
    if not revisions:
        return {"article": article, "old": None, "new": None, "dates": {}}
    by_id = {r.id: r for r in revisions}
    new = by_id.get(new_id) if new_id is not None else revisions[-1]
    if new is None:
        raise NotFoundError("no such revisions of this article")
    if old_id is not None:
        old = by_id.get(old_id)
        if old is None:
            raise NotFoundError("no such revisions of this article")
    else:
        place = revisions.index(new)
        old = revisions[place - 1] if place > 0 else None
    return {
        "article": article,
        "old": old,
        "new": new,
        "dates": a.revision_dates(article_id),
        "title_diff": inline_diff(old.title, new.title) if old else "",
        "text_diff": inline_diff(old.text or "", new.text or "") if old else "",
    }
