#!/usr/bin/env python3
"""Benchmark: how tidings holds up as the archive grows (default 10,000, 200,000 and
1,000,000 generated articles).

Builds one SQLite archive in steps with the generator of scripts/bench_search.py (~1 KB
articles, 60% Chinese) and subscribes it, once, to 1,000 one-item feeds served from
loopback (scripts/feedserver.py, ETag and 304s). At each size it prints:

* generation (storing) and derive (clean, text, index) time of the step;
* search in process, first page of 20: median and 95th percentile over the query mix,
  relevance and newest first (``sort:new``);
* ``tidings serve`` under load with wrk (Debian's ``wrk``): a site's timeline and random
  article pages, 50th and 99th percentile, requests/s, and the server's peak memory;
* ``tidings update --all`` over the 1,000 feeds, all answering 304: seconds and peak
  memory (and, at the first size, the first pass that fetched them).

Usage: scripts/bench_growth.py [--sizes 10000 200000 1000000] [--seconds 10]
                               [--connections 8] [--queries 200] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(SRC))
sys.path.insert(0, str(HERE))

import tidings  # noqa: E402
from bench_search import build, latency, query_mix, vocabulary  # noqa: E402
from benchdata import make_feed  # noqa: E402

FEEDS = 1000
ARTICLES = """
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/article/" .. math.random(1, {count}))
end
"""
_PERCENTILE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def command(db: Path, *arguments: str) -> tuple[float, float]:
    """Seconds and peak memory (MB) of one ``tidings`` command (images left alone: the
    generated feeds link to images on hosts that do not exist here)."""
    env = dict(os.environ, PYTHONPATH=str(SRC), TIDINGS_IMAGES="none")
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", sys.executable, "-m", "tidings", "--db", str(db), *arguments],
        env=env, capture_output=True, text=True, check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"tidings {' '.join(arguments)} failed:\n{done.stderr[-2000:]}")
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def wrk(base: str, path: str | None, script: Path | None, seconds: int, connections: int) -> str:
    """'p50 / p99 ms, requests/s' of a wrk run."""
    arguments = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if script is not None:
        arguments += ["-s", str(script)]
    done = subprocess.run([*arguments, base + (path or "")], capture_output=True, text=True, check=True)
    found = {int(p): float(v) * _UNIT[u] for p, v, u in _PERCENTILE.findall(done.stdout)}
    rate = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    return (
        f"p50 {found.get(50, float('nan')):.2f} ms, p99 {found.get(99, float('nan')):.2f} ms,"
        f" {float(rate.group(1)) if rate else 0:,.0f} requests/s" + (f", {errors.group(1)} errors" if errors else "")
    )


def serve(db: Path, work: Path, articles: int, seconds: int, connections: int) -> None:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(SRC))
    server = subprocess.Popen(
        [sys.executable, "-m", "tidings", "--db", str(db), "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/article/1", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        script = work / "articles.lua"
        script.write_text(ARTICLES.format(count=articles), "utf-8")
        print(f"  web, timeline /site/…:     {wrk(base, '/site/Harbour%20Gazette', None, seconds, connections)}")
        print(f"  web, random article pages: {wrk(base, None, script, seconds, connections)}")
        status = Path(f"/proc/{server.pid}/status").read_text()
        peak = re.search(r"VmHWM:\s+(\d+) kB", status)
        print(f"  serve, peak memory:        {int(peak.group(1)) / 1024 if peak else float('nan'):.0f} MB")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 200_000, 1_000_000])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="tidings-bench-growth-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "growth.sqlite3"
    for path in work.glob("growth.sqlite3*"):
        path.unlink()
    feeds = work / "feeds"
    feeds.mkdir(exist_ok=True)
    for n in range(FEEDS):
        (feeds / f"feed-{n:04d}.xml").write_bytes(make_feed(n, 1))
    feed_server = subprocess.Popen(
        [sys.executable, str(HERE / "feedserver.py"), str(feeds)], stdout=subprocess.PIPE, text=True
    )
    assert feed_server.stdout is not None
    ready = feed_server.stdout.readline().split()
    if not ready or ready[0] != "ready":
        sys.exit("the feed server did not start")
    rng = random.Random(5)
    vocab = vocabulary(rng)
    try:
        with tidings.open_archive(db) as archive:
            for n in range(FEEDS):
                archive.store.add_feed(f"http://127.0.0.1:{ready[1]}/feed-{n:04d}.xml", "Feeds")
        done = 0
        for position, size in enumerate(sorted(args.sizes)):
            with tidings.open_archive(db) as archive:
                stored, derived, _plain = build(archive, done, size, rng, vocab)
                queries = query_mix(random.Random(position), vocab, args.queries)
                relevance = latency(archive, queries)
                newest = latency(archive, queries, "new")
            print(f"{size:,} articles (+{size - done:,}: generated and stored in {stored:.1f} s, derived in {derived:.1f} s)")
            print(
                f"  search, first page:        relevance median {relevance[0]:.2f} ms, p95 {relevance[1]:.2f} ms;"
                f" newest first median {newest[0]:.2f} ms, p95 {newest[1]:.2f} ms"
            )
            serve(db, work, size, args.seconds, args.connections)
            if position == 0:
                seconds, peak = command(db, "update", "--all")
                print(f"  update, first pass of {FEEDS:,} feeds: {seconds:.2f} s, peak memory {peak:.0f} MB")
            seconds, peak = command(db, "update", "--all")
            print(f"  update, {FEEDS:,} feeds all 304:  {seconds:.2f} s (whole command), peak memory {peak:.0f} MB")
            done = size
    finally:
        feed_server.terminate()
        feed_server.wait(timeout=10)
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    print("targets: search p95 <= 40 ms (200,000) and <= 100 ms (1,000,000); newest median <= 2 ms;"
          " update <= 200 MB; serve <= 150 MB at 1,000,000")


if __name__ == "__main__":
    main()
