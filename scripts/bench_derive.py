#!/usr/bin/env python3
"""Benchmark: the derive stage (clean HTML, text, search index) per revision, A/B.

Generates ``--revisions`` news articles (scripts/benchdata.py: 2-8 KB bodies with share
bars, scripts, tracking pixels, promo blocks, ~60% Chinese), stores them as revisions
of a fresh SQLite archive through the store, and times ``Archive.derive(workers=1)``
over them: one core, so the figure is CPU per revision (``--workers 2``: as an update runs
it on two cores, the writer in the calling process). With ``--baseline COMMIT`` the
same revisions are derived by that commit of tidings too (checked out with
``git worktree`` into a temporary folder), each side in its own subprocess, alternating,
and the ratio of the medians is printed.

Usage: scripts/bench_derive.py [--revisions 3000] [--rounds 3] [--workers 1] [--baseline bf9539d]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

ONE_SIDE = """
import json, random, sys, time
from datetime import datetime, timezone
sys.path.insert(0, {src!r})
sys.path.insert(0, {scripts!r})
from benchdata import _article_html, _language
import tidings
from tidings.model import NewRevision, RevisionSource

rng = random.Random(5)
archive = tidings.open_archive({db!r})
store = archive.store
now = datetime(2026, 12, 1, tzinfo=timezone.utc)
with store.transaction():
    site = store.site("bench")
    for n in range({revisions}):
        url = f"https://news.example/{{n}}.html"
        language = _language(n)
        title = ("第%d号新闻标题：经济与社会" if language == "zh" else "News story number %d about the economy") % n
        article = store.add_article(site.id, url, url, now, now)
        store.add_revision(
            article.id,
            NewRevision(seen=now, title=title, content_html=_article_html(rng, language, url, n),
                        source=RevisionSource.FEED, language=language),
        )
start = time.perf_counter()
derived = archive.derive(workers={workers})
seconds = time.perf_counter() - start
print(json.dumps({{"derived": derived, "seconds": seconds}}))
"""


def one_side(src: Path, revisions: int, workers: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        code = ONE_SIDE.format(
            src=str(src), scripts=str(HERE), db=str(Path(folder) / "a.sqlite3"), revisions=revisions, workers=workers
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        if out.returncode:
            raise SystemExit(f"the derive run under {src} failed:\n{out.stderr[-3000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if result["derived"] != revisions:
            raise SystemExit(f"{src}: derived {result['derived']} of {revisions}")
        return float(result["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--revisions", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", help="a commit to compare with (e.g. bf9539d)")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (1: all in one process; more need >= 2000 revisions)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sides = {"this tree": ROOT / "src"}
        if args.baseline:
            tree = Path(folder) / "baseline"
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(tree), args.baseline], check=True
            )
            sides[f"at {args.baseline}"] = tree / "src"
        try:
            times: dict[str, list[float]] = {name: [] for name in sides}
            for _ in range(args.rounds):
                for name, src in sides.items():
                    times[name].append(one_side(src, args.revisions, args.workers))
        finally:
            if args.baseline:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    cores = "one core" if args.workers <= 1 else f"{args.workers} worker processes"
    print(f"derive stage, {cores}, {args.revisions} generated revisions, {args.rounds} rounds alternating")
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        runs = ", ".join(f"{value:.2f}" for value in times[name])
        print(f"  {name}: {median:.2f} s ({runs}), {median / args.revisions * 1000:.3f} ms per revision")
    if args.baseline:
        ratio = medians[f"at {args.baseline}"] / medians["this tree"]
        print(f"this tree is {ratio:.2f}x faster per revision than {args.baseline} (target >= 3x)")


if __name__ == "__main__":
    main()
