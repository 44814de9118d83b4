#!/usr/bin/env python3
"""Benchmark: search quality and speed on generated archives.

Builds an archive of generated articles (~1 KB each; 48% Simplified Chinese,
12% Traditional, 40% English, words drawn from a fixed vocabulary so that
common and rare terms both exist) in steps (default 10,000, 50,000 and
200,000 articles), and at each size prints:

* index build rate (articles/s through tidings' derive stage: cleaning, text
  preparation, FTS5 insertion), index size against the plain text;
* latency of top-20 queries (one and two terms, common words included):
  median and 95th percentile over the query mix, best matches first and (``new``)
  the last archived first;

and, on the first size, recall and precision against ground truth (articles
whose folded title or text contains the query string): CJK strings of 1–6
characters cut from the corpus (also asked in the other script: Traditional
for Simplified text and the reverse), and English words.
With ``--postgres`` the same articles are also archived in PostgreSQL (a throwaway cluster,
as the tests start one) and, at each size, its latency is printed beside SQLite's and the
two stores' complete hit sets are compared on the query mix.

Usage: scripts/bench_search.py [--sizes 10000 50000 200000] [--queries 200] [--postgres]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import opencc  # noqa: E402

import tidings  # noqa: E402
from tidings.model import NewRevision, RevisionSource  # noqa: E402
from tidings.textindex import fold  # noqa: E402

HANS = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理停火加沙外长会议呼吁巴以两国共存框架港澳台湾选举经济疫情"
WORDS_EN = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which but have an they "
    "you were her she there been one all we their has would when if so no will more can out up who said do into what "
    "about than them some could its time ceasefire minister talks council market ferry harbour election budget court "
    "report police weather storm rescue hospital school university energy prices trade border summit sanctions vote "
    "protest inflation drought flood vaccine satellite"
).split()
S2T = opencc.OpenCC("s2t.json")
T2S = opencc.OpenCC("t2s.json")


def vocabulary(rng: random.Random) -> tuple[list[str], list[str]]:
    hans = ["".join(rng.choice(HANS) for _ in range(rng.choice((1, 2, 2, 3, 4)))) for _ in range(6000)]
    hant = [S2T.convert(w) for w in hans]
    return hans, hant


def make_article(rng: random.Random, n: int, hans: list[str], hant: list[str]) -> tuple[str, str, str]:
    slot = n % 25
    if slot < 12:
        words, joiner, lang = hans, "", "zh-Hans"
    elif slot < 15:
        words, joiner, lang = hant, "", "zh-Hant"
    else:
        words, joiner, lang = WORDS_EN, " ", "en"
    # Zipf-like: early words of the vocabulary are far more common.
    weights = None
    count = 280 if joiner else 170
    chosen = rng.choices(words[:2000], k=count, weights=weights)
    paragraphs = []
    step = count // 4
    for i in range(0, count, step):
        sentence = joiner.join(chosen[i : i + step])
        paragraphs.append(sentence + ("." if joiner else "。"))
    title = joiner.join(rng.choices(words[:2000], k=8 if joiner else 6))
    html = "".join(f"<p>{p}</p>" for p in paragraphs)
    return title, html, lang


def build(archive: tidings.Archive, start: int, stop: int, rng: random.Random, vocab: tuple[list[str], list[str]]) -> tuple[float, float, int]:
    store = archive.store
    site_ids = [store.site(name).id for name in ("山海日报", "臺灣晨鐘", "Harbour Gazette")]
    base = datetime(2025, 1, 1, tzinfo=timezone.utc)
    started = time.perf_counter()
    plain = 0
    for chunk in range(start, stop, 2000):
        with store.transaction():
            for n in range(chunk, min(stop, chunk + 2000)):
                title, html, lang = make_article(rng, n, *vocab)
                plain += len((title + html).encode())
                when = base + timedelta(minutes=n)
                article = store.add_article(site_ids[n % 3], f"k{n}", f"https://news.example/{n}", when, when)
                store.add_revision(article.id, NewRevision(when, title, html, RevisionSource.FEED, language=lang))
    stored = time.perf_counter() - started
    started = time.perf_counter()
    archive.derive()
    derived = time.perf_counter() - started
    return stored, derived, plain


def ground_truth(archive: tidings.Archive) -> list[tuple[int, str]]:
    out = []
    for revision in archive.store.iter_revisions(latest_only=True):
        out.append((revision.article_id, fold(revision.title + "\n" + (revision.text or ""))))
    return out


def all_hits(archive: tidings.Archive, query: str) -> set[int]:
    found: set[int] = set()
    cursor = None
    while True:
        page = archive.search(query, limit=1000, cursor=cursor)
        found.update(hit.article_id for hit in page.hits)
        if not page.next_cursor:
            return found
        cursor = page.next_cursor


def quality(archive: tidings.Archive, rng: random.Random, queries: int) -> None:
    docs = ground_truth(archive)
    texts = [t for _, t in docs]
    kinds: dict[str, list[tuple[float, float]]] = {}
    for q in range(queries * 2):
        doc_id, text = docs[rng.randrange(len(docs))]
        cjk = [c for c in text if "\u4e00" <= c <= "\u9fff"]
        if q % 4 == 3 or not cjk:
            word = rng.choice(WORDS_EN)
            query, truth_needle, kind = word, word, "English word"
        else:
            length = rng.randint(1, 6)
            runs = [run for run in text.replace("。", "\n").split("\n") if len(run) >= length]
            if not runs:
                continue
            run = rng.choice(runs)
            offset = rng.randrange(len(run) - length + 1)
            needle = run[offset : offset + length]
            if not all("\u4e00" <= c <= "\u9fff" for c in needle):
                continue
            if q % 4 == 1:
                query, kind = S2T.convert(needle), "CJK asked in Traditional"
            else:
                query, kind = needle, f"CJK, {length} characters"
            truth_needle = needle
        if kind == "English word":
            pattern = re.compile(rf"\b{re.escape(truth_needle)}\b")
            truth = {aid for aid, t in docs if pattern.search(t)}
        else:
            truth = {aid for aid, t in docs if truth_needle in t}
        found = all_hits(archive, f'"{query}"' if " " in query else query)
        recall = len(found & truth) / len(truth) if truth else 1.0
        precision = len(found & truth) / len(found) if found else (1.0 if not truth else 0.0)
        kinds.setdefault(kind, []).append((recall, precision))
    print("recall / precision against ground truth (substring of the folded text):")
    for kind in sorted(kinds):
        values = kinds[kind]
        r = statistics.mean(v[0] for v in values)
        p = statistics.mean(v[1] for v in values)
        print(f"  {kind:<28} {len(values):4} queries   recall {r:.4f}   precision {p:.4f}")
    del texts


def query_mix(rng: random.Random, vocab: tuple[list[str], list[str]], count: int) -> list[str]:
    hans, hant = vocab
    queries = []
    for q in range(count):
        pick = q % 6
        if pick == 0:
            queries.append(rng.choice(hans[:20]))  # common
        elif pick == 1:
            queries.append(rng.choice(hans[:2000]))
        elif pick == 2:
            queries.append(rng.choice(WORDS_EN[:15]))  # common English words
        elif pick == 3:
            queries.append(rng.choice(WORDS_EN))
        elif pick == 4:
            queries.append(f"{rng.choice(hans[:2000])} {rng.choice(hans[:200])}")
        else:
            queries.append(f"{rng.choice(WORDS_EN)} {rng.choice(hant[:2000])}")
    return queries


def latency(archive: tidings.Archive, queries: list[str], sort: str = "relevance") -> tuple[float, float, float]:
    times = []
    for query in queries:
        started = time.perf_counter()
        archive.search(query, limit=20, sort=sort)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], times[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 200_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL, side by side")
    args = parser.parse_args()
    if args.postgres:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.pgcluster import cluster, create_database

        with cluster() as server:
            run(args, create_database(server))
    else:
        run(args, None)


def run(args: argparse.Namespace, postgres: str | None) -> None:
    work = args.workdir or Path(tempfile.mkdtemp(prefix="tidings-bench-search-"))
    db = work / "search.sqlite3"
    for path in work.glob("search.sqlite3*"):
        path.unlink()
    stores = {"sqlite": db} if postgres is None else {"sqlite": db, "postgresql": postgres}
    archives = {name: tidings.open_archive(location) for name, location in stores.items()}
    rngs = {name: random.Random(5) for name in stores}
    vocab = vocabulary(random.Random(5))
    for rng in rngs.values():
        vocabulary(rng)  # the same draws as the vocabulary's, so both stores get the same articles
    done = 0
    print(
        f"{'store':>10} {'articles':>9} {'build/s':>9} {'plain MB':>9} {'index MB':>9} {'index/plain':>12}"
        f" {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'new: median':>12} {'p95 ms':>8}"
    )
    for position, size in enumerate(sorted(args.sizes)):
        queries = query_mix(random.Random(position), vocab, args.queries)
        for name, archive in archives.items():
            _stored, derived, _plain = build(archive, done, size, rngs[name], vocab)
            text_bytes = sum(len((r.title + (r.text or "")).encode()) for r in archive.store.iter_revisions(latest_only=True))
            index_bytes, _page = archive.store.index_size()
            rate = (size - done) / derived
            median, p95, worst = latency(archive, queries)
            new_median, new_p95, _worst = latency(archive, queries, "new")
            print(
                f"{name:>10} {size:>9,} {rate:>9,.0f} {text_bytes / 1e6:>9.1f} {index_bytes / 1e6:>9.1f}"
                f" {index_bytes / text_bytes:>12.2f} {median:>10.2f} {p95:>8.2f} {worst:>8.1f}"
                f" {new_median:>12.2f} {new_p95:>8.2f}"
            )
        done = size
        if len(archives) > 1:
            compared = queries[: max(10, len(queries) // 4)]
            same = sum(all_hits(archives["sqlite"], q) == all_hits(archives["postgresql"], q) for q in compared)
            print(f"{'':>10} same complete hit sets on both stores: {same} of {len(compared)} queries")
        if position == 0:
            for name, archive in archives.items():
                print(f"{name}:", end=" ")
                quality(archive, random.Random(9), args.queries)
    print(
        "targets at 200,000: median <= 5 ms and p95 <= 40 ms (relevance), median <= 2 ms (new);"
        " index <= 2x the plain text; recall 100%"
    )
    for archive in archives.values():
        archive.close()


if __name__ == "__main__":
    main()
