"""The search query language, parsed into an FTS5 expression and filters. Pure.

::

    停火 加沙                 both terms (any CJK string of one or more characters, or a word)
    "exact phrase"            the words (or characters) in this order
    停火 OR ceasefire         either
    停火 -演习                 without the second
    minist*                   a Latin word's prefix
    site:法广 feed:3 lang:zh since:2023-11-01 until:2023-11-30
    sort:new                  the last archived first (default: the best matches first)

Traditional and Simplified Chinese find each other; case and width do not
matter. A query that cannot be understood raises :class:`QueryError` with a
one-line explanation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from .errors import InvalidInputError
from .textindex import fold, term_expression

__all__ = ["FILTERS", "SORTS", "Query", "QueryError", "parse_query"]

FILTERS = ("site", "feed", "since", "until", "lang", "sort")
#: The orders ``sort:`` accepts: relevance (the default) and the last archived first.
SORTS = ("relevance", "new")
_EXAMPLES = {
    "site": "site:法广",
    "feed": "feed:3",
    "since": "since:2023-11-01",
    "until": "until:2023-11-30",
    "lang": "lang:zh",
    "sort": "sort:new",
}
_TOKEN = re.compile(r'\s*(-)?(?:([A-Za-z]+):)?(?:"([^"]*)"|(\S+))')


class QueryError(InvalidInputError):
    """A search query that cannot be understood."""


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: the FTS5 expression, the terms to highlight, the filters."""

    match: str
    terms: tuple[str, ...]
    site: str | None = None
    feed: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    lang: str | None = None
    #: ``relevance`` or ``new`` (see :data:`SORTS`).
    sort: str = "relevance"


def _date(value: str, name: str, end: bool) -> datetime:
    try:
        day = datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise QueryError(f"{name}: needs a date like 2023-11-08, not {value!r}") from None
    moment = datetime.combine(day.date(), time(0), timezone.utc)
    return moment + timedelta(days=1) if end else moment


def parse_query(text: str, sort: str | None = None) -> Query:
    """Parse a search query (see the module docstring); ``sort``, when given, overrides
    the query's ``sort:``."""
    if text.count('"') % 2:
        raise QueryError('the query has an unmatched "')
    groups: list[list[str]] = [[]]
    negatives: list[str] = []
    highlights: list[str] = []
    filters: dict[str, str] = {}
    position = 0
    pending_or = False
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            break
        position = match.end()
        negative, name, quoted, bare = match.groups()
        if quoted is None and bare is None:
            continue
        if name is None and bare is not None and bare.endswith(":") and bare[:-1].lower() in FILTERS:
            raise QueryError(f"{bare} needs a value right after the colon, as in {_EXAMPLES[bare[:-1].lower()]}")
        if name is not None and name.lower() in FILTERS and not negative:
            value = quoted if quoted is not None else bare
            if not (value or "").strip():
                raise QueryError(f"{name}: needs a value, as in {_EXAMPLES[name.lower()]}")
            filters[name.lower()] = value or ""
            continue
        if name is not None:
            # not a filter: the word with its colon is an ordinary term
            bare = f"{name}:{bare}" if bare is not None else None
            quoted = f"{name}:{quoted}" if quoted is not None else None
        if quoted is None and bare == "OR" and not negative:
            if not groups[-1]:
                raise QueryError("OR needs a term on each side")
            pending_or = True
            continue
        term = quoted if quoted is not None else bare or ""
        prefix = quoted is None and term.endswith("*") and len(term) > 1
        expression = term_expression(term.rstrip("*") if prefix else term, prefix=prefix)
        if expression is None:
            continue
        if negative:
            negatives.append(expression)
            continue
        if pending_or:
            groups.append([])
            pending_or = False
        groups[-1].append(expression)
        highlights.append(fold(term.rstrip("*")))
    if pending_or:
        raise QueryError("OR needs a term on each side")
    positive = [g for g in groups if g]
    if not positive:
        raise QueryError("the query has nothing to look for (give at least one word or term)")
    expression = " OR ".join("(" + " AND ".join(group) + ")" for group in positive)
    if negatives:
        expression = f"({expression}) NOT ({' OR '.join(negatives)})"
    given = sort if sort is not None else filters.get("sort", "relevance")
    sort = given.lower()
    if sort not in SORTS:
        raise QueryError(f"sort: is relevance or new, not {given!r}")
    feed = filters.get("feed")
    if feed is not None and not feed.isdigit():
        raise QueryError(f"feed: needs a feed number (see tidings feeds), not {feed!r}")
    return Query(
        match=expression,
        terms=tuple(dict.fromkeys(h for h in highlights if h.strip())),
        site=filters.get("site"),
        feed=int(feed) if feed is not None else None,
        since=_date(filters["since"], "since", False) if "since" in filters else None,
        until=_date(filters["until"], "until", True) if "until" in filters else None,
        lang=filters.get("lang", "").lower() or None,
        sort=sort,
    )
