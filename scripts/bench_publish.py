#!/usr/bin/env python3
"""Benchmark: tidings publish, on archives generated here.

Generates a repository of the original layout (``--docs``, default 20,000 documents of
about 5 KB, 60% Chinese, over 8 sites, as scripts/bench_archive.py does), imports it, then
times with the ``tidings`` command of this checkout, alternating in the same run:

* ``export --format documents`` into an empty folder (the baseline);
* ``publish --no-search`` into an empty folder: the documents and the HTML site and feeds,
  without the search index (the ratio publish / export is printed);
* ``publish --no-search`` again with nothing new (files written must be 0);
* 100 new documents imported, then ``publish --no-search`` (the incremental publish);
* ``publish`` with search: the Pagefind index build, timed apart (``search_seconds``),
  for the sizes of ``--search-sizes`` (each a fresh archive).

With ``--recall`` it also serves the mirror (``tidings serve --mirror``) and asks Pagefind,
in Debian's chromium, the queries of the recall check: Chinese strings of 2-4 characters
cut from the articles, the same asked in Traditional characters, and English words; for
each it prints the recall against tidings' own search (which finds every substring).

Usage: scripts/bench_publish.py [--docs 20000] [--runs 2] [--search-sizes 20000 100000]
                                [--recall [--queries 60]] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "src"))

from bench_archive import generate  # noqa: E402
from bench_search import all_hits  # noqa: E402

TIDINGS = [sys.executable, "-m", "tidings"]
ENV = dict(os.environ, PYTHONPATH=str(ROOT / "src"))


def tidings(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TIDINGS, "--db", str(db), *args], check=True, env=ENV, capture_output=True, text=True)


def timed(db: Path, *args: str) -> tuple[float, str]:
    start = time.perf_counter()
    result = tidings(db, *args)
    return time.perf_counter() - start, result.stdout


def fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    return path


REUSE = False


def archive_of(work: Path, docs: int, seed: int = 7) -> Path:
    db = work / f"archive-{docs}.sqlite3"
    if REUSE and db.exists() and (work / f"repo-{docs}").is_dir():
        print(f"reusing {db} ({docs:,} documents)")
        return db
    repo = fresh(work / f"repo-{docs}")
    size = generate(repo, docs, seed=seed)
    if db.exists():
        db.unlink()
    seconds, _ = timed(db, "import", str(repo))
    print(f"generated and imported {docs:,} documents ({size / 1e6:.1f} MB) in {seconds:.1f} s")
    return db


def publish_json(db: Path, out: Path, *extra: str) -> tuple[float, dict]:
    seconds, stdout = timed(db, "publish", str(out), "--json", *extra)
    return seconds, json.loads(stdout)


def speed(work: Path, docs: int, runs: int) -> Path:
    db = archive_of(work, docs)
    exports, publishes = [], []
    for _ in range(runs):
        seconds, _ = timed(db, "export", "--format", "documents", str(fresh(work / "export")))
        exports.append(seconds)
        seconds, report = publish_json(db, fresh(work / "mirror"), "--no-search")
        publishes.append(seconds)
    export_s, publish_s = statistics.median(exports), statistics.median(publishes)
    print(f"export --format documents, {docs:,} articles: {export_s:.2f} s (runs: {', '.join(f'{s:.2f}' for s in exports)})")
    print(f"publish --no-search, same archive:     {publish_s:.2f} s (runs: {', '.join(f'{s:.2f}' for s in publishes)})"
          f"; {report['written']:,} files")
    print(f"  publish / export = {publish_s / export_s:.2f}x")
    seconds, report = publish_json(db, work / "mirror", "--no-search")
    print(f"publish again, nothing new: {seconds:.2f} s, {report['written']} files written")
    more = fresh(work / "repo-more")
    run_id = time.time_ns()
    generate(more, 100, seed=99)
    for path in more.rglob("*.md"):  # 100 new articles: new links, a day after the newest
        data = path.read_bytes().replace(b"https://news.example/", f"https://news.example/more-{run_id}/".encode())
        stamp = int(data[4 : data.index(b"-->")])
        path.write_bytes(data.replace(str(stamp).encode(), str(stamp + docs * 60_000 + 86_400_000).encode(), 1))
    tidings(db, "import", str(more))
    seconds, report = publish_json(db, work / "mirror", "--no-search")
    new = sum(count for _, count in report["new"])
    print(f"publish of {new} new articles into it: {seconds:.2f} s ({report['written']} files written)")
    return db


def search_build(work: Path, sizes: list[int], db20: Path | None, docs: int) -> None:
    for size in sizes:
        db = db20 if db20 is not None and size == docs else archive_of(work, size)
        out = work / "mirror" if db is db20 else fresh(work / f"mirror-{size}")
        if db is not db20:
            publish_json(db, out, "--no-search")
        _, report = publish_json(db, out)
        print(f"search index build, {size:,} articles: {report['search_seconds']:.1f} s ({report['search']})")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def recall(db: Path, mirror: Path, queries: int, seed: int = 11) -> None:
    import opencc
    from playwright.sync_api import sync_playwright

    import tidings as library
    from tidings.textindex import fold

    s2t = opencc.OpenCC("s2t.json")
    rng = random.Random(seed)
    with library.open_archive(db) as archive:
        texts = [(r.article_id, fold(r.title + "\n" + (r.text or ""))) for r in archive.store.iter_revisions(latest_only=True)]

        def truth(query: str) -> set[int]:
            return all_hits(archive, query)

        asked: list[tuple[str, str, set[int]]] = []
        english = [w for _, t in texts[:200] for w in t.split() if w.isascii() and w.isalpha() and len(w) > 3]
        while len(asked) < queries:
            kind = len(asked) % 3
            if kind == 2:
                word = rng.choice(english)
                asked.append(("English word", word, truth(word)))
                continue
            _, text = rng.choice(texts)
            runs = [run for run in text.replace("。", "\n").split("\n") if len(run) >= 4 and "\u4e00" <= run[0] <= "\u9fff"]
            if not runs:
                continue
            run = rng.choice(runs)
            length = rng.randint(2, 4)
            offset = rng.randrange(len(run) - length + 1)
            needle = run[offset : offset + length]
            if not all("\u4e00" <= c <= "\u9fff" for c in needle):
                continue
            if kind == 1:
                asked.append(("Chinese, asked in Traditional", s2t.convert(needle), truth(needle)))
            else:
                asked.append((f"Chinese, {length} characters", needle, truth(needle)))

    port = free_port()
    server = subprocess.Popen([*TIDINGS, "serve", "--mirror", str(mirror), "--port", str(port)], env=ENV,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(2)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
            )
            page = browser.new_context(bypass_csp=True).new_page()
            page.goto(f"http://127.0.0.1:{port}/search.html")
            kinds: dict[str, list[float]] = {}
            extra: dict[str, list[int]] = {}
            missed: list[str] = []
            for kind, query, expected in asked:
                urls = page.evaluate(
                    """async (q) => {
                        // what the search page does, without its batches: every candidate checked
                        const matcher = window.tidingsMatcher(q);
                        const pagefind = await window.tidingsIndex();
                        const seen = new Map();
                        for (const asked of matcher.pagefindQueries) {
                            for (const r of (await pagefind.search(asked)).results) seen.set(r.id, r);
                        }
                        const data = await Promise.all([...seen.values()].map((r) => r.data()));
                        return data.filter((d) => matcher.contains(d.content)).map((d) => d.url);
                    }""",
                    query,
                )
                got = {int(url.rsplit("/", 1)[1].split(".")[0]) for url in urls}
                value = len(got & expected) / len(expected) if expected else 1.0
                kinds.setdefault(kind, []).append(value)
                if value < 1.0:
                    missed.append(f"{query!r} ({kind}): {len(got & expected)} of {len(expected)}")
                extra.setdefault(kind, []).append(len(got - expected))
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    print("static search (Pagefind) recall against tidings' own search:")
    for kind in sorted(kinds):
        values = kinds[kind]
        print(
            f"  {kind:<32} {len(values):3} queries   recall {statistics.mean(values):.4f}   (worst {min(values):.3f})"
            f"   hits tidings does not give: {sum(extra[kind])}"
        )
    for line in missed:
        print(f"  not all found: {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=2, help="rounds of export and publish (median shown)")
    parser.add_argument("--search-sizes", type=int, nargs="*", default=[20_000], help="archive sizes to build the search index for")
    parser.add_argument("--recall", action="store_true", help="measure static search recall in chromium")
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--reuse", action="store_true", help="reuse archives an earlier run left in --workdir")
    args = parser.parse_args()
    global REUSE
    REUSE = args.reuse
    work = args.workdir or Path(tempfile.mkdtemp(prefix="tidings-bench-publish-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"working in {work}")
    db = speed(work, args.docs, args.runs)
    search_build(work, args.search_sizes, db, args.docs)
    if args.recall:
        if not (work / "mirror" / "pagefind").is_dir():
            publish_json(db, work / "mirror")
        recall(db, work / "mirror", args.queries)


if __name__ == "__main__":
    main()
