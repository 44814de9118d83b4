"""Walking the archive article by article, each with its revisions, in one pass of each."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Article, Revision
from ..store import Store

__all__ = ["articles_with_revisions"]


def _grouped(revisions: Iterator[Revision]) -> Iterator[tuple[int, list[Revision]]]:
    group: list[Revision] = []
    for revision in revisions:
        if group and group[0].article_id != revision.article_id:
            yield group[0].article_id, group
            group = []
        group.append(revision)
    if group:
        yield group[0].article_id, group


def articles_with_revisions(store: Store, site: str | None = None) -> Iterator[tuple[Article, list[Revision]]]:
    """Every article (of one site, or all) by id, with its revisions oldest first: two
    ordered reads walked side by side, never the whole archive in memory."""
    revisions = _grouped(store.iter_revisions(site))
    pending = next(revisions, None)
    for article in store.iter_articles(site):
        own: list[Revision] = []
        while pending is not None and pending[0] <= article.id:
            if pending[0] == article.id:
                own = pending[1]
            pending = next(revisions, None)
        yield article, own
