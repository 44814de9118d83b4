"""Deriving clean HTML and text for stored revisions, on every core.

Cleaning costs far more CPU than fetching, parsing and storing together, so
it runs as its own stage: revisions are stored exactly as received first (a
kill loses nothing), then this stage cleans those not yet derived, in worker
processes when there are many (one per core), while the calling thread stays
the only writer. Results are committed in batches; an interrupted derivation
resumes where it stopped (revisions without text are what it looks for).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from .clean import Cleaner
from .model import Revision
from .store import Store

__all__ = ["derive_revisions"]

BATCH = 200
#: Below this many revisions the work stays in this process (workers cost ~0.5 s to start).
PARALLEL_FROM = 2000

Item = tuple[int, str, str | None]
Result = tuple[int, str, str]

_worker_cleaner: Cleaner | None = None


def _start_worker() -> None:
    global _worker_cleaner
    _worker_cleaner = Cleaner()


def _clean_items(items: list[Item], cleaner: Cleaner | None = None) -> list[Result]:
    cleaner = cleaner or _worker_cleaner
    assert cleaner is not None
    out = []
    for revision_id, html, url in items:
        cleaned = cleaner.clean(html, base_url=url, site_url=url)
        out.append((revision_id, cleaned.html, cleaned.text))
    return out


def _batches(
    store: Store, next_batch: Callable[[int], list[Revision]]
) -> Iterator[list[Item]]:
    after = 0
    while revisions := next_batch(after):
        after = revisions[-1].id
        urls = store.article_urls(sorted({r.article_id for r in revisions}))
        yield [(r.id, r.content_html, urls.get(r.article_id)) for r in revisions]


def derive_revisions(
    store: Store,
    next_batch: Callable[[int], list[Revision]],
    *,
    cleaner: Cleaner,
    expected: int = 0,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Clean every revision ``next_batch(after_id)`` yields and store the results.

    ``expected`` (how many there are, if known) decides whether worker
    processes are worth starting. Returns how many revisions were derived.
    """
    done = 0

    def save(results: list[Result]) -> None:
        nonlocal done
        with store.transaction():
            store.save_derived(results)
        done += len(results)
        if progress is not None:
            progress(done)

    count = workers if workers is not None else (os.cpu_count() or 1)
    if count <= 1 or expected < PARALLEL_FROM:
        for items in _batches(store, next_batch):
            save(_clean_items(items, cleaner))
        return done
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tidings.clean"])
    with ProcessPoolExecutor(count, mp_context=context, initializer=_start_worker) as pool:
        pending: deque[Future[list[Result]]] = deque()
        for items in _batches(store, next_batch):
            pending.append(pool.submit(_clean_items, items))
            while len(pending) > count * 2:
                save(pending.popleft().result())
        while pending:
            save(pending.popleft().result())
    return done
