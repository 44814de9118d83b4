"""Search snippets: a window of an article's own text with the matches marked. Pure.

Matching is done on the folded text (NFKC, case, Traditional→Simplified, as
the index sees it), but the snippet is cut from the original text, so a
Traditional article found by a Simplified query shows its Traditional words.
"""

from __future__ import annotations

import html
import unicodedata
from functools import lru_cache

from .textindex import fold

__all__ = ["make_snippet"]


@lru_cache(maxsize=65536)
def _fold_char(char: str) -> str:
    return fold(char)


def _folded_with_map(text: str) -> tuple[str, list[int] | None]:
    folded = fold(text)
    if len(folded) == len(text):
        return folded, None  # positions correspond one to one (the usual case)
    pieces = []
    origin: list[int] = []
    for index, char in enumerate(text):
        piece = _fold_char(char)
        pieces.append(piece)
        origin.extend([index] * len(piece))
    return "".join(pieces), origin


def make_snippet(text: str, terms: tuple[str, ...], width: int = 160) -> str:
    """HTML: about ``width`` characters around the first match, matches in ``<mark>``."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).replace("\n\n", " ¶ ").replace("\n", " ")
    folded, origin = _folded_with_map(text)
    spans: list[tuple[int, int]] = []
    for term in terms:
        needle = term.strip()
        if not needle:
            continue
        start = folded.find(needle)
        while start >= 0 and len(spans) < 200:
            end = start + len(needle)
            if origin is not None:
                spans.append((origin[start], origin[end - 1] + 1))
            else:
                spans.append((start, end))
            start = folded.find(needle, end)
    spans.sort()
    first = spans[0][0] if spans else 0
    begin = max(0, first - width // 4)
    if begin:
        space = text.rfind(" ", max(0, begin - 15), begin)
        begin = space + 1 if space >= 0 else begin
    finish = min(len(text), begin + width)
    if finish < len(text):
        space = text.find(" ", finish, finish + 15)
        finish = space if space >= 0 else finish
    parts = ["…" if begin else ""]
    position = begin
    for start, end in spans:
        if start < position or start >= finish:
            continue
        end = min(end, finish)
        parts.append(html.escape(text[position:start]))
        parts.append(f"<mark>{html.escape(text[start:end])}</mark>")
        position = end
    parts.append(html.escape(text[position:finish]))
    if finish < len(text):
        parts.append("…")
    return "".join(parts).strip()
