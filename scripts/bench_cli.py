#!/usr/bin/env python3
"""Benchmark: whole-process start-up of the ``tidings`` command against the bare interpreter.

Builds a small archive from generated feeds (local files, no network), then runs
``python -c pass`` and each command ``--runs`` times, interleaved (one round runs every
command once, so a noisy moment costs them all alike), and prints the median wall time
of each and its excess over the bare interpreter measured in the same run.

Usage: scripts/bench_cli.py [--runs 10] [--feeds 20] [--items 50] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdata import make_feeds  # noqa: E402

#: The commands the start-up target applies to, as arguments after ``--db DB``.
COMMANDS = {
    "--help": ["--help"],
    "--version": ["--version"],
    "stats": ["stats"],
    "feeds": ["feeds"],
    "search 停火": ["search", "停火"],
    "search ceasefire": ["search", "ceasefire"],
}


def tidings_command() -> list[str]:
    """The installed ``tidings`` script beside this interpreter, else ``python -m tidings``."""
    script = Path(sys.executable).with_name("tidings")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tidings"]


def build_archive(folder: Path, feeds: int, items: int) -> Path:
    db = folder / "bench.sqlite3"
    tidings = tidings_command()
    for name, data in make_feeds(feeds, items):
        path = folder / "feeds" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        subprocess.run([*tidings, "--db", str(db), "add", str(path)], check=True, capture_output=True)
    subprocess.run([*tidings, "--db", str(db), "update", "--all"], check=True, capture_output=True)
    return db


def run_once(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--keep", type=Path, help="Build the archive here and keep it.")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="tidings-bench-cli-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        db = build_archive(folder, args.feeds, args.items)
        tidings = tidings_command()
        argvs = {"python -c pass": [sys.executable, "-c", "pass"]}
        argvs.update({name: [*tidings, "--db", str(db), *rest] for name, rest in COMMANDS.items()})
        env_note = f"{args.feeds * args.items} entries archived"
        times: dict[str, list[float]] = {name: [] for name in argvs}
        for name, argv in argvs.items():  # warm the file cache once
            run_once(argv)
        for _ in range(args.runs):
            for name, argv in argvs.items():
                times[name].append(run_once(argv))
        bare = statistics.median(times["python -c pass"])
        print(f"whole-process wall time, median of {args.runs} ({env_note}; {os.cpu_count()} cores)")
        print(f"{'command':<20} {'median ms':>10} {'above bare ms':>14}")
        for name, values in times.items():
            median = statistics.median(values)
            print(f"{name:<20} {median * 1000:10.1f} {(median - bare) * 1000:14.1f}")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
