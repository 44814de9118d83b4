#!/usr/bin/env python3
"""Benchmark: cleaning speed (clean HTML and plain text) on generated news articles.

Generates ``--articles`` article bodies of 2-8 KB (scripts/benchdata.py: share
bars, scripts, tracking pixels, promo blocks, the feedx footer, inline links
and emphasis; ~60% Chinese) and times tidings' Cleaner over them, best of
``--runs``. Prints articles/s and MB/s. Usage: scripts/bench_clean.py [--articles 5000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdata import _article_html, _language  # noqa: E402
from tidings.clean import Cleaner  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(11)
    bodies = [
        _article_html(rng, _language(n), f"https://news.example/{n}.html", n) for n in range(args.articles)
    ]
    size = sum(len(b.encode()) for b in bodies)
    cleaner = Cleaner()
    best = float("inf")
    for _ in range(args.runs):
        start = time.perf_counter()
        results = [cleaner.clean(body, base_url=f"https://news.example/{n}.html") for n, body in enumerate(bodies)]
        best = min(best, time.perf_counter() - start)
        if not all(r.text and r.html for r in results):
            sys.exit("some article came out empty: the figures would be meaningless")
    print(
        f"cleaned {args.articles} articles ({size / args.articles / 1000:.1f} KB average) in {best:.2f} s:"
        f" {args.articles / best:,.0f} articles/s, {size / best / 1e6:.1f} MB/s (target >= 2,000 articles/s)"
    )


if __name__ == "__main__":
    main()
