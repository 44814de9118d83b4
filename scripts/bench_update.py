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
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from benchdata import make_feed  # noqa: E402

TIDINGS_PASS = """
import json, resource, sys, time
sys.path.insert(0, {src!r})
import tidings
archive = tidings.open_archive({db!r})
if not archive.feeds():
    for url in {urls!r}:
        archive.add_feed(url, site=url.rsplit("/", 1)[1])
start = time.perf_counter()
summary = archive.update(due_only=False)
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "stored_seconds": summary.seconds,
    "derive_seconds": summary.derive_seconds, "fetched": summary.fetched, "not_modified": summary.not_modified,
    "failed": summary.failed, "new": summary.new_articles,
    "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

READER_PASS = """
import json, resource, time
from reader import make_reader
reader = make_reader({db!r})
for url in {urls!r}:
    reader.add_feed(url, exist_ok=True)
start = time.perf_counter()
reader.update_feeds(scheduled=False, workers={workers})
seconds = time.perf_counter() - start
entries = reader.get_entry_counts().total
print(json.dumps({{"seconds": seconds, "entries": entries,
    "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def run_json(code: str) -> dict[str, float]:
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
    def __init__(self, folder: Path, latency: float) -> None:
        command = [sys.executable, str(HERE / "feedserver.py"), str(folder), "--latency", str(latency)]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--memory-feeds", type=int, default=1000)
    parser.add_argument("--no-reader", action="store_true")
    parser.add_argument("--reader-workers", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the server waits per request")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="tidings-bench-update-"))
    corpus = work / "feeds"
    size = write_corpus(corpus, max(args.feeds, args.memory_feeds), args.items)
    print(f"corpus: {args.feeds} feeds x {args.items} items (memory run: {args.memory_feeds} feeds), served from {corpus}")
    server = Server(corpus, args.latency)
    src = str(ROOT / "src")
    try:
        urls = server.urls(args.feeds)
        served = sum((corpus / f"feed-{i:04d}.xml").stat().st_size for i in range(args.feeds))
        print(f"{args.feeds} feeds, {served / 1e6:.1f} MB of XML, latency {args.latency:g} s per request")
        db = work / "tidings.sqlite3"
        for path in work.glob("tidings.sqlite3*"):
            path.unlink()
        first = run_json(TIDINGS_PASS.format(src=src, db=str(db), urls=urls))
        second = run_json(TIDINGS_PASS.format(src=src, db=str(db), urls=urls))
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
            f"   (whole command `tidings update --all`: {command_second:.2f} s)"
        )
        if not args.no_reader:
            rdb = work / "reader.sqlite3"
            for path in work.glob("reader.sqlite3*"):
                path.unlink()
            code = READER_PASS.format(db=str(rdb), urls=urls, workers=args.reader_workers)
            r_first = run_json(code)
            r_second = run_json(code)
            print(
                f"reader first pass      {r_first['seconds']:7.2f} s   {r_first['entries']:.0f} entries"
                f" (workers={args.reader_workers})"
            )
            print(f"reader second pass     {r_second['seconds']:7.3f} s")
            print(
                f"first pass: fetch, parse, store {r_first['seconds'] / first['stored_seconds']:.1f}x faster"
                f" than reader (target >= 10x); with cleaning {r_first['seconds'] / first['seconds']:.1f}x;"
                f" second pass {r_second['seconds'] / second['seconds']:.1f}x"
            )
        print(f"second pass target: < 0.3 s -> {'met' if second['seconds'] < 0.3 else 'NOT met'}")
        if args.memory_feeds:
            urls = server.urls(args.memory_feeds)
            mdb = work / "memory.sqlite3"
            for path in work.glob("memory.sqlite3*"):
                path.unlink()
            memory = run_json(TIDINGS_PASS.format(src=src, db=str(mdb), urls=urls))
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
