#!/usr/bin/env python3
"""Benchmark: move a SQLite archive into PostgreSQL with `tidings migrate` and compare.

Takes a SQLite archive (for example the one `scripts/bench_update.py --workdir DIR` leaves
in DIR/tidings.sqlite3, the 200 × 50 corpus), starts a throwaway PostgreSQL cluster (as
the tests do), runs `tidings migrate --to` into it, and prints: the time, the rows and
hashes of every table (verified by the command itself), and whether queries drawn from
the archive's own titles (words, CJK strings of 2–4 characters, pairs, OR) give the same
complete hit sets on both stores, with each store's search latency (first page).

Usage: scripts/bench_migrate.py ARCHIVE.sqlite3 [--queries 100]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from tests.pgcluster import cluster, create_database  # noqa: E402

import tidings  # noqa: E402
from bench_search import all_hits  # noqa: E402


def queries_from(archive: tidings.Archive, count: int, rng: random.Random) -> list[str]:
    titles = [r.title for r in archive.store.iter_revisions(latest_only=True)]
    found: list[str] = []
    while len(found) < count and titles:
        title = rng.choice(titles)
        cjk = re.findall(r"[\u4e00-\u9fff]{2,}", title)
        words = re.findall(r"[A-Za-z]{4,}", title)
        kind = len(found) % 4
        if kind == 0 and words:
            found.append(rng.choice(words).lower())
        elif kind == 1 and cjk:
            run = rng.choice(cjk)
            size = min(len(run), rng.randint(2, 4))
            start = rng.randrange(len(run) - size + 1)
            found.append(run[start : start + size])
        elif kind == 2 and words and len(words) > 1:
            found.append(" ".join(rng.sample(words, 2)).lower())
        elif kind == 3 and (words or cjk):
            pool = [w.lower() for w in words] + cjk
            found.append(f"{rng.choice(pool)} OR {rng.choice(pool)}")
    return found


def first_page_ms(archive: tidings.Archive, queries: list[str]) -> tuple[float, float]:
    times = []
    for query in queries:
        started = time.perf_counter()
        archive.search(query, limit=20)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("archive", type=Path)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    with cluster() as server:
        url = create_database(server)
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "tidings", "--db", str(args.archive), "migrate", "--to", url, "--json"],
            env=env, capture_output=True, text=True, check=True,
        )
        seconds = time.perf_counter() - started
        report = json.loads(done.stdout)
        print(f"migrate --to postgresql: {seconds:.1f} s, {report['indexed']} articles indexed on the target")
        for table, figures in report["verified"].items():
            print(f"  {table:16} {figures['rows']:>9} rows  sha256 {figures['sha256'][:16]}… (same on both)")
        with tidings.open_archive(args.archive) as lite, tidings.open_archive(url) as shared:
            queries = queries_from(lite, args.queries, random.Random(7))
            same = sum(all_hits(lite, q) == all_hits(shared, q) for q in queries)
            print(f"same complete hit sets: {same} of {len(queries)} queries")
            for name, archive in (("sqlite", lite), ("postgresql", shared)):
                median, p95 = first_page_ms(archive, queries)
                print(f"  {name:>10}: first page median {median:.2f} ms, p95 {p95:.2f} ms")


if __name__ == "__main__":
    main()
