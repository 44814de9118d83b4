"""Backfill: walking a feed's archive once, so that a new subscription starts with the
outlet's history.

A feed links to its history in one of two ways (RFC 5005): an *archived* feed's
documents link to the previous archive document (``rel="prev-archive"``), a *paged*
feed's to its next page (``rel="next"``, in Atom or as ``atom:link`` in an RSS
channel; JSON Feed's ``next_url``). A feed marked ``fh:complete`` holds every entry
there is and has no archive. :func:`backfill_feed` reads the feed's document for its
link, then follows the chain page by page, storing every page's entries exactly as an
update stores a feed's (the same identity rules, revisions and sightings, the same
keep/block rules), each page in its own transaction. It stops:

* at a page it has already read (a loop),
* at a page that fails (the failure goes into the feed's fetch log; what was stored stays),
* at the bound in pages or in time,
* at a page that adds nothing new (the rest of the chain was read before),
* where the chain ends.

Pages come through the same polite fetcher as updates (per-host limits, back-off, size
bounds), as follow-up fetches: a page must be on the feed's own host or a public one,
on every redirect hop. Nothing is marked missing from an archive page (it is not the
feed's current document), and archive pages fetch no article pages for full text (a
history of thousands of entries must not become thousands of page fetches).

Last, the feed's current document is stored through an ordinary update. It comes after
the archive, so that the feed's next update compares its document with that current
one: articles that only archive pages listed were not in it, and are never judged to
have been taken out of the feed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag

from .errors import StorageError
from .failures import failure_kind, failure_message
from .fetch import Response
from .fetch.retrieve import Fetcher
from .model import BackfillSummary, Feed, FetchRecord, ParsedFeed
from .parse import parse_feed
from .update import Updater

__all__ = ["archive_link", "backfill_feed"]

log = logging.getLogger(__name__)


def archive_link(parsed: ParsedFeed) -> str | None:
    """The page to read after this document: its previous archive, else its next page."""
    return parsed.prev_archive or parsed.next_page


def _visit_key(url: str) -> str:
    """The URL as the walk remembers it: without its fragment, which names no other page."""
    return urldefrag(url).url


@dataclass(frozen=True, slots=True)
class _Failure:
    url: str
    kind: str
    message: str


async def backfill_feed(
    updater: Updater,
    feed: Feed,
    *,
    pages: int = 50,
    budget: float = 120.0,
    transport: Any = None,
) -> BackfillSummary:
    """Walk ``feed``'s archive once: at most ``pages`` archive pages within ``budget``
    seconds (see the module docstring), then update the feed itself. Never raises for a
    page's failure; a storage error does raise."""
    started = time.perf_counter()
    deadline = started + max(0.0, budget)
    loop = asyncio.get_running_loop()
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tidings-backfill")
    visited: set[str] = {_visit_key(feed.url)}
    read = new = changed = 0
    failure: _Failure | None = None

    async def fetch_and_parse(fetcher: Fetcher, url: str, linked: bool) -> tuple[Response, ParsedFeed]:
        async def one() -> tuple[Response, ParsedFeed]:
            response = await fetcher.fetch(
                url, linked_from=feed.url if linked else None, keep=updater.limits.keeps(feed.id)
            )
            parsed = await asyncio.to_thread(
                parse_feed,
                response.content,
                content_type=response.content_type,
                url=response.url,
                content_language=response.content_language,
                max_bytes=updater.limits.max_bytes,
            )
            return response, parsed

        return await asyncio.wait_for(one(), timeout=max(0.0, deadline - time.perf_counter()))

    def record_failure(url: str, exc: Exception, elapsed: float) -> _Failure:
        kind = failure_kind(exc)
        message = failure_message(url, exc)
        status = getattr(exc, "status", None)
        with updater.store.transaction():
            updater.store.record_fetch(
                FetchRecord(
                    feed.id, updater.clock(), status, 0, int(elapsed * 1000),
                    error_kind=kind, error_message=f"archive page: {message}"[:1000],
                )
            )
        return _Failure(url, kind, message)

    current: ParsedFeed | None = None
    stopped = "time"
    try:
        async with Fetcher(updater.limits, transport=transport) as fetcher:
            try:
                _response, current = await fetch_and_parse(fetcher, feed.url, linked=False)
                visited.add(_visit_key(_response.url))
            except TimeoutError:
                pass
            except StorageError:
                raise
            except Exception as exc:  # noqa: BLE001 - recorded, never raised
                failure = await loop.run_in_executor(
                    writer, record_failure, feed.url, exc, time.perf_counter() - started
                )
                stopped = "failed"
            link = archive_link(current) if current is not None else None
            while current is not None:
                if current.complete and read == 0:
                    stopped = "complete"
                    break
                if link is None:
                    stopped = "end" if read else "no_archive"
                    break
                if _visit_key(link) in visited:
                    stopped = "loop"
                    break
                if read >= pages:
                    stopped = "pages"
                    break
                if time.perf_counter() >= deadline:
                    stopped = "time"
                    break
                visited.add(_visit_key(link))
                page_started = time.perf_counter()
                try:
                    response, parsed = await fetch_and_parse(fetcher, link, linked=True)
                except TimeoutError:
                    stopped = "time"
                    break
                except StorageError:
                    raise
                except Exception as exc:  # noqa: BLE001 - one page's failure ends the walk, recorded
                    log.info("%s: archive page %s failed: %s", feed.url, link, exc)
                    failure = await loop.run_in_executor(
                        writer, record_failure, link, exc, time.perf_counter() - page_started
                    )
                    stopped = "failed"
                    break
                visited.add(_visit_key(response.url))
                page_new, page_changed, listed = await loop.run_in_executor(
                    writer, updater.store_document, feed, parsed
                )
                read += 1
                new += page_new
                changed += page_changed
                if listed and page_new + page_changed == 0:
                    stopped = "nothing_new"
                    break
                link = archive_link(parsed)
    finally:
        writer.shutdown(wait=True)

    if current is not None:
        # The feed's own document, through the ordinary path (presence, validators, full text).
        fresh = await asyncio.to_thread(updater.store.get_feed, feed.id)
        outcome = (await updater.update([fresh])).outcomes[0]
        new += outcome.new_articles
        changed += outcome.changed_articles
        if outcome.status in ("failed", "gone") and failure is None:
            failure = _Failure(feed.url, outcome.error_kind or "internal", outcome.error_message or "")
    return BackfillSummary(
        pages=read,
        new_articles=new,
        changed=changed,
        stopped_because=stopped,
        seconds=time.perf_counter() - started,
        failed_url=failure.url if failure else None,
        error_kind=failure.kind if failure else None,
        error_message=failure.message if failure else None,
    )
