"""Per-feed keep and block rules: which entries of a feed are archived.

Rules are regular expressions searched case-insensitively in an entry's
title, categories (any of them) or author. An entry is kept when every keep
rule that is set matches and no block rule matches; an entry without the
field a keep rule looks at is not kept. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .errors import InvalidRuleError
from .model import FeedOptions, ParsedEntry

__all__ = ["EMOJI", "Rules", "compile_rules", "entry_allowed"]

#: Matches a character from the emoji blocks (used by the China Digital Times preset:
#: that site marks the posts worth archiving with an emoji in a category).
EMOJI = "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u3030\u303d\u3297\u3299]"

_FIELDS = ("title", "category", "author")


@dataclass(frozen=True, slots=True)
class Rules:
    """Compiled rules; None where no rule is set."""

    keep: tuple[re.Pattern[str] | None, re.Pattern[str] | None, re.Pattern[str] | None]
    block: tuple[re.Pattern[str] | None, re.Pattern[str] | None, re.Pattern[str] | None]

    @property
    def empty(self) -> bool:
        return not any(self.keep) and not any(self.block)


def _compile(pattern: str | None, name: str) -> re.Pattern[str] | None:
    if not pattern:
        return None
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise InvalidRuleError(f"{name} rule {pattern!r} is not a regular expression: {exc}") from exc


@lru_cache(maxsize=1024)
def compile_rules(options: FeedOptions) -> Rules:
    """Compile a feed's rules; InvalidRuleError names a rule that is not a regular expression."""
    keep = tuple(_compile(getattr(options, f"keep_{f}"), f"keep-{f}") for f in _FIELDS)
    block = tuple(_compile(getattr(options, f"block_{f}"), f"block-{f}") for f in _FIELDS)
    return Rules(keep, block)  # type: ignore[arg-type]


def _values(entry: ParsedEntry) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    return (
        (entry.title,) if entry.title else (),
        entry.categories,
        (entry.author,) if entry.author else (),
    )


def entry_allowed(entry: ParsedEntry, rules: Rules) -> bool:
    """Whether the rules let this entry into the archive."""
    if rules.empty:
        return True
    values = _values(entry)
    for pattern, field_values in zip(rules.keep, values):
        if pattern is not None and not any(pattern.search(v) for v in field_values):
            return False
    for pattern, field_values in zip(rules.block, values):
        if pattern is not None and any(pattern.search(v) for v in field_values):
            return False
    return True
