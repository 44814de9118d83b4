#!/usr/bin/env python3
"""Extraction quality on the Zyte (Scrapinghub) article-extraction benchmark.

Runs tidings' extractor (``tidings.extract.extract_article``) over every page
of ../shared/corpus/extraction/scrapinghub-article-extraction-benchmark (or
CORPUS) and scores it with the benchmark's own method: tokens are ``\\w+``
(case-insensitive), shingles are runs of 4 tokens, per page TP/FP/FN over the
shingle multisets normalised to sum to 1, precision and recall averaged over
pages (FP = FN = 0 counts as 1, TP = 0 as 0), F1 from the two means, and
accuracy = share of pages whose token sequence matches exactly. Prints
F1/P/R/accuracy, with bootstrap standard deviations, and the worst pages.

Usage: scripts/eval_extraction.py [CORPUS] [--worst 10] [--method tidings|trafilatura]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

DEFAULT = (
    Path(__file__).resolve().parent.parent.parent
    / "shared/corpus/extraction/scrapinghub-article-extraction-benchmark"
)
TOKEN = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


def shingles(words: list[str], n: int = 4) -> Counter[tuple[str, ...]]:
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def page_scores(truth: str, prediction: str) -> tuple[float, float, bool]:
    """(precision, recall, exact) of one page, the benchmark's way."""
    t_words, p_words = tokens(truth), tokens(prediction)
    t, p = shingles(t_words), shingles(p_words)
    tp = sum(min(count, p[s]) for s, count in t.items())
    fp = sum(max(0, count - t[s]) for s, count in p.items())
    fn = sum(max(0, count - p[s]) for s, count in t.items())
    total = tp + fp + fn
    if total:
        tp, fp, fn = tp / total, fp / total, fn / total
    precision = 1.0 if fp == 0 and tp == 0 and fn == 0 else (tp / (tp + fp) if tp else 0.0)
    recall = 1.0 if fp == 0 and tp == 0 and fn == 0 else (tp / (tp + fn) if tp else 0.0)
    if fp == 0 and tp == 0 and fn != 0:
        precision = 1.0 if not p_words else 0.0
    return precision, recall, t_words == p_words


def f1(precisions: list[float], recalls: list[float]) -> tuple[float, float, float]:
    p = sum(precisions) / len(precisions)
    r = sum(recalls) / len(recalls)
    return (2 * p * r / (p + r) if p + r else 0.0), p, r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--worst", type=int, default=10)
    parser.add_argument("--method", default="tidings", choices=["tidings", "trafilatura"])
    args = parser.parse_args()

    truth = json.loads((args.corpus / "ground-truth.json").read_text("utf-8"))
    if args.method == "tidings":
        from tidings.extract import extract_article

        def run(html: bytes, url: str) -> str:
            result = extract_article(html, url=url)
            return result.text if result else ""

    else:
        import trafilatura

        def run(html: bytes, url: str) -> str:
            return trafilatura.extract(html.decode("utf-8", "replace"), url=url) or ""

    precisions, recalls, exact, rows = [], [], [], []
    started = time.perf_counter()
    for key, item in sorted(truth.items()):
        html = gzip.decompress((args.corpus / "html" / f"{key}.html.gz").read_bytes())
        prediction = run(html, item.get("url", ""))
        p, r, e = page_scores(item["articleBody"], prediction)
        precisions.append(p)
        recalls.append(r)
        exact.append(e)
        rows.append((2 * p * r / (p + r) if p + r else 0.0, p, r, key, item.get("url", "")))
    elapsed = time.perf_counter() - started
    score, p, r = f1(precisions, recalls)
    rng = random.Random(0)
    samples = []
    for _ in range(1000):
        picks = [rng.randrange(len(precisions)) for _ in precisions]
        samples.append(f1([precisions[i] for i in picks], [recalls[i] for i in picks])[0])
    mean = sum(samples) / len(samples)
    std = (sum((s - mean) ** 2 for s in samples) / len(samples)) ** 0.5
    print(
        f"{args.method}: F1 {score:.3f} ± {std:.3f}   precision {p:.3f}   recall {r:.3f}"
        f"   accuracy {sum(exact) / len(exact):.3f}   ({len(rows)} pages, {elapsed:.1f} s)"
    )
    if args.worst:
        print(f"worst {args.worst} pages (F1, P, R, url):")
        for row in sorted(rows)[: args.worst]:
            print(f"  {row[0]:.2f} {row[1]:.2f} {row[2]:.2f}  {row[4]}")


if __name__ == "__main__":
    main()
