"""JSON Lines: one article per line with every revision, for programs and backups.

Each line is an object::

    {"id", "site", "key", "url", "published", "first_seen", "last_seen", "state",
     "state_since", "feed_id", "title", "files": [{"name", "id"}],
     "revisions": [{"id", "seen", "title", "author", "summary", "content_html",
                    "content_hash", "source", "enclosures", "language", "clean_html", "text",
                    "changed", "fingerprint",
                    "images": [{"url", "status", "sha256", "type", "size", "reason", "attempts"}]}],
     "sightings": [{"id", "revision_id", "source", "first_seen", "last_seen", "times",
                    "feed_id", "status", "raw": {"title", "content_html"} or null}],
     "events": [{"at", "old_state", "new_state", "evidence"}]}

``title`` is the current revision's; times are ISO 8601 in UTC (or null);
``content_html`` is exactly as received; ``clean_html`` and ``text`` are what
the cleaning stage derives from it (null until derived); ``changed`` names the parts a
revision changed (see :mod:`tidings.history`). A sighting is a run of looks by one source
that showed one revision; its ``raw`` is the content as received when its bytes differed
from the revision's own. ``events`` are the article's state changes with their evidence.
A revision's ``images`` are those its clean HTML and enclosures show, in order, with what
became of each (``archived`` with the SHA-256, type and size of the file in the media
folder; ``failed``, ``refused`` with the reason; ``pending``).
Articles come in id order; revisions, sightings and events oldest first.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, TextIO

from ..model import Article, DocumentFile, ImageRecord, Revision, Sighting, StateChange, current_of, iso_utc
from ..records import event_record, sighting_record
from ..store import Store
from .walk import articles_with_revisions

__all__ = ["article_record", "export_jsonl"]


def _image_record(image: ImageRecord) -> dict[str, Any]:
    return {
        "url": image.url,
        "status": image.status,
        "sha256": image.sha256,
        "type": image.media_type,
        "size": image.size,
        "reason": image.reason,
        "attempts": image.attempts,
    }


def _revision_record(revision: Revision, images: list[ImageRecord] | None = None) -> dict[str, Any]:
    return {
        "id": revision.id,
        "seen": iso_utc(revision.seen),
        "title": revision.title,
        "author": revision.author,
        "summary": revision.summary,
        "content_html": revision.content_html,
        "content_hash": revision.content_hash,
        "source": revision.source.value,
        "enclosures": list(revision.enclosures),
        "language": revision.language,
        "clean_html": revision.clean_html,
        "text": revision.text,
        "changed": list(revision.changed),
        "fingerprint": revision.fingerprint,
        "images": [_image_record(image) for image in images or ()],
    }


def article_record(
    article: Article,
    revisions: list[Revision],
    files: list[DocumentFile],
    sightings: list[tuple[Sighting, tuple[str, str] | None]] | None = None,
    events: list[StateChange] | None = None,
    images: dict[int, list[ImageRecord]] | None = None,
) -> dict[str, Any]:
    """The JSON object of one article; ``sightings`` pair each with its raw (title, HTML);
    ``images`` are each revision's, by revision id."""
    return {
        "id": article.id,
        "site": article.site,
        "key": article.key,
        "url": article.url,
        "published": iso_utc(article.published),
        "first_seen": iso_utc(article.first_seen),
        "last_seen": iso_utc(article.last_seen),
        "state": article.state.value,
        "state_since": iso_utc(article.state_since),
        "feed_id": article.feed_id,
        "title": current.title if (current := current_of(article, revisions)) else None,
        "files": [{"name": f.file_name, "id": f.file_id} for f in files],
        "revisions": [_revision_record(r, (images or {}).get(r.id)) for r in revisions],
        "sightings": [sighting_record(s, raw) for s, raw in sightings or ()],
        "events": [event_record(e) for e in events or ()],
    }


def export_jsonl(store: Store, out: TextIO, *, site: str | None = None) -> int:
    """Write one JSON line per article to ``out``; returns the number of articles."""
    files: dict[int, list[DocumentFile]] = defaultdict(list)
    for record in store.document_files(site):
        files[record.article_id].append(record)
    count = 0
    for article, own in articles_with_revisions(store, site):
        raws: dict[int, tuple[str, str]] = {}
        sightings = []
        for sighting in store.sightings(article.id):
            raw = None
            if sighting.raw_id is not None:
                if sighting.raw_id not in raws:
                    raws[sighting.raw_id] = store.raw_content(sighting.raw_id)
                raw = raws[sighting.raw_id]
            sightings.append((sighting, raw))
        line = article_record(
            article,
            own,
            files.get(article.id, []),
            sightings,
            store.state_changes(article.id),
            store.revision_images([r.id for r in own]) if own else {},
        )
        out.write(json.dumps(line, ensure_ascii=False))
        out.write("\n")
        count += 1
    return count
