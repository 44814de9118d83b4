"""Search on the published mirror: a Pagefind index of the article pages, and a search
page that uses it.

Pagefind (its extended build, from PyPI as ``pagefind[extended]``) indexes the article
pages (their title and body, marked ``data-pagefind-body``) into ``pagefind/``, a set
of small content-addressed files a browser fetches as a search needs them; nothing runs
on a server. The index is built in a temporary folder and copied over the mirror's
``pagefind/`` file by file, only where bytes differ, and files the new index no longer
has are removed, so a mirror kept in git changes only where the index did.

Pagefind splits Chinese into words with a dictionary, so a string that spans two of its
words would not be found as a word. Article pages therefore also hand Pagefind (in a hidden
element) their CJK text folded (NFKC, lower case, Traditional to Simplified) as overlapping
bigrams, as tidings' own index holds it; the search page asks Pagefind for the bigrams of
the query, folded the same way (a table of single characters written next to it from
OpenCC), and keeps only the candidates whose text holds the query itself, so every hit
contains what was asked and any string of the text is found, in either script. Opened from ``file://``, where a browser will not load the
index, the page says so and links to the timelines; it loads no script there.
"""

from __future__ import annotations

import functools
import importlib.util
import json

import subprocess
import sys
import tempfile
from pathlib import Path

from ..pages import Pages, StaticLinks
from ..pages.render import ChineseCheck
from ..textindex import fold
from .files import Mirror

__all__ = [
    "INDEX_FOLDER", "SearchBuild", "build_index", "fold_table", "pagefind_command",
    "write_search_page",
]

#: Where the index lives in the mirror.
INDEX_FOLDER = "pagefind"
_SCRIPT = Path(__file__).parent / "search.js"
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2A6DF))
_INDEX_FILE_LIMIT = 256 << 20


class SearchBuild:
    """What building the index did."""

    def __init__(self, built: bool, message: str, written: int = 0, removed: int = 0) -> None:
        self.built = built
        self.message = message
        self.written = written
        self.removed = removed


def pagefind_command() -> list[str] | None:
    """How to run Pagefind (its Python package's launcher), or None when it is not installed."""
    found = any(importlib.util.find_spec(name) for name in ("pagefind_bin_extended", "pagefind_bin"))
    if not found or importlib.util.find_spec("pagefind") is None:
        return None
    return [sys.executable, "-m", "pagefind"]


@functools.cache
def fold_table() -> dict[str, str]:
    """Every CJK character whose folded form differs from it (Traditional → Simplified)."""
    table: dict[str, str] = {}
    for start, end in _CJK_RANGES:
        chars = "".join(chr(code) for code in range(start, end + 1))
        folded = fold(chars)
        if len(folded) == len(chars):
            table.update((a, b) for a, b in zip(chars, folded, strict=True) if a != b)
        else:  # a character folded into several: one at a time
            for ch in chars:
                one = fold(ch)
                if one != ch and len(one) == 1:
                    table[ch] = one
    return table


def write_search_page(mirror: Mirror, pages: Pages, links: StaticLinks, lang: str, chinese: ChineseCheck) -> None:
    """``search.html``, its script and the folding table."""
    html = pages.render("search_static.html", lang=lang, links=links.at("search.html"), chinese=chinese)
    mirror.write("search.html", html.encode("utf-8"))
    mirror.write("search.js", _SCRIPT.read_bytes())
    table = json.dumps(fold_table(), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    mirror.write("search-fold.js", f"window.TIDINGS_FOLD={table};\n".encode("utf-8"))


def build_index(mirror: Mirror, *, timeout: float = 3600) -> SearchBuild:
    """Index the mirror's article pages with Pagefind and copy the index in."""
    command = pagefind_command()
    if command is None:
        return SearchBuild(False, "search index not built: Pagefind is not installed (pip install 'pagefind[extended]')")
    with tempfile.TemporaryDirectory(prefix="tidings-pagefind-") as temporary:
        output = Path(temporary) / INDEX_FOLDER
        try:
            completed = subprocess.run(
                [
                    *command,
                    "--site", str(mirror.path),
                    "--output-path", str(output),
                    "--glob", "article/*.html",
                    "--force-language", "zh",
                    "--silent",
                ],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return SearchBuild(False, f"search index not built: Pagefind did not finish ({exc})")
        if completed.returncode != 0:
            detail = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or ["no message"]
            return SearchBuild(False, f"search index not built: Pagefind failed: {detail[0][:300]}")
        return _copy_index(mirror, output)


def _copy_index(mirror: Mirror, output: Path) -> SearchBuild:
    before = len(mirror.written)
    fresh: set[str] = set()
    for path in sorted(output.rglob("*")):
        if path.is_file():
            relative = f"{INDEX_FOLDER}/{path.relative_to(output).as_posix()}"
            fresh.add(relative)
            mirror.write(relative, path.read_bytes())
    written = len(mirror.written) - before
    removed = 0
    if mirror.listing("").get(INDEX_FOLDER) == "folder":
        for stale in list(mirror.files_under(INDEX_FOLDER)):
            if stale not in fresh:
                mirror.remove(stale)
                removed += 1
    return SearchBuild(True, f"search index: {written} files written, {removed} removed", written, removed)



