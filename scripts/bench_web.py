#!/usr/bin/env python3
"""Benchmark: the web app under load, with wrk, on a generated archive.

Builds an archive of ``--articles`` generated articles (default 100,000; the
generator of scripts/bench_search.py), serves it with ``tidings serve``
on 127.0.0.1, and runs wrk (Debian's ``wrk``) for ``--seconds``
against article pages (random ids, via a Lua script) and against search pages
(random words from the corpus vocabulary). Prints requests/s, latency
percentiles and errors as wrk reports them.
Usage: scripts/bench_web.py [--articles 100000] [--seconds 20] [--connections 32]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

import tidings  # noqa: E402
from bench_search import WORDS_EN, build, vocabulary  # noqa: E402

ARTICLE_SCRIPT = """
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/article/" .. math.random(1, {count}))
end
"""
SEARCH_SCRIPT = """
words = {{{words}}}
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/search?q=" .. words[math.random(1, #words)])
end
"""


def quote_lua(word: str) -> str:
    from urllib.parse import quote

    return '"' + quote(word) + '"'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="tidings-bench-web-"))
    db = work / "web.sqlite3"
    rng = random.Random(5)
    vocab = vocabulary(rng)
    if not db.exists():
        with tidings.open_archive(db) as archive:
            build(archive, 0, args.articles, rng, vocab)
    port = 8765
    env = dict(os.environ, PYTHONPATH=str(HERE.parent / "src"))
    server = subprocess.Popen(
        [sys.executable, "-m", "tidings", "--db", str(db), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/article/1", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        words = [w for w in vocab[0][:300] if len(w) >= 2][:100] + WORDS_EN[:40]
        scripts = {
            "article pages": ARTICLE_SCRIPT.format(count=args.articles),
            "search pages": SEARCH_SCRIPT.format(words=", ".join(quote_lua(w) for w in words)),
        }
        for name, script in scripts.items():
            path = work / f"{name.split()[0]}.lua"
            path.write_text(script, "utf-8")
            result = subprocess.run(
                ["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{args.seconds}s", "--latency", "-s", str(path), base],
                capture_output=True,
                text=True,
                check=True,
            )
            print(f"== {name} ({args.articles:,} articles, {args.connections} connections, {args.seconds} s)")
            print(result.stdout)
    finally:
        server.terminate()
        server.wait(timeout=20)
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
