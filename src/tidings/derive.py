"""Deriving clean HTML, text and search-index rows for stored revisions, on every core.

Cleaning and preparing text for the index cost far more CPU than fetching,
parsing and storing together, so they run as their own stage: revisions are
stored exactly as received first (a kill loses nothing), then this stage
cleans those not yet derived, in worker processes when there are many (one
per core), while the calling thread stays the only writer. Each batch's
derived text and the index rows of its articles are committed in one
transaction; an interrupted derivation resumes where it stopped (revisions
without text are what it looks for).

The index holds, per article, the current revision's title and the text of
its newest extracted revision (the article page's full text) or else of its
current revision. Rows are contentless FTS5 rows: removing one needs the
exact prepared text it was added with, which is recomputed from the
revisions it came from (``search_rows``); rebuilding clears the index first.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

from .clean import Cleaner
from .model import Revision
from .store import IndexRow, Store
from .textindex import cjk_characters, prepare

__all__ = ["derive_revisions", "rebuild_index", "update_index"]

BATCH = 400
#: Below this many items the work stays in this process (workers cost ~0.5 s to start).
PARALLEL_FROM = 2000

Item = tuple[int, int, str, str | None]  # revision id, article id, html, article url
# revision id, article id, clean html and text (as the store keeps them), prepared text and its CJK
# characters (None where the index is not written, or does not use them)
Result = tuple[int, int, Any, Any, str | None, str | None]
Packer = Callable[[str | None, Any], Any]
Source = tuple[int, int, str, int, str]  # article id, title revision, title, body revision, body

T = TypeVar("T")
R = TypeVar("R")

_worker_cleaner: Cleaner | None = None


def _start_worker(rules_dir: Path | None) -> None:
    global _worker_cleaner
    _worker_cleaner = Cleaner(rules_dir=rules_dir)


def _characters(prepared: str, wanted: bool) -> str | None:
    return cjk_characters(prepared) if wanted else None


def _clean_items(
    items: list[Item],
    cleaner: Cleaner | None = None,
    *,
    pack: Packer | None = None,
    index: bool = True,
    characters: bool = True,
) -> list[Result]:
    """Clean a batch, and do here (in a worker when there are workers) all that can be done
    without the database: packing as the store keeps them, and (with ``index``) preparing
    for the index and (with ``characters``) finding the CJK characters it looks up."""
    cleaner = cleaner or _worker_cleaner
    assert cleaner is not None
    out: list[Result] = []
    for revision_id, article_id, html, url in items:
        cleaned = cleaner.clean(html, base_url=url, site_url=url)
        prepared = prepare(cleaned.text) if index else None
        clean, text = (cleaned.html, cleaned.text) if pack is None else (pack(cleaned.html, html), pack(cleaned.text, html))
        chars = _characters(prepared, characters) if prepared is not None else None
        out.append((revision_id, article_id, clean, text, prepared, chars))
    return out


def _prepare_sources(
    sources: list[Source], _cleaner: Cleaner | None = None, *, characters: bool = True
) -> list[IndexRow]:
    rows = []
    for article_id, title_revision, title, body_revision, body in sources:
        prepared = prepare(body)
        chars = _characters(prepared, characters)
        rows.append(IndexRow(article_id, prepare(title), prepared, title_revision, body_revision, chars))
    return rows


def _until(batches: Iterable[list[T]], stopped: Callable[[], bool]) -> Iterator[list[T]]:
    for batch in batches:
        if stopped():
            return
        yield batch


def _run(
    work: Callable[[list[T], Cleaner | None], list[R]],
    batches: Iterable[list[T]],
    save: Callable[[list[R]], None],
    *,
    cleaner: Cleaner,
    expected: int,
    workers: int | None,
    stopped: Callable[[], bool] = lambda: False,
) -> None:
    """Apply ``work`` to each batch (in worker processes when worth it), saving results
    in order; when ``stopped()`` turns true, stop after the batch being saved."""
    batches = _until(batches, stopped)
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count <= 1 or expected < PARALLEL_FROM:
        for batch in batches:
            save(work(batch, cleaner))
        return
    # fork: the workers start with everything already imported, and nothing of the
    # caller's __main__ is run again (forkserver and spawn would re-import it).
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    remaining = iter(batches)
    pending: deque[tuple[list[T], Future[list[R]]]] = deque()
    try:
        with ProcessPoolExecutor(count, mp_context=context, initializer=_start_worker, initargs=(cleaner.rules_dir,)) as pool:
            for batch in remaining:
                pending.append((batch, pool.submit(work, batch, None)))
                while len(pending) > count * 2:
                    save(pending[0][1].result())
                    pending.popleft()
            while pending:
                save(pending[0][1].result())
                pending.popleft()
    except BrokenProcessPool:
        # Workers could not run here: finish in this process, losing nothing.
        for batch, _future in pending:
            save(work(batch, cleaner))
        for batch in remaining:
            save(work(batch, cleaner))


def update_index(store: Store, article_ids: list[int], prepared: dict[int, tuple[str, str | None]]) -> None:
    """Bring the index rows of these articles in line with their revisions.

    ``prepared`` holds the body texts the workers prepared (and their CJK characters) by
    revision id; bodies are read (and unpacked) only for rows whose body is another.
    """
    wanted = store.index_sources(article_ids, bodies=False)
    unknown = [article_id for article_id, source in wanted.items() if source[2] not in prepared]
    if unknown:
        wanted.update(store.index_sources(unknown))
    current = store.indexed_sources(list(wanted))
    removals = []
    additions = []
    for article_id, (title_rev, title, body_rev, body) in wanted.items():
        old = current.get(article_id)
        if old is not None and old[0] == title_rev and old[2] == body_rev:
            continue
        if old is not None:
            removals.append((article_id, prepare(old[1]), prepare(old[3])))
        known = prepared.get(body_rev)
        if known is not None:
            additions.append(IndexRow(article_id, prepare(title), known[0], title_rev, body_rev, known[1]))
        else:
            additions.append(IndexRow(article_id, prepare(title), prepare(body), title_rev, body_rev))
    store.write_index(removals, additions)


def _revision_items(
    store: Store, next_batch: Callable[[int], list[Revision]]
) -> Iterator[list[Item]]:
    after = 0
    while revisions := next_batch(after):
        after = revisions[-1].id
        urls = store.article_urls(sorted({r.article_id for r in revisions}))
        yield [(r.id, r.article_id, r.content_html, urls.get(r.article_id)) for r in revisions]


def derive_revisions(
    store: Store,
    next_batch: Callable[[int], list[Revision]],
    *,
    cleaner: Cleaner,
    expected: int = 0,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    index: bool = True,
    stopped: Callable[[], bool] = lambda: False,
) -> int:
    """Clean every revision ``next_batch(after_id)`` yields, store the results and
    (with ``index``) update the index rows of their articles. Returns how many
    revisions were derived."""
    done = 0

    def save(results: list[Result]) -> None:
        nonlocal done
        with store.transaction():
            store.save_derived([(rid, html, text) for rid, _aid, html, text, _prep, _chars in results])
            if index:
                update_index(
                    store,
                    sorted({result[1] for result in results}),
                    {rid: (prep, chars) for rid, _aid, _html, _text, prep, chars in results if prep is not None},
                )
        done += len(results)
        if progress is not None:
            progress(done)

    _run(
        functools.partial(
            _clean_items, pack=store.derived_packer(), index=index, characters=store.INDEX_CHARACTERS
        ),
        _revision_items(store, next_batch),
        save,
        cleaner=cleaner,
        expected=expected,
        workers=workers,
        stopped=stopped,
    )
    return done


def rebuild_index(
    store: Store,
    *,
    cleaner: Cleaner,
    expected: int = 0,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Drop the search index and build it again from the archive; returns the rows written."""
    store.clear_index()
    done = 0

    def batches() -> Iterator[list[Source]]:
        after = 0
        while ids := store.article_ids(after, BATCH):
            after = ids[-1]
            sources = store.index_sources(ids)
            yield [(a, tr, t, br, b) for a, (tr, t, br, b) in sources.items()]

    def save(rows: list[Any]) -> None:
        nonlocal done
        with store.transaction():
            store.write_index([], rows)
        done += len(rows)
        if progress is not None:
            progress(done)

    work = functools.partial(_prepare_sources, characters=store.INDEX_CHARACTERS)
    _run(work, batches(), save, cleaner=cleaner, expected=expected, workers=workers)
    return done
