"""Differences between two revisions' texts, inline. Pure.

Chinese, Japanese and Korean text is compared character by character, other
text word by word (whitespace kept), so an edited headline or paragraph shows
exactly what changed. The result is HTML: unchanged text escaped, removed text
in ``<del>``, added text in ``<ins>``, paragraphs in ``<p>``.
"""

from __future__ import annotations

import difflib
import html
import re

__all__ = ["inline_diff"]

_TOKEN = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\u3000-\u303f]"
    r"|\s+|[^\s\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+"
)


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def inline_diff(old: str, new: str) -> str:
    """HTML showing how ``new`` differs from ``old``; a change that spans paragraphs is
    marked in each of them, so the markup always nests."""
    a, b = _tokens(old), _tokens(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    segments: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            segments.append(("", "".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            segments.append(("del", "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            segments.append(("ins", "".join(b[j1:j2])))
    paragraphs: list[list[str]] = [[]]
    for tag, text in segments:
        for number, piece in enumerate(text.split("\n\n")):
            if number:
                paragraphs.append([])
            if piece.strip():
                escaped = html.escape(piece)
                paragraphs[-1].append(f"<{tag}>{escaped}</{tag}>" if tag else escaped)
            elif piece:
                paragraphs[-1].append(html.escape(piece))
    return "".join(f"<p>{''.join(parts)}</p>" for parts in paragraphs if "".join(parts).strip())
