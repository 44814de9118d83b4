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
    """HTML showing how ``new`` differs from ``old``."""
    a, b = _tokens(old), _tokens(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    out: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(html.escape("".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            out.append(f"<del>{html.escape(''.join(a[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            out.append(f"<ins>{html.escape(''.join(b[j1:j2]))}</ins>")
    body = "".join(out)
    return "".join(f"<p>{part}</p>" for part in body.split("\n\n") if part.strip())
