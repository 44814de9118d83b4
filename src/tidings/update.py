"""The orchestrator: fetch due feeds, parse them, store what is new or changed.

Fetches run concurrently on an asyncio loop (the fetcher enforces the global
and per-host limits). Each fetched feed is then parsed and stored on one
writer thread, one transaction per feed: the feed's new articles and
revisions (exactly as received), its new state (validators, schedule,
health) and its fetch-log entry are committed together or not at all, so a
crash or a kill never leaves half a feed, and a feed that fails never affects
another. Clean HTML and text are derived afterwards, in parallel
(:meth:`tidings.archive.Archive.derive`), so what was received is on disk
first. What to
store and when to fetch next are decided by pure functions
(:mod:`tidings.identity`, :mod:`tidings.rules`, :mod:`tidings.schedule`).

Validators (ETag, Last-Modified) are kept only from a feed that parsed
cleanly: a truncated download must be fetched whole next time, not answered
with 304.

After a feed is stored come its follow-up fetches (article pages for full
text), within the feed's time budget for the pass (``Limits.follow_up_budget``):
one slow or hostile outlet cannot hold the pass. Those not done in time wait
for the feed's next pass: the feed keeps no validators, so that the next fetch
reads the document again, and an article first seen in the feed's previous
read that still has no extracted revision is a candidate again. Pages come only
from the feed's own host or the public internet, on every redirect hop
(:mod:`tidings.fetch.http`); a page refused for its address is logged and
recorded in the feed's fetch log, and the article keeps the feed's content.

The message recorded for a failed feed (shown to anyone who can read the
feeds, ``GET /api/feeds`` included) never quotes what the server sent: it names
the status, the content type, the size and what kind of document came
(:func:`failure_message`), and for a document that does not parse, the line
of the first error.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .errors import FeedParseError, FetchError, StorageError
from .failures import MAX_ENTRIES_PER_DOCUMENT, failure_kind, failure_message, feed_problem, problems_note
from .fetch import Limits, Response
from .fetch.retrieve import Fetcher
from .identity import Planned, canonical_url, entry_content, entry_key, plan_entries
from .history import changed_parts, fingerprint, vanished, verdict
from .model import (
    Article,
    ArticleState,
    FeedOutcome,
    Revision,
    UpdateSummary,
    current_of,
    iso_utc,
    Feed,
    FeedState,
    FetchRecord,
    NewRevision,
    ParsedEntry,
    ParsedFeed,
    RecheckSummary,
    RevisionSource,
)
from .rules import compile_rules, entry_allowed
from .schedule import next_after_failure, next_after_success

if TYPE_CHECKING:
    from .clean import Cleaner
    from .siterules import SiteRules
from .store import Store

__all__ = ["FeedOutcome", "UpdateSummary", "Updater"]

#: Article pages fetched for full text per feed and pass: a feed of thousands of short
#: items must not turn one pass into thousands of page fetches (the rest keep the feed's text).
MAX_FULL_TEXT_PER_FEED = 30
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Candidate:
    """An article whose page is to be fetched for its full text."""

    article_id: int
    url: str
    title: str
    feed_url: str = ""
    feed_id: int = 0
    #: A check of an article that left its feed (is it deleted?) rather than a full-text fetch.
    check: bool = False


#: Links of articles gone from their feed that one feed's pass checks (the rest stay missing).
MAX_CHECKS_PER_FEED = 10


Progress = Callable[[int, int, FeedOutcome], None]


#: Follow-up fetches refused for the address they would reach.
_REFUSED_KINDS = ("private_address", "redirect_private")


def wants_full_text(mode: str, entry: ParsedEntry, content: str) -> bool:
    """Whether an entry's article page is to be fetched for its full text (``full_text`` mode
    ``always``, or ``auto`` for an entry with no full content and a short summary)."""
    if mode == "always":
        return True
    if mode != "auto" or entry.content is not None:
        return False
    # The parser, the cleaner and the extractor load when a body is read (an all-304 pass
    # needs none of them).
    from .extract import is_short_summary
    from .parse.common import html_to_text

    return is_short_summary(html_to_text(content))


def awaits_full_text(first_seen: datetime, previous_success: datetime | None) -> bool:
    """Whether a known article whose full text is wanted and missing is fetched again now: it
    was new in the feed's previous successful read (whose follow-ups may have run out of time)."""
    return previous_success is not None and first_seen == previous_success


def recheck_candidate(store: Store, article: Article, feed: Feed) -> _Candidate:
    """The page fetch that looks at an article again, titled as its current revision."""
    current = current_of(article, store.revisions(article.id))
    return _Candidate(article.id, article.url, current.title if current else "", feed.url, feed.id)


class Updater:
    """Runs update passes over feeds of one store."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime],
        limits: Limits = Limits(),
        rng: random.Random | None = None,
        transport: Any = None,
        cleaner: Callable[[], Cleaner] | None = None,
    ) -> None:
        self.store = store
        # The cleaner (and its site rules) is made when a body is first read: an all-304
        # pass needs neither. ``cleaner`` gives the archive's own; else one of the defaults.
        self._make_cleaner = cleaner
        self.clock = clock
        self.limits = limits
        self.rng = rng or random.Random()
        self._transport = transport
        self._cleaner: Cleaner | None = None

    async def update(
        self,
        feeds: Sequence[Feed],
        *,
        progress: Progress | None = None,
        stop: asyncio.Event | None = None,
        more: Callable[[], Sequence[Feed]] | None = None,
    ) -> UpdateSummary:
        """Fetch, parse and store the given feeds; never raises for a single feed's failure.

        ``more`` (called in the writer's thread, with the store) gives further feeds whenever
        fewer than the concurrency limit are in flight, until it gives none: a pass that
        leases its feeds a few at a time never waits for the slowest of a batch."""
        started = time.perf_counter()
        outcomes: list[FeedOutcome] = []
        total = len(feeds)
        loop = asyncio.get_running_loop()
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tidings-writer")
        fetcher = Fetcher(self.limits, transport=self._transport)

        # A feed holds a slot from its fetch until it is stored: fetching cannot run ahead
        # of storing by more than this many bodies, which bounds memory on large runs.
        slots = asyncio.Semaphore(max(2, self.limits.concurrency * 2))

        # The fetcher checks every hop's addresses (looked up once per host and pass) against
        # the feed's host and the address policy, and connects only to what it checked.
        async def check_one(candidate: _Candidate) -> int:
            try:
                page = await fetcher.fetch(
                    candidate.url, linked_from=candidate.feed_url, keep=self.limits.keeps(candidate.feed_id)
                )
            except FetchError as exc:
                if exc.kind in _REFUSED_KINDS:
                    await loop.run_in_executor(writer, self._record_refusal, candidate, exc)
                    return 0
                return int(await loop.run_in_executor(writer, self._record_check, candidate, None, exc))
            except Exception:  # one check must not stop the pass
                log.exception("checking %s failed", candidate.url)
                return 0
            return int(await loop.run_in_executor(writer, self._record_check, candidate, page, None))

        async def extract_one(candidate: _Candidate) -> int:
            if candidate.check:
                return await check_one(candidate)
            try:
                page = await fetcher.fetch(
                    candidate.url, linked_from=candidate.feed_url, keep=self.limits.keeps(candidate.feed_id)
                )
                stored: bool = await loop.run_in_executor(
                    writer, self._store_extracted, candidate, page
                )
            except FetchError as exc:
                if exc.kind in _REFUSED_KINDS:
                    log.warning("full text of %s refused: %s", candidate.url, exc)
                    await loop.run_in_executor(writer, self._record_refusal, candidate, exc)
                else:
                    log.info("full text of %s not fetched: %s", candidate.url, exc)
                return 0
            except StorageError:
                raise
            except Exception:  # one article page must not stop the pass
                log.exception("full text of %s failed", candidate.url)
                return 0
            return int(stored)

        async def one(feed: Feed) -> None:
            async with slots:
                fetch_started = time.perf_counter()
                result: Response | FetchError
                try:
                    result = await fetcher.fetch(
                        feed.url, etag=feed.etag, last_modified=feed.last_modified, keep=self.limits.keeps(feed.id)
                    )
                except FetchError as exc:
                    result = exc
                except Exception as exc:  # noqa: BLE001 - recorded on the feed, never fatal to the pass
                    log.exception("fetching %s failed", feed.url)
                    result = FetchError("url", f"{feed.url}: {type(exc).__name__} while fetching")
                elapsed = time.perf_counter() - fetch_started
                outcome, candidates = await loop.run_in_executor(
                    writer, self._process, feed, result, elapsed
                )
                if candidates:
                    extracted, waiting = await self._within_budget(
                        [extract_one(candidate) for candidate in candidates]
                    )
                    outcome = dataclasses.replace(outcome, extracted=extracted)
                    if waiting:
                        log.info(
                            "%s: %d of %d article pages wait for the next pass (follow-up budget of %g s spent)",
                            feed.url, waiting, len(candidates), self.limits.follow_up_budget,
                        )
                        await loop.run_in_executor(writer, self._forget_validators, feed.id)
            outcomes.append(outcome)
            if progress is not None:
                progress(len(outcomes), total, outcome)

        # Each finished task (and the stop signal) lands in one queue: the loop handles one
        # at a time, never scanning every task again (a pass of thousands of feeds).
        finished: asyncio.Queue[asyncio.Future[Any]] = asyncio.Queue()
        tasks: list[asyncio.Future[None]] = []

        def start(chosen: Iterable[Feed]) -> None:
            for feed in chosen:
                task = asyncio.ensure_future(one(feed))
                task.add_done_callback(finished.put_nowait)
                tasks.append(task)

        async with fetcher:
            start(feeds)
            running = len(tasks)
            stopper = asyncio.ensure_future(stop.wait()) if stop is not None else None
            if stopper is not None:
                stopper.add_done_callback(finished.put_nowait)
            try:
                while not (stop is not None and stop.is_set()):
                    if more is not None and running <= self.limits.concurrency:
                        extra = list(await loop.run_in_executor(writer, more))
                        if extra:
                            total += len(extra)
                            start(extra)
                            running += len(extra)
                            continue
                        more = None
                    if not running:
                        break
                    task = await finished.get()
                    if task is stopper:
                        break
                    running -= 1
                    if not task.cancelled() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
            finally:
                if stopper is not None:
                    stopper.cancel()
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                # Feeds already handed to the writer finish their transaction.
                await loop.run_in_executor(writer, lambda: None)
                writer.shutdown(wait=True)
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                exc = task.exception()
                if isinstance(exc, StorageError):
                    raise exc
        return UpdateSummary.of(outcomes, time.perf_counter() - started)

    async def _within_budget(self, jobs: Sequence[Awaitable[int]]) -> tuple[int, int]:
        """Run one feed's follow-up fetches together for at most ``follow_up_budget`` seconds:
        the sum of what the finished ones return, and how many were cut short."""
        tasks = [asyncio.ensure_future(job) for job in jobs]
        try:
            done, pending = await asyncio.wait(tasks, timeout=max(0.0, self.limits.follow_up_budget))
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return sum(task.result() for task in done), len(pending)

    async def recheck(
        self, candidates: Sequence[_Candidate], *, per_host: int = 50, budget: float = 300.0
    ) -> RecheckSummary:
        """Look at these articles' pages again (the newest first), at most ``per_host`` per
        host, within ``budget`` seconds, through the same fetcher (its per-host limits and
        address checks): a changed page is a new extracted revision, an unchanged one a
        sighting, a missing article's 404 or 410 makes it deleted. A host that answers 429
        or 503 is left alone for the rest of the round."""
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tidings-writer")
        fetcher = Fetcher(self.limits, transport=self._transport)
        per: dict[str, int] = {}
        chosen: list[_Candidate] = []
        for candidate in candidates:
            host = (urlsplit(candidate.url).hostname or "").lower()
            if per.get(host, 0) < per_host:
                per[host] = per.get(host, 0) + 1
                chosen.append(candidate)
        backed_off: set[str] = set()
        results: list[str] = []

        async def one(candidate: _Candidate) -> int:
            host = (urlsplit(candidate.url).hostname or "").lower()
            if host in backed_off:
                return 0
            page: Response | None = None
            error: FetchError | None = None
            try:
                page = await fetcher.fetch(
                    candidate.url, linked_from=candidate.feed_url, keep=self.limits.keeps(candidate.feed_id)
                )
            except FetchError as exc:
                if exc.kind in ("http_429", "http_503"):
                    backed_off.add(host)
                    return 0
                if exc.kind in _REFUSED_KINDS:
                    await loop.run_in_executor(writer, self._record_refusal, candidate, exc)
                    results.append("failed")
                    return 0
                error = exc
            results.append(await loop.run_in_executor(writer, self._record_recheck, candidate, page, error))
            return 1

        try:
            async with fetcher:
                tasks = [asyncio.ensure_future(one(candidate)) for candidate in chosen]
                try:
                    await asyncio.wait(tasks, timeout=budget) if tasks else None
                finally:
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            writer.shutdown(wait=True)
        return RecheckSummary(
            due=len(candidates),
            checked=len(results),
            changed=results.count("changed"),
            deleted=results.count("deleted"),
            failed=results.count("failed"),
            backed_off=tuple(sorted(backed_off)),
            left=len(candidates) - len(results),
            seconds=time.perf_counter() - started,
        )

    # Everything below runs on the writer thread.

    def _record_recheck(self, candidate: _Candidate, page: Response | None, error: FetchError | None) -> str:
        """Store what looking at a page again showed; ``changed``, ``deleted``, ``checked`` or
        ``failed``."""
        store = self.store
        article = store.get_article(candidate.article_id)
        if article.state is ArticleState.MISSING:
            self._record_check(candidate, page, error)
            if store.get_article(candidate.article_id).state is ArticleState.DELETED:
                return "deleted"
        status = page.status if page is not None else (error.status if error is not None else None)
        found = None
        if page is not None:
            from .extract import extract_article

            try:
                found = extract_article(
                    page.content, url=page.url, content_type=page.content_type, site_rules=self.site_rules
                )
            except (ValueError, LookupError, RuntimeError):
                log.exception("extracting %s failed", candidate.url)
        now = self.clock()
        with store.transaction():
            if found is not None:
                revision = NewRevision(
                    seen=now, title=candidate.title, content_html=found.html, source=RevisionSource.EXTRACTED
                )
                _stored, created = store.add_revision(candidate.article_id, revision, current=False, status=status)
                return "changed" if created else "checked"
            if article.current_revision_id is not None:
                store.see_revision(
                    candidate.article_id, article.current_revision_id, source="check", seen=now, status=status
                )
        return "checked" if page is not None else "failed"

    def _record_refusal(self, candidate: _Candidate, exc: FetchError) -> None:
        """Note in the feed's fetch log that a page it links to was refused for its address."""
        with self.store.transaction():
            self.store.record_fetch(
                FetchRecord(
                    candidate.feed_id, self.clock(), None, 0, 0,
                    error_kind=exc.kind, error_message=f"full text: {exc}"[:1000],
                )
            )

    def _forget_validators(self, feed_id: int) -> None:
        """Drop a feed's validators, so that its next fetch reads the document (and finds the
        articles whose pages are still to be fetched) instead of being answered 304."""
        with self.store.transaction():
            feed = self.store.get_feed(feed_id)
            if feed.etag is not None or feed.last_modified is not None:
                self.store.save_feed(dataclasses.replace(feed, etag=None, last_modified=None))

    def _process(
        self, feed: Feed, result: Response | FetchError, elapsed: float
    ) -> tuple[FeedOutcome, list[_Candidate]]:
        now = self.clock()
        try:
            if isinstance(result, FetchError):
                return self._failed(feed, result, now, elapsed), []
            if result.not_modified:
                return self._not_modified(feed, result, now, elapsed), []
            return self._fetched(feed, result, now, elapsed)
        except StorageError:
            raise
        except FeedParseError as exc:
            # The parser's words may quote the document: the log has them, the feed does not.
            log.info("%s: %s", feed.url, exc)
            return self._failed(feed, exc, now, elapsed, result if isinstance(result, Response) else None), []
        except Exception as exc:  # noqa: BLE001
            # A bug or a surprise in one feed must not stop the others.
            log.exception("updating %s failed", feed.url)
            return self._failed(feed, exc, now, elapsed, result if isinstance(result, Response) else None), []

    def _store_extracted(self, candidate: _Candidate, page: Response) -> bool:
        """Store the full text of an article page as a revision beside the feed's."""
        from .extract import extract_article

        try:
            found = extract_article(
                page.content,
                url=page.url,
                content_type=page.content_type,
                site_rules=self.site_rules,
            )
        except (ValueError, LookupError, RuntimeError):
            log.exception("extracting %s failed", candidate.url)
            return False
        if found is None:
            return False
        revision = NewRevision(
            seen=self.clock(),
            title=candidate.title,
            content_html=found.html,
            source=RevisionSource.EXTRACTED,
        )
        with self.store.transaction():
            _stored, created = self.store.add_revision(candidate.article_id, revision, current=False)
        return created

    def _failed(
        self, feed: Feed, exc: Exception, now: datetime, elapsed: float, response: Response | None = None
    ) -> FeedOutcome:
        kind = failure_kind(exc)
        message = failure_message(feed.url, exc, response)
        status = exc.status if isinstance(exc, FetchError) else None
        failures = feed.error_count + 1
        if status == 410:
            state, outcome_status = FeedState.GONE, "gone"
            next_fetch = None
            message = f"{feed.url} is gone (HTTP 410); kept, no longer fetched"
        else:
            state, outcome_status = feed.state, "failed"
            retry_after = exc.retry_after if isinstance(exc, FetchError) else None
            next_fetch = next_after_failure(now, failures=failures, retry_after=retry_after, rng=self.rng)
        updated = dataclasses.replace(
            feed,
            state=state,
            last_fetch=now,
            error_count=failures,
            error_kind=kind,
            error_message=message[:1000],
            next_fetch=next_fetch,
            last_status=status,
        )
        with self.store.transaction():
            self.store.save_feed(updated)
            self.store.record_fetch(
                FetchRecord(feed.id, now, status, 0, int(elapsed * 1000), error_kind=kind, error_message=message[:1000])
            )
        return FeedOutcome(feed.id, feed.url, outcome_status, error_kind=kind, error_message=message)

    def _succeeded(
        self, feed: Feed, response: Response, now: datetime, new: int, ttl: int | None
    ) -> Feed:
        next_fetch, interval = next_after_success(
            now,
            configured=feed.interval_seconds,
            current=feed.current_interval_seconds,
            had_new=new > 0,
            fresh_for=response.fresh_for,
            ttl_minutes=ttl,
            rng=self.rng,
        )
        url = feed.url
        if response.permanent_url and response.permanent_url != feed.url:
            other = self.store.find_feed(response.permanent_url)
            if other is None or other.id == feed.id:
                url = response.permanent_url
        return dataclasses.replace(
            feed,
            url=url,
            last_fetch=now,
            last_success=now,
            error_count=0,
            error_kind=None,
            error_message=None,
            next_fetch=next_fetch,
            current_interval_seconds=interval,
            last_status=response.status,
            last_new=now if new else feed.last_new,
        )

    def _not_modified(self, feed: Feed, response: Response, now: datetime, elapsed: float) -> FeedOutcome:
        updated = self._succeeded(feed, response, now, 0, None)
        with self.store.transaction():
            self.store.save_feed(updated)
            self.store.record_fetch(FetchRecord(feed.id, now, response.status, 0, int(elapsed * 1000)))
        return FeedOutcome(feed.id, feed.url, "not_modified")

    def _fetched(
        self, feed: Feed, response: Response, now: datetime, elapsed: float
    ) -> tuple[FeedOutcome, list[_Candidate]]:
        from .parse import parse_feed

        base = response.url
        parsed = parse_feed(
            response.content,
            content_type=response.content_type,
            url=base,
            content_language=response.content_language,
            max_bytes=self.limits.max_bytes,
        )
        rules = compile_rules(feed.options)
        entries = [e for e in parsed.entries[:MAX_ENTRIES_PER_DOCUMENT] if entry_allowed(e, rules)]
        if len(parsed.entries) > MAX_ENTRIES_PER_DOCUMENT:
            log.warning(
                "%s: %d entries, only the first %d are read",
                feed.url, len(parsed.entries), MAX_ENTRIES_PER_DOCUMENT,
            )
        store = self.store
        with store.transaction():
            listed = store.feed_articles(
                feed.id, (ArticleState.PRESENT, ArticleState.MISSING, ArticleState.DELETED)
            )
            new, changed, candidates, displaced = self._store_entries(feed, parsed, entries, now)
            candidates = self._track_presence(feed, parsed, listed, now) + candidates
            updated = self._succeeded(feed, response, now, new, parsed.ttl_minutes)
            updated = dataclasses.replace(
                updated,
                title=parsed.title or feed.title,
                problem=feed_problem(parsed),
                # A document read by the tolerant path may be cut short: fetch it whole next time.
                # So too when new articles' pages were left for the next pass (it must read them).
                etag=None if parsed.recovered or displaced else response.etag,
                last_modified=None if parsed.recovered or displaced else response.last_modified,
            )
            store.save_feed(updated)
            problems = problems_note(parsed)
            store.record_fetch(
                FetchRecord(
                    feed.id,
                    now,
                    response.status,
                    response.received_bytes,
                    int(elapsed * 1000),
                    new,
                    changed,
                    "recovered" if parsed.recovered else None,
                    problems,
                )
            )
        return FeedOutcome(feed.id, feed.url, "fetched", new, changed), candidates

    def store_document(self, feed: Feed, parsed: ParsedFeed) -> tuple[int, int, bool]:
        """Store a feed document's entries in one transaction, as a pass stores a feed's,
        without fetching pages or judging absences (an archive page, a captured document):
        how many articles were new, how many changed, and whether it listed any entry the
        feed's rules keep (a document of none tells nothing about what was read before)."""
        rules = compile_rules(feed.options)
        entries = [e for e in parsed.entries[:MAX_ENTRIES_PER_DOCUMENT] if entry_allowed(e, rules)]
        if not entries:
            return 0, 0, False
        with self.store.transaction():
            new, changed, _candidates, _left = self._store_entries(feed, parsed, entries, self.clock())
        return new, changed, True

    def _store_entries(
        self, feed: Feed, parsed: ParsedFeed, entries: list[ParsedEntry], now: datetime
    ) -> tuple[int, int, list[_Candidate], bool]:
        """Store the entries; the articles whose pages are to be fetched (those left from the
        previous pass first, at most ``MAX_FULL_TEXT_PER_FEED``), and whether new ones were
        left for the next pass to make room for them."""
        store = self.store
        site_id = store.site(feed.site).id
        keys, urls = [], []
        for entry in entries:
            url = canonical_url(entry.link)
            keys.append(entry_key(entry, url))
            if url:
                urls.append(url)
        plan = plan_entries(entries, store.articles_matching(site_id, keys, urls))
        new = changed = 0
        seen: list[int] = []
        candidates: list[_Candidate] = []
        # Known articles whose pages were still to be fetched when the last pass ran out of time.
        waiting: list[_Candidate] = []
        mode = feed.options.full_text
        # Oldest first, so that article numbers follow publication order.
        for item in reversed(plan):
            entry = item.entry
            if item.action == "seen":
                assert item.article_id is not None
                seen.append(item.article_id)
                if len(waiting) < MAX_FULL_TEXT_PER_FEED and self._awaits_full_text(feed, item, mode):
                    waiting.append(_Candidate(item.article_id, item.url or "", entry.title or "", feed.url, feed.id))
                continue
            content = entry_content(entry)
            revision = NewRevision(
                seen=now,
                title=entry.title or "",
                content_html=content,
                source=RevisionSource.FEED,
                author=entry.author,
                summary=entry.summary,
                enclosures=tuple(
                    {k: v for k, v in dataclasses.asdict(e).items() if v is not None}
                    for e in entry.enclosures
                ),
                language=entry.language or parsed.language,
            )
            if item.action == "new":
                article = store.add_article(
                    site_id, item.key, item.url or item.key, now, entry.published or entry.updated, feed.id
                )
                store.add_revision(article.id, revision)
                new += 1
                if (
                    item.url
                    and item.url.startswith(("http://", "https://"))
                    and len(candidates) < MAX_FULL_TEXT_PER_FEED
                    and wants_full_text(mode, entry, content)
                ):
                    candidates.append(_Candidate(article.id, item.url, revision.title, feed.url, feed.id))
            else:
                assert item.article_id is not None
                if len(waiting) < MAX_FULL_TEXT_PER_FEED and self._awaits_full_text(feed, item, mode):
                    waiting.append(_Candidate(item.article_id, item.url or "", revision.title, feed.url, feed.id))
                store.touch_article(item.article_id, now)
                changed += self._store_changed(feed, item.article_id, revision)
        if seen:
            store.touch_articles(seen, now, feed.id)
        chosen = (waiting + candidates)[:MAX_FULL_TEXT_PER_FEED]
        return new, changed, chosen, len(chosen) < len(waiting) + len(candidates)

    @property
    def site_rules(self) -> tuple[SiteRules, ...]:
        return self.cleaner.site_rules

    @property
    def cleaner(self) -> Cleaner:
        if self._cleaner is None:
            if self._make_cleaner is not None:
                self._cleaner = self._make_cleaner()
            else:
                from .clean import Cleaner

                self._cleaner = Cleaner()
        return self._cleaner

    def _fingerprint_of(self, revision: Revision, url: str) -> str:
        """A stored revision's fingerprint, computed (and kept) if it has none yet."""
        if revision.fingerprint is not None:
            return revision.fingerprint
        clean_html = revision.clean_html
        if clean_html is None:
            clean_html = self.cleaner.clean(revision.content_html, base_url=url, site_url=url).html
        digest = fingerprint(revision.title, clean_html)
        self.store.set_revision_history(revision.id, digest, revision.changed)
        return digest

    def _store_changed(self, feed: Feed, article_id: int, revision: NewRevision) -> int:
        """Store an entry whose bytes differ from its article's current content. It is the
        same revision as an earlier one when their fingerprints agree (see
        :mod:`tidings.history`): then only a sighting is recorded (with the raw bytes when
        they differ) and that revision is current again; otherwise it is a new revision,
        with the parts it changed. Returns 1 when the article's content changed (a revert
        included), 0 when only the bytes did."""
        store = self.store
        article = store.get_article(article_id)
        known = store.revisions(article_id)
        current = current_of(article, known)
        url = article.url
        cleaned = self.cleaner.clean(revision.content_html, base_url=url, site_url=url)
        digest = fingerprint(revision.title, cleaned.html)
        for earlier in known:
            if earlier.source is RevisionSource.EXTRACTED or self._fingerprint_of(earlier, url) != digest:
                continue
            raw = revision if revision.content_hash != earlier.content_hash else None
            store.see_revision(
                article_id, earlier.id, source="feed", seen=revision.seen, feed_id=feed.id, raw=raw, current=True
            )
            return int(current is None or earlier.id != current.id)
        old_html = old_text = None
        if current is not None and current.text is None:
            old = self.cleaner.clean(current.content_html, base_url=url, site_url=url)
            old_html, old_text = old.html, old.text
        parts = changed_parts(
            current,
            title=revision.title,
            text=cleaned.text,
            clean_html=cleaned.html,
            author=revision.author,
            old_clean_html=old_html,
            old_text=old_text,
        )
        store.add_revision(
            article_id, dataclasses.replace(revision, fingerprint=digest, changed=parts), feed_id=feed.id
        )
        return 1

    def _track_presence(
        self, feed: Feed, parsed: ParsedFeed, listed: list[Article], now: datetime
    ) -> list[_Candidate]:
        """State changes a feed's new document shows: articles listed again are present;
        present ones taken out while older items remain are missing (see
        :func:`tidings.history.vanished`), and their links are to be checked."""
        store = self.store
        keys: set[str] = set()
        urls: set[str] = set()
        for entry in parsed.entries:
            url = canonical_url(entry.link)
            keys.add(entry_key(entry, url))
            if url:
                urls.add(url)
        for article in listed:
            if article.state is not ArticleState.PRESENT and (article.key in keys or article.url in urls):
                store.change_state(
                    article.id, ArticleState.PRESENT, now,
                    {"reason": "listed in its feed again", "feed": feed.url, "fetched": iso_utc(now)},
                )
        present = [a for a in listed if a.state is ArticleState.PRESENT]
        previous = max((a.last_seen for a in listed), default=None)
        gone = vanished(
            present, keys, urls, [e.published or e.updated for e in parsed.entries], previous_document=previous
        )
        checks: list[_Candidate] = []
        for article in gone:
            store.change_state(
                article.id, ArticleState.MISSING, now,
                {
                    "reason": "no longer in its feed while older items still are",
                    "feed": feed.url,
                    "fetched": iso_utc(now),
                    "last_listed": iso_utc(article.last_seen),
                },
            )
            if len(checks) < MAX_CHECKS_PER_FEED and article.url.startswith(("http://", "https://")):
                current = current_of(article, store.revisions(article.id))
                title = current.title if current is not None else ""
                checks.append(_Candidate(article.id, article.url, title, feed.url, feed.id, check=True))
        return checks

    def _record_check(
        self, candidate: _Candidate, page: Response | None, error: FetchError | None
    ) -> bool:
        """What checking a missing article's link showed: deleted (with the status and where
        it led), or still missing with the page's content stored beside the feed's."""
        status = page.status if page is not None else (error.status if error is not None else None)
        final = page.url if page is not None else None
        state, reason = verdict(candidate.url, status, final)
        now = self.clock()
        if state is ArticleState.DELETED:
            with self.store.transaction():
                self.store.change_state(
                    candidate.article_id, state, now,
                    {"reason": reason, "status": status, "url": candidate.url, "final_url": final,
                     "checked": iso_utc(now)},
                )
            return False
        if page is not None and status is not None and 200 <= status < 300:
            return self._store_extracted(candidate, page)
        return False

    def _awaits_full_text(self, feed: Feed, item: Planned, mode: str) -> bool:
        """Whether a known article's page is still to be fetched for its full text (see
        :func:`awaits_full_text`); cheap tests first, the store last."""
        if mode == "never" or feed.last_success is None or item.article_id is None:
            return False
        if feed.last_new != feed.last_success:
            return False  # the previous read brought no new articles, so none can be waiting
        if not (item.url and item.url.startswith(("http://", "https://"))):
            return False
        if mode == "auto" and item.entry.content is not None:
            return False
        article = self.store.get_article(item.article_id)
        if not awaits_full_text(article.first_seen, feed.last_success):
            return False
        if not wants_full_text(mode, item.entry, entry_content(item.entry)):
            return False
        return not any(r.source is RevisionSource.EXTRACTED for r in self.store.revisions(item.article_id))
