"""Worker processes of a large publish.

The first publish of a large archive renders tens of thousands of article pages, which
is CPU-bound Python. When enough pages are due (:data:`PARALLEL_FROM`), forked workers,
one per core, each with its own connection to the archive, render and write the article
pages in batches and export the documents layout, while the publishing process writes
the timelines, days and feeds; it then records what the workers made in the manifest.
A page is the same bytes whichever process renders it.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

from ..archive import Archive, open_archive
from ..export.safe_files import SafeFolder
from .files import Mirror
from .site import PageRenderer, PageSettings

__all__ = ["BATCH", "PARALLEL_FROM", "Workers"]

#: Article pages due before workers pay off (starting them costs about a second).
PARALLEL_FROM = 400
#: Articles a worker renders per task.
BATCH = 100
_MAX_WORKERS = 4

#: What a task reports of each page: its path, its digest, and whether its file was written.
Made = list[tuple[str, str, bool]]


class _Worker:
    def __init__(self, database: str, out: str, settings: PageSettings) -> None:
        self.archive = open_archive(database)
        self.renderer = PageRenderer(self.archive, settings)
        # The publishing process holds the mirror's lock; workers write disjoint pages.
        self.mirror = Mirror(SafeFolder.open_root(Path(out)))
        self.out = out


_WORKER: _Worker | None = None


def _start(database: str, out: str, settings: PageSettings) -> None:
    global _WORKER
    _WORKER = _Worker(database, out, settings)


def _render(batch: list[tuple[int, str]]) -> Made:
    assert _WORKER is not None
    made: Made = []
    for article_id, full_digest in batch:
        pages, shown = _WORKER.renderer.render(article_id, full_digest)
        for path, written in _WORKER.renderer.copy_media(_WORKER.mirror, shown):
            made.append((path, "", written))
        for path, page_digest, data in pages:
            made.append((path, page_digest, _WORKER.mirror.write(path, data)))
    return made


def _export(site: str | None) -> list[str]:
    assert _WORKER is not None
    return list(_WORKER.archive.export_documents(Path(_WORKER.out), site=site).paths)


class Workers:
    """A pool of forked workers for one publish; use :meth:`start`, then :meth:`close`."""

    def __init__(self, pool: ProcessPoolExecutor) -> None:
        self._pool = pool

    @classmethod
    def start(cls, archive: Archive, out: Path, settings: PageSettings, due: int) -> Workers | None:
        """Workers when ``due`` pages make them worth it and this system can fork; else None."""
        database = getattr(archive.store, "path", None)
        count = min(os.cpu_count() or 1, _MAX_WORKERS)
        if due < PARALLEL_FROM or count < 2 or database is None or "fork" not in get_all_start_methods():
            return None
        pool = ProcessPoolExecutor(
            max_workers=count,
            mp_context=get_context("fork"),
            initializer=_start,
            initargs=(str(database), str(out), settings),
        )
        return cls(pool)

    def render(self, stale: list[tuple[int, str]]) -> list[Future[Made]]:
        """Render and write the pages of ``stale`` articles, :data:`BATCH` at a time."""
        return [self._pool.submit(_render, stale[start : start + BATCH]) for start in range(0, len(stale), BATCH)]

    def export(self, site: str | None) -> Future[list[str]]:
        """Export the documents layout (of one site, or all) into the mirror."""
        return self._pool.submit(_export, site)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
