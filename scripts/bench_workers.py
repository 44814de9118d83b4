#!/usr/bin/env python3
"""Benchmark: several `tidings update --all` workers sharing one PostgreSQL archive.

Starts a throwaway PostgreSQL cluster (as the tests do: Debian's server, a temporary
folder, a free port), and one loopback HTTP server per host (127.0.0.1, 127.0.0.2, …),
each answering every request after a fixed latency and counting how many requests it
holds at once. Then, on a fresh database each time, times a first pass over all the
feeds by 1 worker and by N workers (separate processes started together), alternating,
and prints the medians, the ratio, and the most concurrent requests any host saw (which
must stay within the per-host limit, 6); and how fast two CPU-bound processes run at once
on this machine against one alone, which bounds what several workers can gain on it.

Items carry their full text; with --pages each links to an article page the host serves
(after the same latency), which tidings fetches for its full text.

Usage: scripts/bench_workers.py [--hosts 32] [--feeds-per-host 50] [--latency 0.2] [--items 5]
                                [--pages] [--workers 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.loopback import LateHost  # noqa: E402
from tests.pgcluster import cluster, create_database, drop_database  # noqa: E402

import tidings  # noqa: E402

PER_HOST = 6


def one_pass(server_url: str, hosts: list[LateHost], feeds_per_host: int, workers: int) -> tuple[float, int, int]:
    """Seconds for ``workers`` processes to finish a first pass; most requests any host
    saw at once; feeds fetched."""
    url = create_database(server_url)
    try:
        with tidings.open_archive(url) as archive, archive.store.transaction():
            for host in hosts:
                address, port = host.server_address[:2]
                for n in range(feeds_per_host):
                    archive.store.add_feed(f"http://{address}:{port}/feed-{n}.xml", f"Outlet {address}")
        for host in hosts:
            host.most = 0
            host.hits.clear()
            host.pages.clear()
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        started = time.perf_counter()
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "tidings", "--db", url, "update", "--all"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )
            for _ in range(workers)
        ]
        for process in processes:
            _out, err = process.communicate(timeout=1800)
            if process.returncode:
                raise SystemExit(f"a worker failed: {err.decode()[-2000:]}")
        seconds = time.perf_counter() - started
        with tidings.open_archive(url) as archive:
            fetched = sum(1 for feed in archive.feeds() if feed.last_fetch is not None)
        return seconds, max(host.most for host in hosts), fetched
    finally:
        drop_database(server_url, url)


def _spin(_: int = 0) -> float:
    started = time.perf_counter()
    total = 0
    for n in range(10_000_000):
        total += n
    return time.perf_counter() - started


def parallel_speed() -> float:
    """How fast two CPU-bound processes run at once, as a share of one alone (1.0: two
    real cores; 0.5: the two CPUs give the work of one)."""
    import multiprocessing

    alone = _spin()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        together = max(pool.map(_spin, [0, 1]))
    return alone / together


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=32)
    parser.add_argument("--feeds-per-host", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--items", type=int, default=5, help="items per feed document")
    parser.add_argument("--pages", action="store_true", help="items link to article pages to fetch")
    args = parser.parse_args()
    hosts = [LateHost(f"127.0.0.{n}", args.latency, args.items, pages=args.pages).start() for n in range(1, args.hosts + 1)]
    total = args.hosts * args.feeds_per_host
    print(
        f"{total} feeds of {args.items} items{' linking to pages' if args.pages else ''} on {args.hosts} loopback"
        f" hosts, {args.latency:g} s per request,"
        f" per-host limit {PER_HOST}"
    )
    times: dict[int, list[float]] = {1: [], args.workers: []}
    most = 0
    with cluster() as server_url:
        for _ in range(args.rounds):
            for count in (1, args.workers):
                seconds, peak, fetched = one_pass(server_url, hosts, args.feeds_per_host, count)
                if fetched != total:
                    raise SystemExit(f"{count} workers fetched {fetched} of {total} feeds")
                times[count].append(seconds)
                most = max(most, peak)
    one, many = (statistics.median(times[c]) for c in (1, args.workers))
    print(f"runs (s): {times}")
    print(
        f"this machine: two CPU-bound processes at once each run at {parallel_speed():.2f} of the speed of one"
        " alone (what several workers on it can gain)"
    )
    print(
        f"first pass: 1 worker {one:.2f} s, {args.workers} workers {many:.2f} s: {one / many:.2f}x faster"
        f" (target >= 3x); most requests any host saw at once: {most} (limit {PER_HOST})"
    )


if __name__ == "__main__":
    main()
