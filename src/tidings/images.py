"""Archiving the images of archived articles: a stage of its own, after cleaning.

Each derived revision's images are listed once (:func:`tidings.media.image_urls`); then
the images not yet kept are fetched by the polite fetcher: the same per-host and global
limits as feeds, short timeouts, :data:`~tidings.media.MAX_IMAGE_BYTES` at most, only from
the host of the feed that links to them or from hosts whose addresses are all public (on
every redirect hop). What comes back is judged by its bytes (:func:`~tidings.media.sniff_image`):
a raster image is kept once in the media folder by its SHA-256, anything else is refused
with the reason. A failure (a timeout, a 404) is recorded and tried again on a later pass,
at most :data:`MAX_ATTEMPTS` times; a refusal (not an image, too large, a forbidden
address) is final. Each host's images are taken in turn by as many runners as the host may
have fetches at once, and a host that does not answer (no address, no connection, no TLS,
or :data:`_HOST_TIMEOUTS` timeouts) is left alone for the rest of the pass, its other images
failing untried: a dead image host costs a few connections a pass, not one per image, and
its images are given up after :data:`MAX_ATTEMPTS` passes like any that fail. Each feed gets at most :data:`PER_FEED` images per pass, so one outlet's images
cannot hold a pass; an image never holds its article, which is stored already.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from .errors import FetchError, StorageError
from .fetch import Limits
from .fetch.retrieve import Fetcher
from .media import MAX_IMAGE_BYTES, MediaStorage, image_urls, refusal_of, sniff_image
from .model import ImageJob, ImageSummary
from .store import Store

__all__ = ["MAX_ATTEMPTS", "PER_FEED", "archive_images", "list_images"]

log = logging.getLogger(__name__)

#: How many times an image that failed is tried, in all.
MAX_ATTEMPTS = 3
#: How long a failed image waits before it is tried again.
RETRY_AFTER = timedelta(hours=1)
#: Images per feed and pass, at most.
PER_FEED = 60
#: Image bytes per feed and pass, at most (an image that passes it finishes).
BYTES_PER_FEED = 64 << 20
_LIST_BATCH = 500
_CLAIM_BATCH = 500
_DUE_LIMIT = 20_000
_WRITE_BATCH = 200
#: Failures after which a host is left alone for the rest of the pass: it does not answer.
_HOST_DOWN = ("dns", "connect", "tls")
#: Timeouts after which a host is left alone too (one slow image is not a dead host).
_HOST_TIMEOUTS = 3
#: Failures that are final: the image will never be kept.
_FINAL = ("private_address", "redirect_private", "too_large", "url", "redirects", "not_found", "http_404", "http_410")


def list_images(store: Store) -> int:
    """List the images of every derived revision not looked at yet; how many revisions."""
    done = 0
    while True:
        with store.transaction():
            # Read in the transaction that lists them: workers sharing a database list
            # different revisions (the rows are locked, and those locked passed over).
            rows = store.unlisted_image_revisions(_LIST_BATCH)
            if not rows:
                return done
            store.list_revision_images([(rid, image_urls(html, enclosures)) for rid, html, enclosures in rows])
        done += len(rows)


def image_limits(limits: Limits) -> Limits:
    """The fetcher's limits for images: the same politeness, shorter waits, smaller bodies."""
    return replace(
        limits,
        max_bytes=min(limits.max_bytes, MAX_IMAGE_BYTES),
        connect_timeout=min(limits.connect_timeout, 5.0),
        read_timeout=min(limits.read_timeout, 10.0),
        total_timeout=min(limits.total_timeout, 30.0),
    )


async def archive_images(
    store: Store,
    media: MediaStorage,
    *,
    clock: Callable[[], datetime],
    limits: Limits = Limits(),
    transport: object | None = None,
    skip_feeds: tuple[int, ...] = (),
    skip_unfed: bool = False,
    per_feed: int = PER_FEED,
    bytes_per_feed: int = BYTES_PER_FEED,
    budget: float = 120.0,
) -> ImageSummary:
    """List new revisions' images and fetch those due (not those of ``skip_feeds``, nor with
    ``skip_unfed`` those of articles no feed brought), within ``budget`` seconds; never
    raises for one image."""
    started = time.perf_counter()
    listed = list_images(store)
    jobs = store.images_due(
        _DUE_LIMIT, max_attempts=MAX_ATTEMPTS, now=clock(), retry_after=RETRY_AFTER, skip_feeds=skip_feeds,
        skip_unfed=skip_unfed,
    )
    chosen = _claimed(store, jobs, per_feed)
    claimed = [job.image_id for job in chosen]
    counts: Counter[str] = Counter()
    spent: Counter[int | None] = Counter()
    down: dict[str, str] = {}  # host -> why it is left alone
    timeouts: Counter[str] = Counter()
    # What each try gave, written in batches: one transaction per image would make the
    # database, not the network, the limit.
    results: list[tuple[int, str, dict[str, object]]] = []

    def flush() -> None:
        if results:
            with store.transaction():
                for image_id, status, fields in results:
                    store.record_image(image_id, status, tried=clock(), **fields)  # type: ignore[arg-type]
            results.clear()

    def record(image_id: int, status: str, counted: str, **fields: object) -> None:
        results.append((image_id, status, fields))
        counts[counted] += 1
        if len(results) >= _WRITE_BATCH:
            flush()

    async def one(job: ImageJob, host: str) -> None:
        if host in down:  # counted as a try that failed: after MAX_ATTEMPTS passes, final
            record(job.image_id, "failed", "failed", reason=f"not tried, its host did not answer ({down[host]})"[:300])
            return
        if spent[job.feed_id] >= bytes_per_feed:
            counts["deferred"] += 1
            return
        try:
            response = await fetcher.fetch(job.url, linked_from=job.linked_from, keep=limits.keeps(job.feed_id))
        except FetchError as exc:
            if exc.kind == "timeout":
                timeouts[host] += 1
            if exc.kind in _HOST_DOWN or timeouts[host] >= _HOST_TIMEOUTS:
                down.setdefault(host, exc.kind)
            status = "refused" if exc.kind in _FINAL else "failed"
            record(job.image_id, status, status, reason=_reason(exc), http_status=_status_of(exc))
            return
        data = response.content
        spent[job.feed_id] += len(data)
        kind = sniff_image(data)
        if kind is None:
            record(job.image_id, "refused", "refused", reason=refusal_of(data), http_status=response.status)
            return
        sha256, new = await asyncio.to_thread(media.put, data)
        counts["bytes"] += len(data) if new else 0
        record(
            job.image_id, "archived", "archived" if new else "already_had",
            sha256=sha256, media_type=kind, size=len(data), http_status=response.status,
        )

    # Each host's images wait in their own queue, taken by as many runners as the host may
    # have fetches at once: a host found dead costs those few tries, not one per image.
    queues: dict[str, deque[ImageJob]] = {}
    for job in chosen:
        queues.setdefault((urlsplit(job.url).hostname or "").lower(), deque()).append(job)

    async def run(host: str, queue: deque[ImageJob]) -> None:
        while queue:
            job = queue.popleft()
            try:
                await one(job, host)
            except StorageError:
                raise  # the database: the pass reports it
            except OSError as exc:  # the media folder refused it (full, read-only): next pass
                record(job.image_id, "failed", "failed", reason=f"not stored: {exc}"[:300])
            except Exception:  # noqa: BLE001 - one image never stops the others of its host
                log.exception("archiving the image %s failed", job.url)
                record(job.image_id, "failed", "failed", reason="an unexpected error (in the log)")
            counts["handled"] += 1

    try:
        if chosen:  # (a client costs ~10 ms to make: none for nothing to fetch)
            async with Fetcher(image_limits(limits), transport=transport) as fetcher:  # type: ignore[arg-type]
                tasks = [
                    asyncio.ensure_future(run(host, queue))
                    for host, queue in queues.items()
                    for _ in range(min(len(queue), max(1, limits.per_host)))
                ]
                remaining = max(0.0, budget - (time.perf_counter() - started))
                _done, pending = await asyncio.wait(tasks, timeout=remaining)
                for task in pending:
                    task.cancel()
                for outcome in await asyncio.gather(*tasks, return_exceptions=True):
                    if isinstance(outcome, StorageError):
                        raise outcome
                counts["deferred"] += len(chosen) - counts["handled"]
    finally:
        flush()  # recorded before they are let go: another worker then finds them done
        store.release("image", claimed)
    return ImageSummary(
        listed=listed,
        archived=counts["archived"],
        already_had=counts["already_had"],
        failed=counts["failed"],
        refused=counts["refused"],
        deferred=counts["deferred"] + len(jobs) - len(chosen),
        bytes=counts["bytes"],
        seconds=time.perf_counter() - started,
    )


def _claimed(store: Store, jobs: list[ImageJob], per_feed: int) -> list[ImageJob]:
    """The jobs this pass takes: at most ``per_feed`` of each feed, none that another worker
    sharing the database has claimed (those are left to it), claimed for this one."""
    taken: Counter[int | None] = Counter()
    chosen: list[ImageJob] = []
    for start in range(0, len(jobs), _CLAIM_BATCH):
        batch = [job for job in jobs[start : start + _CLAIM_BATCH] if taken[job.feed_id] < per_feed]
        if not batch:
            continue
        got = set(store.claim("image", [job.image_id for job in batch]))
        over = []
        for job in batch:
            if job.image_id not in got:
                continue
            if taken[job.feed_id] < per_feed:
                taken[job.feed_id] += 1
                chosen.append(job)
            else:
                over.append(job.image_id)
        store.release("image", over)
    return chosen


def _status_of(exc: FetchError) -> int | None:
    if exc.kind.startswith("http_") and exc.kind[5:].isdigit():
        return int(exc.kind[5:])
    return None


def _reason(exc: FetchError) -> str:
    if exc.kind == "too_large":
        return f"larger than {MAX_IMAGE_BYTES >> 20} MiB"
    if exc.kind in ("private_address", "redirect_private"):
        return "on a private or local address (images come only from the feed's host or the public internet)"
    return f"{exc.kind}: {exc}"[:300]
