"""Differences between two revisions' texts, inline. Pure.

Chinese, Japanese and Korean text is compared character by character, other
text word by word (whitespace kept), so an edited headline or paragraph shows
exactly what changed. :func:`diff_segments` gives the pieces; :func:`inline_diff`
renders them as HTML (unchanged text escaped, removed text in ``<del>``, added
text in ``<ins>``, paragraphs in ``<p>``), :func:`terminal_diff` for a terminal
(red and green, or ``[-removed-]{+added+}`` without colour).
"""

from __future__ import annotations

import difflib
import html
import re

__all__ = ["diff_segments", "inline_diff", "terminal_diff"]

_TOKEN = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\u3000-\u303f]"
    r"|\s+|[^\s\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+"
)


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def diff_segments(old: str, new: str) -> list[tuple[str, str]]:
    """``new`` against ``old`` as pieces in order: ``("", text)`` unchanged,
    ``("del", text)`` removed, ``("ins", text)`` added."""
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
    return segments


_ANSI = {"del": ("\x1b[31;9m", "\x1b[0m"), "ins": ("\x1b[32;4m", "\x1b[0m")}
_PLAIN = {"del": ("[-", "-]"), "ins": ("{+", "+}")}


def terminal_diff(old: str, new: str, *, colour: bool) -> str:
    """Text showing how ``new`` differs from ``old``: removed text red and struck
    through, added text green and underlined (``colour``), else marked
    ``[-removed-]`` and ``{+added+}``."""
    marks = _ANSI if colour else _PLAIN
    out = []
    for tag, text in diff_segments(old, new):
        if not tag:
            out.append(text)
            continue
        opening, closing = marks[tag]
        # Mark each paragraph on its own, so a change never runs across a blank line.
        out.append("\n\n".join(f"{opening}{p}{closing}" if p.strip() else p for p in text.split("\n\n")))
    return "".join(out)


def inline_diff(old: str, new: str) -> str:
    """HTML showing how ``new`` differs from ``old``; a change that spans paragraphs is
    marked in each of them, so the markup always nests."""
    paragraphs: list[list[str]] = [[]]
    for tag, text in diff_segments(old, new):
        for number, piece in enumerate(text.split("\n\n")):
            if number:
                paragraphs.append([])
            if piece.strip():
                escaped = html.escape(piece)
                paragraphs[-1].append(f"<{tag}>{escaped}</{tag}>" if tag else escaped)
            elif piece:
                paragraphs[-1].append(html.escape(piece))
    return "".join(f"<p>{''.join(parts)}</p>" for parts in paragraphs if "".join(parts).strip())
