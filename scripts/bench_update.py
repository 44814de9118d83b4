#!/usr/bin/env python3
"""Benchmark: the update pipeline (fetch, parse, store) against reader, same run.

Generates realistic news feeds (scripts/benchdata.py; default 200 feeds x 50
items, ~60 MB), serves them from a loopback HTTP server in its own process
(scripts/feedserver.py: ETag, Last-Modified, 304s), and times, each in a fresh
subprocess on a fresh database:

* tidings: first pass (every feed new) and second pass (all 304), timed
  around ``Archive.update()``, and the second pass also as a whole
  ``tidings update --all`` command;
* reader 3.26 (``pip install reader==3.26 sgmllib3k``): ``update_feeds()``
  first and second pass, sequential as it is by default (``--reader-workers``
  to give it threads);
* tidings' peak memory (max RSS) on a first pass over ``--memory-feeds``
  feeds (default 1,000).

Prints the figures and the ratios. Usage:
scripts/bench_update.py [--feeds 200] [--items 50] [--memory-feeds 1000] [--no-reader] [--latency 0]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from benchdata import make_feed  # noqa: E402

TIDINGS_PASS = """
import json, resource, sys, time
sys.path.insert(0, {src!r})
import tidings
archive = tidings.open_archive({db!r}, images={images!r}, keep_responses={keep!r})
if not archive.feeds():
    for url in {urls!r}:
        archive.add_feed(url, site=url.rsplit("/", 1)[1])
start = time.perf_counter()
summary = archive.update(due_only=False)
seconds = time.perf_counter() - start
images = summary.images
again = 0.0
if {again!r}:  # the same pass once more in this process: what a running `tidings run` sees
    start = time.perf_counter()
    archive.update(due_only=False)
    again = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "again_seconds": again, "stored_seconds": summary.seconds,
    "images_archived": images.archived if images else 0, "images_seconds": images.seconds if images else 0,
    "derive_seconds": summary.derive_seconds, "fetched": summary.fetched, "not_modified": summary.not_modified,
    "failed": summary.failed, "new": summary.new_articles,
    "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
archive.close()
"""

READER_PASS = """
import json, resource, time
from reader import make_reader
reader = make_reader({db!r})
first = not list(reader.get_feeds(limit=1))
for url in {urls!r}:
    reader.add_feed(url, exist_ok=True)
start = time.perf_counter()
reader.update_feeds(scheduled=False, workers={workers})
seconds = time.perf_counter() - start
search_seconds = 0.0
found = {{}}
if first:
    reader.enable_search()
    start = time.perf_counter()
    reader.update_search()
    search_seconds = time.perf_counter() - start
    for query in {queries!r}:
        found[query] = reader.search_entry_counts(query).total
entries = reader.get_entry_counts().total
print(json.dumps({{"seconds": seconds, "search_seconds": search_seconds, "entries": entries, "found": found,
    "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

TIDINGS_SEARCH = """
import json, sys
sys.path.insert(0, {src!r})
import tidings
archive = tidings.open_archive({db!r})
found = {{}}
for query in {queries!r}:
    total, cursor = 0, None
    while True:
        page = archive.search(query, limit=1000, cursor=cursor)
        total += len(page.hits)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    found[query] = total
print(json.dumps({{"found": found}}))
"""
QUERIES = ["停火", "外长", "加沙", "会议", "国家", "ceasefire", "minister"]


def ground_truth(corpus: Path, feeds: int, queries: list[str]) -> dict[str, int]:
    """How many items of the corpus contain each query string (folded title and clean text)."""
    sys.path.insert(0, str(ROOT / "src"))
    from tidings.clean import Cleaner
    from tidings.parse import parse_feed
    from tidings.textindex import fold

    cleaner = Cleaner()
    texts = []
    for index in range(feeds):
        feed = parse_feed((corpus / f"feed-{index:04d}.xml").read_bytes())
        for entry in feed.entries:
            body = cleaner.clean(entry.content or entry.summary, base_url=entry.link).text
            texts.append(fold(f"{entry.title}\n{body}"))
    counts = {}
    for query in queries:
        needle = fold(query)
        if needle.isascii():
            pattern = re.compile(rf"\b{re.escape(needle)}\b")
            counts[query] = sum(1 for text in texts if pattern.search(text))
        else:
            counts[query] = sum(1 for text in texts if needle in text)
    return counts


def run_json(code: str) -> dict[str, Any]:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"benchmark step failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def write_corpus(folder: Path, feeds: int, items: int) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for index in range(feeds):
        path = folder / f"feed-{index:04d}.xml"
        if not path.exists():
            path.write_bytes(make_feed(index, items))
        total += path.stat().st_size
    return total


class Server:
    def __init__(self, folder: Path, latency: float, images: bool = False) -> None:
        command = [sys.executable, str(HERE / "feedserver.py"), str(folder), "--latency", str(latency)]
        if images:
            command.append("--images")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().split()
        if not line or line[0] != "ready":
            sys.exit("the feed server did not start")
        self.base = f"http://127.0.0.1:{line[1]}"

    def urls(self, feeds: int) -> list[str]:
        return [f"{self.base}/feed-{i:04d}.xml" for i in range(feeds)]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def compare(work: Path, src: str, urls: list[str], modes: dict[str, dict[str, object]], rounds: int = 3) -> dict[str, float]:
    """First passes on fresh databases in each mode (keyword arguments of the pass),
    alternating; the median seconds of each, and the most images any run archived."""
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    archived = 0.0
    for _ in range(rounds):
        for mode, options in modes.items():
            db = work / f"mode-{mode}.sqlite3"
            for path in work.glob(f"mode-{mode}.*"):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
            result = run_json(TIDINGS_PASS.format(src=src, db=str(db), urls=urls, again=False, **options))
            times[mode].append(result["seconds"])
            archived = max(archived, float(result["images_archived"]))
    medians = {mode: sorted(runs)[len(runs) // 2] for mode, runs in times.items()}
    print(f"  runs: {times}")
    return {**medians, "images_archived": archived}


def compare_images(work: Path, src: str, urls: list[str]) -> None:
    found = compare(work, src, urls, {"none": {"images": "none", "keep": False}, "archive": {"images": "archive", "keep": False}})
    print(
        f"first pass, images served by the loopback server: not archived {found['none']:.2f} s,"
        f" archived {found['archive']:.2f} s ({found['images_archived']:.0f} images kept):"
        f" {found['archive'] / found['none']:.2f}x (target <= 1.25x)"
    )


def compare_keeping(work: Path, src: str, urls: list[str]) -> None:
    found = compare(work, src, urls, {"plain": {"images": "none", "keep": False}, "kept": {"images": "none", "keep": True}})
    warc = sum(p.stat().st_size for p in (work / "mode-kept.warc").glob("*.warc.gz"))
    print(
        f"first pass, HTTP exchanges kept as WARC: not kept {found['plain']:.2f} s, kept {found['kept']:.2f} s:"
        f" {found['kept'] / found['plain']:.2f}x; WARC files {warc / 1e6:.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--memory-feeds", type=int, default=1000)
    parser.add_argument("--no-reader", action="store_true")
    parser.add_argument("--reader-workers", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the server waits per request")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument(
        "--images",
        action="store_true",
        help="serve the articles' images too and time the first pass with images archived against images none",
    )
    parser.add_argument(
        "--keep-responses",
        action="store_true",
        help="time the first pass with every HTTP exchange kept as WARC records against not kept",
    )
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="tidings-bench-update-"))
    corpus = work / "feeds"
    size = write_corpus(corpus, max(args.feeds, args.memory_feeds), args.items)
    print(f"corpus: {args.feeds} feeds x {args.items} items (memory run: {args.memory_feeds} feeds), served from {corpus}")
    server = Server(corpus, args.latency, images=args.images)
    src = str(ROOT / "src")
    try:
        urls = server.urls(args.feeds)
        served = sum((corpus / f"feed-{i:04d}.xml").stat().st_size for i in range(args.feeds))
        print(f"{args.feeds} feeds, {served / 1e6:.1f} MB of XML, latency {args.latency:g} s per request")
        db = work / "tidings.sqlite3"
        for path in work.glob("tidings.sqlite3*"):
            path.unlink()
        if args.images:
            compare_images(work, src, urls)
        if args.keep_responses:
            compare_keeping(work, src, urls)
        first = run_json(TIDINGS_PASS.format(src=src, db=str(db), urls=urls, images="archive", keep=False, again=False))
        on_disk = sum(path.stat().st_size for path in work.glob("tidings.sqlite3*"))
        print(f"database after the first pass: {on_disk / 1e6:.1f} MB, {on_disk / 1024 / max(1, first['new']):.1f} KB per entry")
        second = run_json(TIDINGS_PASS.format(src=src, db=str(db), urls=urls, images="archive", keep=False, again=True))
        env = dict(os.environ, PYTHONPATH=src, TIDINGS_DB=str(db))
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tidings", "update", "--all"], env=env, check=True, stdout=subprocess.DEVNULL)
        command_second = time.perf_counter() - start
        print(
            f"tidings first pass     {first['seconds']:7.2f} s   {first['new']:.0f} new articles,"
            f" {first['failed']:.0f} failed   ({first['new'] / first['seconds']:,.0f} entries/s)"
        )
        print(
            f"  of which fetch, parse, store {first['stored_seconds']:.2f} s;"
            f" deriving clean HTML and text {first['derive_seconds']:.2f} s"
        )
        print(
            f"tidings second pass    {second['seconds']:7.3f} s   {second['not_modified']:.0f} not modified"
            f"   (whole command `tidings update --all`: {command_second:.2f} s;"
            f" the same pass again in that process, as `tidings run` makes them: {second['again_seconds']:.3f} s)"
        )
        if not args.no_reader:
            from peers import require

            require("reader")
            rdb = work / "reader.sqlite3"
            for path in work.glob("reader.sqlite3*"):
                path.unlink()
            code = READER_PASS.format(db=str(rdb), urls=urls, workers=args.reader_workers, queries=QUERIES)
            r_first = run_json(code)
            r_second = run_json(code)
            print(
                f"reader first pass      {r_first['seconds']:7.2f} s   {r_first['entries']:.0f} entries"
                f" (workers={args.reader_workers}); update_search {r_first['search_seconds']:.2f} s"
            )
            print(f"reader second pass     {r_second['seconds']:7.3f} s")
            ours = run_json(TIDINGS_SEARCH.format(src=src, db=str(db), queries=QUERIES))["found"]
            truth = ground_truth(corpus, args.feeds, QUERIES)
            print("articles found (tidings / reader / truth: items whose text contains the string):")
            for query in QUERIES:
                print(f"  {query:<10} {ours[query]:>6} / {r_first['found'][query]:>6} / {truth[query]:>6}")
            reader_total = r_first["seconds"] + r_first["search_seconds"]
            print(
                f"whole pipeline: tidings {first['seconds']:.2f} s (fetch, parse, store, clean, index) against"
                f" reader update_feeds + update_search {reader_total:.2f} s: {reader_total / first['seconds']:.1f}x"
                " (target >= 12x)"
            )
            print(
                f"first pass: fetch, parse, store {r_first['seconds'] / first['stored_seconds']:.1f}x faster"
                f" than reader (target >= 10x); with cleaning {r_first['seconds'] / first['seconds']:.1f}x;"
                f" second pass {r_second['seconds'] / second['seconds']:.1f}x"
            )
        print(
            f"second pass target: < 0.3 s -> {'met' if second['seconds'] < 0.3 else 'NOT met'} in a new process,"
            f" {'met' if second['again_seconds'] < 0.3 else 'NOT met'} in a running one"
        )
        if args.memory_feeds:
            urls = server.urls(args.memory_feeds)
            mdb = work / "memory.sqlite3"
            for path in work.glob("memory.sqlite3*"):
                path.unlink()
            memory = run_json(TIDINGS_PASS.format(src=src, db=str(mdb), urls=urls, images="archive", keep=False, again=False))
            print(
                f"memory: first pass over {args.memory_feeds} feeds ({size / 1e6:.0f} MB) peaked at"
                f" {memory['maxrss_mb']:.0f} MB RSS in {memory['seconds']:.1f} s (target < 200 MB)"
            )
    finally:
        server.stop()
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
