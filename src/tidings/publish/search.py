"""Search on the published mirror: a Pagefind index of the article pages, and a search
page that uses it.

Pagefind (its extended build, from PyPI as ``pagefind[extended]``) indexes the article
pages (their title and body, marked ``data-pagefind-body``) into bundles of small
content-addressed files a browser fetches as a search needs them; nothing runs on a
server. There is one bundle per :data:`SHARD` article ids (``pagefind/s0000/``, …), which
the search page merges (Pagefind's ``mergeIndex``): a bundle is built only when one of its
articles changed, in a temporary folder, and copied over the mirror's file by file, only
where bytes differ, removing what it no longer has, so a mirror kept in git changes only
where the index did, and building a large mirror's index needs one bundle's memory.

Pagefind splits Chinese into words with a dictionary, so a string that spans two of its
words would not be found as a word. Article pages therefore also hand Pagefind (in a hidden
element) their CJK text folded (NFKC, lower case, Traditional to Simplified) as overlapping
bigrams, as tidings' own index holds it; the search page asks Pagefind for the bigrams of
the query, folded the same way (a table of single characters written next to it from
OpenCC), then, for what that did not find, for its single characters (Pagefind splits a
bigram its dictionary does not know into characters on the pages but not in a query,
and every character of a page starts a word of its index), and keeps only the candidates
whose text (or handed bigrams) holds the query itself, so every hit contains what was
asked and any string of the text is found, in either script. Opened from ``file://``, where a browser will not load the
index, the page says so and links to the timelines; it loads no script there.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil

import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ..pages import Pages, StaticLinks
from ..pages.render import ChineseCheck
from ..textindex import fold
from .files import Mirror

__all__ = [
    "INDEX_FOLDER", "SHARD", "SearchBuild", "build_index", "fold_table", "pagefind_command", "shard_name",
    "write_search_page",
]

#: Where the index lives in the mirror.
INDEX_FOLDER = "pagefind"
_SCRIPT = Path(__file__).parent / "search.js"
#: Article ids per Pagefind bundle: Pagefind holds a whole bundle in memory while it builds
#: it (about 17 GB and climbing for 100,000 articles in one), and a bundle whose articles
#: did not change is not built again.
SHARD = 10_000
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2A6DF))


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
    if not mirror.exists("search-shards.js"):  # until an index is built: none
        mirror.write("search-shards.js", b"window.TIDINGS_SHARDS=[];\n")
    table = json.dumps(fold_table(), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    mirror.write("search-fold.js", f"window.TIDINGS_FOLD={table};\n".encode("utf-8"))


def shard_name(number: int) -> str:
    return f"s{number:04d}"


def build_index(
    mirror: Mirror, article_ids: Iterable[int], changed: Iterable[int], *, timeout: float = 3600
) -> SearchBuild:
    """Index the mirror's article pages with Pagefind, one bundle per :data:`SHARD` article
    ids, rebuilding only the bundles that hold a ``changed`` article (or that are missing),
    and write the list of bundles the search page merges."""
    command = pagefind_command()
    if command is None:
        return SearchBuild(False, "search index not built: Pagefind is not installed (pip install 'pagefind[extended]')")
    members: dict[int, list[int]] = {}
    for article_id in sorted(article_ids):
        members.setdefault(article_id // SHARD, []).append(article_id)
    touched = {article_id // SHARD for article_id in changed}
    stale = [
        number for number in members
        if number in touched or not mirror.exists(f"{INDEX_FOLDER}/{shard_name(number)}/pagefind.js")
    ]
    if not stale and mirror.exists("search-shards.js") and not _other_bundles(mirror, {shard_name(n) for n in members}):
        return SearchBuild(True, "search index unchanged")
    written = removed = 0
    for number in stale:
        built = _build_shard(mirror, command, shard_name(number), members[number], timeout)
        if not built.built:
            return built
        written += built.written
        removed += built.removed
    removed += _remove_other_bundles(mirror, {shard_name(number) for number in members})
    names = json.dumps([shard_name(number) for number in sorted(members, reverse=True)])
    mirror.write("search-shards.js", f"window.TIDINGS_SHARDS={names};\n".encode())
    message = f"search index: {len(stale)} of {len(members)} bundles built, {written} files written, {removed} removed"
    return SearchBuild(True, message, written, removed)


def _build_shard(mirror: Mirror, command: list[str], name: str, article_ids: list[int], timeout: float) -> SearchBuild:
    with tempfile.TemporaryDirectory(prefix="tidings-pagefind-") as temporary:
        site = Path(temporary) / "site"
        (site / "article").mkdir(parents=True)
        for article_id in article_ids:
            source = mirror.path / "article" / f"{article_id}.html"
            target = site / "article" / source.name
            try:
                os.link(source, target)  # the same file, no copy (another file system: a copy)
            except OSError:
                shutil.copyfile(source, target)
        output = Path(temporary) / "bundle"
        try:
            completed = subprocess.run(
                [
                    *command,
                    "--site", str(site),
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
            detail = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or [
                f"exit status {completed.returncode}"
            ]
            return SearchBuild(False, f"search index not built: Pagefind failed: {detail[0][:300]}")
        return _copy_bundle(mirror, output, f"{INDEX_FOLDER}/{name}")


def _copy_bundle(mirror: Mirror, output: Path, folder: str) -> SearchBuild:
    before = len(mirror.written)
    fresh: set[str] = set()
    for path in sorted(output.rglob("*")):
        if path.is_file():
            relative = f"{folder}/{path.relative_to(output).as_posix()}"
            fresh.add(relative)
            mirror.write(relative, path.read_bytes())
    written = len(mirror.written) - before
    removed = 0
    for stale in list(mirror.files_under(folder)):
        if stale not in fresh:
            mirror.remove(stale)
            removed += 1
    return SearchBuild(True, "", written, removed)


def _other_bundles(mirror: Mirror, names: set[str]) -> list[str]:
    """What ``pagefind/`` holds besides the bundles ``names`` (an older layout's files,
    bundles of ids no longer published)."""
    if mirror.listing("").get(INDEX_FOLDER) != "folder":
        return []
    return [name for name in mirror.listing(INDEX_FOLDER) if name not in names]


def _remove_other_bundles(mirror: Mirror, names: set[str]) -> int:
    stale = [path for path in mirror.files_under(INDEX_FOLDER) if path.split("/")[1] not in names]
    for path in stale:
        mirror.remove(path)
    return len(stale)
