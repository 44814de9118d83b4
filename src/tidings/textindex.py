"""Text preparation for search: the same for what is indexed and what is asked.

Text is NFKC-normalised, case-folded and folded from Traditional to Simplified
Chinese (OpenCC ``t2s``). Every run of CJK characters (Chinese, kana, hangul)
becomes overlapping bigrams followed by the run's last character alone::

    "G7外长会议" -> "g7 外长 长会 会议 议"

so that any CJK substring of two or more characters is a phrase of
consecutive bigrams, and any single character is the prefix of a bigram or
that trailing character. Latin words stay words (FTS5's unicode61 tokenizer
splits them). The query side builds FTS5 expressions from the same
preparation (:func:`term_expression`).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache
from typing import Any

__all__ = ["characters_match", "cjk_characters", "fold", "prepare", "prepare_query_run", "term_expression", "is_cjk"]

_CJK_CLASS = (
    "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0002fa1f"
)
_CJK_RUN = re.compile(f"[{_CJK_CLASS}]+")
_CJK_RUN_SPLIT = re.compile(f"([{_CJK_CLASS}]+)")  # the text between runs, then a run, ...
_CJK_CHAR = re.compile(f"[{_CJK_CLASS}]")


@lru_cache(maxsize=1)
def _converter() -> Any:
    """OpenCC's Traditional-to-Simplified converter, loaded on first use (~12 ms)."""
    import opencc

    return opencc.OpenCC("t2s.json")


def fold(text: str) -> str:
    """NFKC, case folding and Traditional→Simplified folding."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    if _CJK_CHAR.search(folded):
        folded = _converter().convert(folded)
    return folded


def is_cjk(text: str) -> bool:
    return _CJK_CHAR.search(text) is not None


def _bigrams(run: str, trailing: bool) -> str:
    if len(run) == 1:
        return run
    grams = [run[i : i + 2] for i in range(len(run) - 1)]
    if trailing:
        grams.append(run[-1])
    return " ".join(grams)


#: Fixed-width code units in this machine's byte order (memoryview.cast("I") reads them so).
_UTF32 = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"
_SPACE_UTF32 = " ".encode(_UTF32)


def _expanded_runs(runs: list[str]) -> list[str]:
    """``_bigrams(run, True)`` of each of (one or more) runs, built together in C.

    The runs are joined with NUL (never in a run) and the whole is laid out as
    overlapping pairs in fixed-width (UTF-32) code units: character i, character i + 1,
    space, for every i, then the last character. Split at the NULs, every other piece is
    a run's bigrams, each after the first starting with the run's first character and a
    space (the pair that began at the NUL)."""
    joined = "\0".join(runs)
    size = len(joined)
    source = memoryview(joined.encode(_UTF32)).cast("I")
    laid = bytearray(_SPACE_UTF32 * (3 * size - 2))
    units = memoryview(laid).cast("I")
    units[0::3] = source
    units[1::3] = source[1:]
    pieces = laid.decode(_UTF32).split("\0")[0::2]
    pieces[1:] = [piece[2:] for piece in pieces[1:]]
    return pieces


def prepare(text: str | None) -> str:
    """The indexed form of a text (see the module docstring)."""
    if not text:
        return ""
    parts = _CJK_RUN_SPLIT.split(fold(text))
    if len(parts) == 1:
        return parts[0]
    parts[1::2] = [f" {grams} " for grams in _expanded_runs(parts[1::2])]
    return "".join(parts)


# A stretch of CJK characters and single spaces: in a prepared text, the bigrams of one run.
_CJK_STRETCH = re.compile(f"[{_CJK_CLASS}](?:[{_CJK_CLASS} ]*[{_CJK_CLASS}])?")


def cjk_characters(prepared: str) -> str:
    """The distinct CJK characters of a prepared text, in code point order, space-separated:
    what a single-character query looks up (each once per text, so the list is short).

    A run's bigrams ``ab bc cd d`` hold every character at a position 0 (mod 3); those at 1
    repeat the next ones at 0 and those at 2 are spaces, which is checked before only
    every third character of the stretch is looked at (any other string: all of it)."""
    pieces = [
        stretch[::3] if stretch[1::3] == stretch[3::3] and not stretch[2::3].strip(" ") else stretch
        for stretch in _CJK_STRETCH.findall(prepared)
    ]
    if not pieces:
        return ""
    codes = set(memoryview("".join(pieces).encode(_UTF32)).cast("I"))
    codes.discard(ord(" "))
    return " ".join(map(chr, sorted(codes)))


_ONE_CHARACTER_TERM = re.compile(f'"([{_CJK_CLASS}])" \\*')


def characters_match(expression: str, columns: str) -> str:
    """An FTS5 expression as :func:`term_expression` writes them, each single CJK character
    (a prefix of every token it begins) looked up in ``columns`` of :func:`cjk_characters`
    instead. (A token never holds a quote, so ``"X" *`` is only ever such a term.)"""
    return _ONE_CHARACTER_TERM.sub(lambda m: f'({{{columns}}} : "{m.group(1)}")', expression)


def cjk_grams(text: str) -> str:
    """The CJK runs of ``text``, folded, as overlapping bigrams (and each run's last
    character), space-separated; "" when it has none. What a word-based index (a static
    site's) is handed so that any CJK substring is found whatever its word boundaries."""
    runs = _CJK_RUN.findall(fold(text))
    return " ".join(_expanded_runs(runs)) if runs else ""


def prepare_query_run(run: str, trailing: bool) -> list[str]:
    """Tokens of one folded CJK run in a query (bigrams; the trailing single
    character only where the text must end the run there)."""
    if len(run) == 1:
        return [run]
    return _bigrams(run, trailing).split(" ")


_WORD = re.compile(rf"[{_CJK_CLASS}]+|[^\W{_CJK_CLASS}]+", re.UNICODE)


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


@lru_cache(maxsize=4096)
def term_expression(term: str, *, prefix: bool = False) -> str | None:
    """An FTS5 expression matching a query term or phrase; None if it holds nothing searchable.

    A single CJK character matches as a prefix (it may start a bigram or end a
    run); longer CJK strings match as phrases of bigrams; ``prefix`` applies to
    a Latin word.
    """
    folded = fold(term)
    pieces = _WORD.findall(folded)
    if not pieces:
        return None
    tokens: list[str] = []
    last = len(pieces) - 1
    for index, piece in enumerate(pieces):
        if _CJK_CHAR.match(piece):
            # A run followed by more of the phrase must end there in the text too.
            tokens.extend(prepare_query_run(piece, trailing=index < last))
        else:
            tokens.append(piece)
    if len(tokens) == 1:
        token = tokens[0]
        if _CJK_CHAR.match(token) and len(token) == 1:
            return f"{_quote(token)} *"
        return f"{_quote(token)} *" if prefix and not _CJK_CHAR.match(token) else _quote(token)
    expression = '"' + " ".join(t.replace('"', '""') for t in tokens) + '"'
    if prefix and not _CJK_CHAR.match(tokens[-1]):
        expression += " *"
    return expression
