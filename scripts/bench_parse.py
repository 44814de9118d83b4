#!/usr/bin/env python3
"""Benchmark: feed parsing speed against feedparser and a bare lxml parse, same run.

On generated news feeds (scripts/benchdata.py: 200 feeds x 50 items by
default, ~60% Chinese, 2-8 KB articles) it times, in this process:

* tidings' ``parse_feed`` over every feed (items/s and MB/s);
* ``lxml.etree.fromstring`` of the same bytes (MB/s), the floor any
  lxml-based parser stands on;
* feedparser 6 on a sample of the feeds (items/s; it is ~100x slower, so
  a sample keeps the run short; ``--feedparser-feeds`` sets its size).

Each timing is the best of ``--runs``. Prints the ratios the targets name:
tidings items/s over feedparser items/s, tidings MB/s over lxml MB/s.
Usage: scripts/bench_parse.py [--feeds 200] [--items 50] [--runs 3] [--feedparser-feeds 20]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from lxml import etree  # noqa: E402

from benchdata import make_feeds  # noqa: E402
from tidings.parse import parse_feed  # noqa: E402


def best(runs: int, work) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--feedparser-feeds", type=int, default=20)
    args = parser.parse_args()

    feeds = [data for _name, data in make_feeds(args.feeds, args.items)]
    total_bytes = sum(map(len, feeds))
    total_items = args.feeds * args.items
    print(f"corpus: {args.feeds} feeds x {args.items} items = {total_items} items, {total_bytes / 1e6:.1f} MB")

    counted = [0]

    def run_tidings() -> None:
        n = 0
        for data in feeds:
            n += len(parse_feed(data, url="https://news.example/feed").entries)
        counted[0] = n

    def run_lxml() -> None:
        xml_parser = etree.XMLParser(resolve_entities=False, no_network=True)
        for data in feeds:
            etree.fromstring(data, xml_parser)

    t_tidings = best(args.runs, run_tidings)
    if counted[0] != total_items:
        sys.exit(f"tidings parsed {counted[0]} items, expected {total_items}")
    t_lxml = best(args.runs, run_lxml)

    sample = feeds[: args.feedparser_feeds]
    sample_items = len(sample) * args.items
    from peers import require

    require("feedparser")
    import feedparser
    t_feedparser = best(1, lambda: [feedparser.parse(data) for data in sample])
    t_tidings_sample = best(args.runs, lambda: [parse_feed(d) for d in sample])

    mb = total_bytes / 1e6
    print(f"tidings parse_feed      {t_tidings:7.3f} s  {total_items / t_tidings:10,.0f} items/s  {mb / t_tidings:7.1f} MB/s")
    print(f"lxml.etree.fromstring   {t_lxml:7.3f} s  {'':>10}          {mb / t_lxml:7.1f} MB/s")
    print(f"tidings / lxml throughput: {t_lxml / t_tidings:.2f} (target >= 0.5)")
    fp_rate = sample_items / t_feedparser
    print(
        f"feedparser {feedparser.__version__} on {len(sample)} feeds: {t_feedparser:7.3f} s"
        f"  {fp_rate:10,.0f} items/s"
    )
    print(
        f"tidings / feedparser items/s: {(total_items / t_tidings) / fp_rate:.1f}x on the whole corpus,"
        f" {(sample_items / t_tidings_sample) / fp_rate:.1f}x on the same sample (target >= 50)"
    )


if __name__ == "__main__":
    main()
