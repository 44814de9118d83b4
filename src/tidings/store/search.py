"""Search results on every database: candidates ranked by the database's own index, then
grouped by story. What ranks candidates is each store's (SQLite: FTS5 and BM25;
PostgreSQL: a tsvector and ts_rank); the rest is here.

Relevance ranks the matches a window at a time, the newest :data:`RANK_WINDOW` matches
first, then the next window, and so on: scoring costs per match, so a common word costs
one window's scoring, however large the archive. A score is its window's number times
:data:`TIER` plus the database's own score (which is in (-TIER, 0]), so that keyset pages
go on from one window into the next and every match comes once."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from .common import Queries, time_range, wrap_errors

__all__ = ["RANK_WINDOW", "TIER", "SearchQueries", "Window"]

#: Matches ranked together: the newest this many, then the next this many, ...
RANK_WINDOW = 1024
#: The score distance between two windows.
TIER = 1_000_000.0
_NEWEST = (1 << 63) - 1  # above every article id
#: A relevance window: the article id of its newest match, that of the next window's
#: newest (None: no next window), and what its scores start from.
Window = tuple[int, int | None, float]


class _Windows:
    """Where each window of a query's matches begins (the article id of its newest match,
    None past the last), found as they are needed."""

    def __init__(self, queries: SearchQueries, match: str, where: list[str], params: list[Any]) -> None:
        self._queries, self._match, self._where, self._params = queries, match, where, params
        self._tops: list[int | None] = [_NEWEST]

    def top(self, window: int) -> int | None:
        # The first window starts at the newest match: no bound to look up.
        while len(self._tops) <= window:
            if self._tops[-1] is None:
                return None
            self._tops.append(self._queries._window_top(self._match, self._where, self._params, len(self._tops)))
        return self._tops[window]

    def of(self, article_id: int) -> int:
        """The window of a matching article."""
        window = 0
        while (below := self.top(window + 1)) is not None and article_id <= below:
            window += 1
        return window


class SearchQueries(Queries):
    """The shared half of search (mixed into each store)."""

    def _ranked(
        self,
        match: str,
        where: list[str],
        params: list[Any],
        keyset: str,
        candidates: int,
        window: Window,
    ) -> list[tuple[int, float]]:
        """(article id, score) of the best ``candidates`` matches of a :data:`Window`, best
        (lowest score) first, ties to the article archived last. ``where`` are conditions on the article ``a`` (joined only when there are any) and
        ``keyset`` a condition on ``score`` and ``id``, ``params`` the parameters of both."""
        raise NotImplementedError

    def _window_top(self, match: str, where: list[str], params: list[Any], window: int) -> int | None:
        """The highest article id of relevance window ``window`` (1 or more) among the
        matches that meet the conditions ``where`` on the article ``a`` (with ``params``);
        None past the last window."""
        raise NotImplementedError

    def _scores(self, match: str, article_ids: list[int]) -> dict[int, float]:
        """The scores of these articles for ``match`` (those that match)."""
        raise NotImplementedError

    def _index_match(self, match: str) -> str:
        """The expression as this database's index runs it (see SQLite's)."""
        return match

    def _newest(
        self, match: str, where: list[str], params: list[Any], before: int | None, candidates: int
    ) -> list[int]:
        """The ids of the last archived ``candidates`` matches (before article ``before``),
        last first: the index is walked in that order and left after one page."""
        raise NotImplementedError

    @wrap_errors
    def search(
        self,
        match: str,
        *,
        limit: int,
        site: str | None = None,
        feed_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        lang: str | None = None,
        after: tuple[float, int, int] | None = None,
        newest: bool = False,
    ) -> list[tuple[Any, ...]]:
        """Matching articles, best first: (id, site, url, published ms, score, title,
        body text, sources) rows, one per story (articles of several feeds with the same
        URL come once, with every site in ``sources``). ``after`` is the keyset of the
        last row of the previous page: (score, published ms, id). With ``newest``, the
        last archived first (the score is then minus the article's id).

        Two steps: the index ranks candidates by itself, which is what costs on common
        words; only the few candidates of the page are then joined to their articles and
        grouped by story.
        """
        match = self._index_match(match)
        where: list[str] = []
        params: list[Any] = []
        if site is not None:
            where.append("a.site_id = (SELECT id FROM sites WHERE name = ?)")
            params.append(site)
        if feed_id is not None:
            where.append("a.feed_id = ?")
            params.append(feed_id)
        time_range(where, params, since, until)
        if lang is not None:
            where.append(
                "(SELECT lower(language) FROM revisions WHERE id = a.current_revision_id) LIKE ?"
            )
            params.append(lang + "%")
        # Enough candidates to fill the page after grouping stories and breaking ties.
        candidates = limit * 2 + 10
        if newest:
            ranked = [
                (article_id, float(-article_id))
                for article_id in self._newest(match, where, params, after[2] if after else None, candidates)
            ]
        else:
            # Windows of the matches the filters keep: a site's few among a common word's many
            # are one walk, not a window after window of others.
            windows = _Windows(self, match, where, params)
            number = 0 if after is None else min(max(0, math.ceil(after[0] / TIER)), 1 << 20)
            ranked = []
            while len(ranked) < candidates and (top := windows.top(number)) is not None:
                keyset, more = "", []
                if after is not None and not ranked:
                    score, _published, article_id = after
                    keyset = "WHERE score > ? OR (score = ? AND id < ?)"
                    more = [score, score, article_id]
                ranked += self._ranked(
                    match,
                    where,
                    params + more,
                    keyset,
                    candidates - len(ranked),
                    (top, windows.top(number + 1), number * TIER),
                )
                number += 1
        if not ranked:
            return []
        scores = dict(ranked)
        details = list(
            self._rows_in(
                "SELECT a.id, s.name, a.url, coalesce(a.published, a.first_seen), i.title_revision,"
                " i.body_revision FROM articles a JOIN sites s ON s.id = a.site_id"
                " JOIN search_rows i ON i.article_id = a.id WHERE a.id IN ({marks})",
                list(scores),
            )
        )
        details.sort(key=lambda d: (scores[d[0]], -d[0]))
        urls = sorted({row[2] for row in details})
        sources: dict[str, list[str]] = {}
        siblings: dict[str, list[int]] = {}
        found = sorted(
            self._rows_in(
                "SELECT a.id, a.url, s.name FROM articles a JOIN sites s ON s.id = a.site_id"
                " WHERE a.url IN ({marks})",
                urls,
            )
        )
        for article_id, url, name in found:
            siblings.setdefault(url, []).append(article_id)
            if name not in sources.setdefault(url, []):
                sources[url].append(name)
        # A story is shown once, by its best-ranked article: another article of the
        # same story that ranks better (on this page or an earlier one) hides this one.
        others = [i for ids in siblings.values() if len(ids) > 1 for i in ids if i not in scores]
        if others:
            matching = self._scores(match, others)
            if newest:
                scores.update({i: float(-i) for i in matching})
            else:
                scores.update({i: windows.of(i) * TIER + score for i, score in matching.items()})
        chosen = []
        for row in details:
            rank = (scores[row[0]], -row[0])
            if any(
                (scores[other], -other) < rank
                for other in siblings.get(row[2], ())
                if other != row[0] and other in scores
            ):
                continue
            chosen.append(row)
            if len(chosen) == limit:
                break
        texts = dict(self._rows_in("SELECT id, title FROM revisions WHERE id IN ({marks})", [row[4] for row in chosen]))
        body = self._read_derived("text", "content_html")
        bodies = dict(self._rows_in(f"SELECT id, {body} FROM revisions WHERE id IN ({{marks}})", [row[5] for row in chosen]))
        return [
            (
                row[0],
                row[1],
                row[2],
                row[3],
                scores[row[0]],
                texts.get(row[4], ""),
                bodies.get(row[5], ""),
                "\x1f".join(sources.get(row[2], [row[1]])),
            )
            for row in chosen
        ]
