"""Fetching for the archive: update passes (leased among workers on PostgreSQL), the
scheduler, re-checks, backfill, images, and the fetcher's limits with what keeps
exchanges and shares politeness. Mixed into :class:`~tidings.archive.Archive`."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .errors import InvalidInputError
from .model import (
    BackfillSummary,
    Feed,
    FeedOutcome,
    FeedState,
    ImageRecord,
    ImageSummary,
    RecheckSummary,
    UpdateSummary,
)
from .store import Store

if TYPE_CHECKING:
    import asyncio
    from pathlib import Path

    from .clean import Cleaner
    from .fetch import Limits
    from .media import MediaStorage
    from .update import Progress, Updater
    from .warc import WarcKeeper

__all__ = ["IMAGE_BUDGET_FLOOR", "IMAGE_BUDGET_SHARE", "Fetching"]

#: An update pass spends on images at most this share of its own time, and this floor (s).
IMAGE_BUDGET_SHARE = 0.25
IMAGE_BUDGET_FLOOR = 3.0


class Fetching:
    """The archive's fetching half (see the module docstring)."""

    if TYPE_CHECKING:
        _clock: Callable[[], datetime]
        _user_agent: str | None
        _keeper: WarcKeeper | None
        _warc_bytes: int
        warc: Path | None
        keep_responses: bool
        worker: str
        lease_seconds: float
        media: MediaStorage | None
        images: str

        @property
        def store(self) -> Store: ...

        @property
        def cleaner(self) -> Cleaner: ...

        def get_feed(self, ref: int | str) -> Feed: ...

        def derive(
            self,
            *,
            progress: Callable[[int], None] | None = None,
            workers: int | None = None,
            stopped: Callable[[], bool] = lambda: False,
        ) -> int: ...

    def _limits(self, limits: Limits | None) -> Limits:
        from .fetch import Limits

        chosen = limits or Limits()
        if self._user_agent and chosen.user_agent is None:
            chosen = dataclasses.replace(chosen, user_agent=self._user_agent)
        if chosen.recorder is None:
            chosen = dataclasses.replace(chosen, recorder=self._recorder())
        gate = getattr(self.store, "host_gate", None)
        if chosen.gate is None and gate is not None:
            # Workers sharing a database share its politeness too.
            chosen = dataclasses.replace(chosen, gate=gate())
        return chosen

    def _recorder(self) -> WarcKeeper | None:
        """What keeps this pass's exchanges: None when no feed's are kept."""
        if self.warc is None:
            return None
        own = {feed_id: options.keep_responses for feed_id, options in self.store.feed_options().items()}
        default = self.keep_responses
        if not default and not any(own.values()):
            return None

        def keeps(feed_id: int | None) -> bool:
            chosen = own.get(feed_id) if feed_id is not None else None
            return default if chosen is None else chosen

        if self._keeper is None:
            from .warc import WarcKeeper

            self._keeper = WarcKeeper(self.warc, keeps, max_bytes=self._warc_bytes)
        else:
            self._keeper.policy(keeps)
        return self._keeper

    def _updater(self, limits: Limits | None, transport: object | None) -> Updater:
        from .update import Updater

        return Updater(
            self.store,
            clock=self._clock,
            limits=self._limits(limits),
            transport=transport,
            cleaner=lambda: self.cleaner,  # made when first needed
        )

    async def update_async(
        self,
        *,
        feeds: Sequence[int | str] | None = None,
        due_only: bool = True,
        progress: Progress | None = None,
        limits: Limits | None = None,
        stop: asyncio.Event | None = None,
        transport: object | None = None,
    ) -> UpdateSummary:
        """One update pass (see :meth:`update`), for callers already in an event loop."""
        import asyncio

        updater = self._updater(limits, transport)
        if feeds:
            chosen = [self.get_feed(ref) for ref in feeds]
            summary = await updater.update(chosen, progress=progress, stop=stop)
        else:
            summary = await self._leased_pass(updater, all_active=not due_only, progress=progress, stop=stop)
        if stop is None or not stop.is_set():
            started = time.perf_counter()
            derived = await asyncio.to_thread(
                self.derive, stopped=lambda: stop is not None and stop.is_set()
            )
            summary = dataclasses.replace(
                summary, derived=derived, derive_seconds=time.perf_counter() - started
            )
            if not stop or not stop.is_set():
                # Images are not urgent: a pass spends on them at most a quarter of its own
                # time (3 s at least); what is left waits for the next pass, `tidings run`'s
                # media rounds or `tidings media fetch`.
                images = await self.archive_images_async(
                    limits=limits, transport=transport, budget=_image_budget(summary.seconds + summary.derive_seconds)
                )
                summary = dataclasses.replace(summary, images=images)
        return summary

    async def _leased_pass(
        self,
        updater: Updater,
        *,
        all_active: bool = False,
        progress: Progress | None = None,
        stop: asyncio.Event | None = None,
    ) -> UpdateSummary:
        """One pass over the feeds this process leases (see
        :meth:`~tidings.store.Store.lease_feeds`): on PostgreSQL a few at a time, so that
        the workers sharing the database share the pass; on SQLite all at once."""
        store = self.store
        # Leased twice the concurrency at a time, topped up as fetches finish (PostgreSQL).
        chunk = max(16, updater.limits.concurrency * 2) if store.shares_work else None
        store.start_pass(self.worker)
        leased: list[int] = []

        def lease() -> list[Feed]:
            if stop is not None and stop.is_set():
                return []
            chosen = store.lease_feeds(
                self._clock(), worker=self.worker, lease_seconds=self.lease_seconds, all_active=all_active, limit=chunk
            )
            leased.extend(feed.id for feed in chosen)
            return chosen

        try:
            summary = await updater.update(
                lease(), progress=progress, stop=stop, more=lease if chunk is not None else None
            )
        finally:
            store.release_feeds(self.worker, leased)
        self._report(summary)
        return summary

    def _report(self, summary: UpdateSummary) -> None:
        self.store.record_worker(
            self.worker,
            self._clock(),
            {
                "feeds": summary.feeds,
                "fetched": summary.fetched,
                "not_modified": summary.not_modified,
                "failed": summary.failed,
                "new_articles": summary.new_articles,
                "seconds": round(summary.seconds, 3),
            },
        )

    def workers(self) -> list[dict[str, object]]:
        """The workers that have run passes on this archive (PostgreSQL), newest first."""
        return self.store.workers(self._clock())

    def images_of_feed(self, feed: Feed | None) -> str:
        """What happens to a feed's images (``archive``, ``proxy``, ``none``): its own
        setting, else the archive's."""
        return (feed.options.images if feed is not None else None) or self.images

    async def archive_images_async(
        self,
        *,
        limits: Limits | None = None,
        transport: object | None = None,
        budget: float = 120.0,
    ) -> ImageSummary | None:
        """List the images of new revisions and fetch those due into the media folder (see
        :mod:`tidings.images`); None when the archive keeps no media, or no images (the
        images setting is not ``archive`` for the archive or any feed)."""
        if self.media is None:
            return None
        from .images import archive_images

        kept = {feed_id: (options.images or self.images) == "archive" for feed_id, options in self.store.feed_options().items()}
        if self.images != "archive" and not any(kept.values()):
            return None  # nothing is kept: not even listed (a later switch to archive lists them then)
        not_kept = tuple(feed_id for feed_id, keeps in kept.items() if not keeps)
        return await archive_images(
            self.store,
            self.media,
            clock=self._clock,
            limits=self._limits(limits),
            transport=transport,
            skip_feeds=not_kept,
            skip_unfed=self.images != "archive",
            budget=budget,
        )

    def archive_images(self, *, limits: Limits | None = None, budget: float = 120.0) -> ImageSummary | None:
        """Archive the images that are due now (see :meth:`archive_images_async`)."""
        import asyncio

        return asyncio.run(self.archive_images_async(limits=limits, budget=budget))

    def image_records(self, revision_ids: list[int]) -> dict[int, list[ImageRecord]]:
        """The images each revision uses, in order, with what became of them."""
        return self.store.revision_images(revision_ids)

    def archived_images(self, urls: list[str]) -> dict[str, tuple[str, str]]:
        """Of these image URLs, those archived: URL → (SHA-256, media type)."""
        return self.store.archived_images(urls) if urls else {}

    def media_file(self, sha256: str) -> tuple[bytes, str] | None:
        """An archived image's bytes and type, by SHA-256 (None when not kept)."""
        if self.media is None:
            return None
        media_type = self.store.media_type(sha256)
        data = self.media.read(sha256) if media_type is not None else None
        return None if data is None or media_type is None else (data, media_type)

    def prune_media(self, *, min_age: float = 3600.0) -> tuple[int, int]:
        """Remove the media files no image refers to, and what interrupted writes left;
        (files, bytes) removed. Files younger than ``min_age`` seconds stay: an image
        stage running now may have written them and not yet recorded them."""
        if self.media is None:
            return 0, 0
        referenced = self.store.referenced_media()
        removed = []
        files, freed = self.media.sweep(min_age)
        for sha256, _size in list(self.media.files()):
            if sha256 not in referenced and (self.media.age(sha256) or 0.0) >= min_age:
                freed += self.media.remove(sha256)
                removed.append(sha256)
        with self.store.transaction():
            self.store.forget_media(removed)
        return files + len(removed), freed

    def update(
        self,
        *,
        feeds: Sequence[int | str] | None = None,
        due_only: bool = True,
        progress: Progress | None = None,
        limits: Limits | None = None,
    ) -> UpdateSummary:
        """Fetch and store the feeds that are due (all active ones with ``due_only=False``,
        or exactly ``feeds``, by id or URL). One failing feed never stops the others; its
        error is recorded on it and in the summary."""
        import asyncio

        return asyncio.run(
            self.update_async(feeds=feeds, due_only=due_only, progress=progress, limits=limits)
        )

    async def recheck_async(
        self,
        *,
        feeds: Sequence[int | str] | None = None,
        every: bool = False,
        limit: int = 500,
        per_host: int = 50,
        budget: float = 300.0,
        limits: Limits | None = None,
        transport: object | None = None,
    ) -> RecheckSummary:
        """One round of looking at young articles' pages again (see :meth:`recheck`)."""
        from .history import RECHECK_SCHEDULE, recheck_due
        from .update import recheck_candidate

        now = self._clock()
        since = now - RECHECK_SCHEDULE[-1][0]
        chosen = [self.get_feed(ref) for ref in feeds] if feeds else self.store.feeds()
        by_id = {f.id: f for f in chosen if f.options.recheck and f.state is FeedState.ACTIVE}
        due = []
        for feed_id, feed in by_id.items():
            for article, checked in self.store.recheck_candidates(since, feed_id=feed_id):
                if article.url.startswith(("http://", "https://")) and (
                    every or recheck_due(article.first_seen, checked, now)
                ):
                    due.append((article, feed))
        due.sort(key=lambda pair: pair[0].first_seen, reverse=True)
        # Workers sharing a database each look at articles the others are not looking at.
        claimed = set(self.store.claim("article", [article.id for article, _feed in due[:limit]]))
        candidates = [recheck_candidate(self.store, article, feed) for article, feed in due[:limit] if article.id in claimed]
        updater = self._updater(limits, transport)
        try:
            summary = await updater.recheck(candidates, per_host=per_host, budget=budget)
        finally:
            self.store.release("article", sorted(claimed))
        return dataclasses.replace(summary, due=len(due), left=summary.left + max(0, len(due) - limit))

    def recheck(
        self,
        *,
        feeds: Sequence[int | str] | None = None,
        every: bool = False,
        limit: int = 500,
        per_host: int = 50,
        budget: float = 300.0,
        limits: Limits | None = None,
    ) -> RecheckSummary:
        """Look again at the pages of young articles that are due (every article under a month
        old with ``every``), the newest first: at most ``limit`` pages, ``per_host`` per host,
        within ``budget`` seconds, through the polite fetcher. An edit made after the article
        left its feed becomes a revision; a missing article whose link answers 404 or 410 is
        deleted. Feeds with ``recheck`` off, and paused ones, are skipped."""
        import asyncio

        return asyncio.run(
            self.recheck_async(
                feeds=feeds, every=every, limit=limit, per_host=per_host, budget=budget, limits=limits
            )
        )

    async def backfill_async(
        self,
        ref: int | str,
        *,
        pages: int = 50,
        budget: float = 120.0,
        limits: Limits | None = None,
        transport: object | None = None,
    ) -> BackfillSummary:
        """Walk a feed's archive once (see :meth:`backfill`), for callers already in an event loop."""
        import asyncio

        from .backfill import backfill_feed

        if pages < 1:
            raise InvalidInputError("a backfill reads at least one archive page")
        feed = self.get_feed(ref)
        summary = await backfill_feed(
            self._updater(limits, transport), feed, pages=pages, budget=budget, transport=transport
        )
        await asyncio.to_thread(self.derive)
        return summary

    def backfill(
        self,
        ref: int | str,
        *,
        pages: int = 50,
        budget: float = 120.0,
        limits: Limits | None = None,
        transport: object | None = None,
    ) -> BackfillSummary:
        """Walk the archive a feed (id or URL) links to (RFC 5005: ``prev-archive``, or the
        ``next`` pages of a paged feed) once, at most ``pages`` pages within ``budget``
        seconds, storing every page's entries as an update stores the feed's; then update
        the feed itself. It stops at a page already read, a page that fails (recorded in the
        feed's fetch log and in the summary; what was stored stays), the bounds, or a page
        that adds nothing new. Raises FeedNotFoundError for an unknown feed."""
        import asyncio

        return asyncio.run(
            self.backfill_async(ref, pages=pages, budget=budget, limits=limits, transport=transport)
        )

    async def run(
        self,
        stop: asyncio.Event,
        *,
        on_pass: Callable[[UpdateSummary], None] | None = None,
        limits: Limits | None = None,
        max_sleep: float = 60.0,
    ) -> None:
        """The scheduler: update feeds as they fall due until ``stop`` is set.

        Fetches in flight when ``stop`` is set are abandoned; a feed whose
        fetch completed finishes its transaction first, so nothing is half-written.
        """
        import asyncio

        updater = self._updater(limits, None)
        next_recheck = self._clock()
        while not stop.is_set():
            summary = await self._leased_pass(updater, stop=stop)
            if summary.feeds:
                if not stop.is_set():
                    started = time.perf_counter()
                    await asyncio.to_thread(self.derive, stopped=stop.is_set)
                    budget = _image_budget(summary.seconds + time.perf_counter() - started)
                    if not stop.is_set():
                        images = await self.archive_images_async(limits=limits, budget=budget)
                        summary = dataclasses.replace(summary, images=images)
                if on_pass is not None:
                    on_pass(summary)
            if not stop.is_set() and self._clock() >= next_recheck:
                # Young articles' pages, on their decaying schedule: a small round each time;
                # and the images that are due, a round of at most two minutes.
                await self.recheck_async(limit=100, per_host=10, budget=120.0, limits=limits)
                if not stop.is_set():
                    await self.archive_images_async(limits=limits, budget=120.0)
                next_recheck = self._clock() + timedelta(minutes=10)
            next_due = self.store.next_due()
            wait = max_sleep
            if next_due is not None:
                wait = min(max_sleep, max(1.0, (next_due - self._clock()).total_seconds()))
            try:
                await asyncio.wait_for(stop.wait(), timeout=wait)
            except TimeoutError:
                pass


def _image_budget(pass_seconds: float) -> float:
    """Seconds a pass that took ``pass_seconds`` may spend on images."""
    return max(IMAGE_BUDGET_FLOOR, IMAGE_BUDGET_SHARE * pass_seconds)
