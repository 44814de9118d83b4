#!/usr/bin/env python3
"""Benchmark: import and export of archive documents, on data generated here.

Generates a repository of the original layout (default 20,000 documents of
about 5 KB, 60% Chinese, over 8 sites), then times with the ``tidings``
command of this checkout:

* import into a new database (documents/s), then (separately) cleaning and
  indexing the imported documents;
* the same import again (nothing new; documents/s);
* export into an empty folder (documents/s), and ``cp -r`` of the resulting
  tree in the same run (the ratio export / cp);
* export again onto that folder (nothing changes; documents/s).

It checks that the export reproduces the generated files byte for byte.
Usage: scripts/bench_archive.py [--docs N] [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import filecmp
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIDINGS = [sys.executable, "-m", "tidings"]

SITES = ["法广", "路透", "美国之音", "德国之声", "BBC", "金融时报", "Harbour Gazette", "臺灣晨鐘"]
ZH = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理"
ZH_HANT = "的一是在不了有和人這中大為上個國我以要他時來用們生到作地於出就分對成會可主發年動同工也能下過子說產種面而方後多定行學法所民得經十三之進著等部度家電力裡如水化高自二理起小物現實加量都兩體制機當使點從業本去把性好應開它合還因由其些然前外天政四日那社義事平形相全表間樣與關各重新線內數正心反你明看原又麼利比或但質氣第向道命此變條只沒結解問意建月公無系軍很情者最立代想已通並提直題黨程展五果料象員革位入常文總次品式活設及管特件長求老頭基資邊流路級少圖山統接知較將組見計別她手角期根論運農指幾九區強放決西被幹做必戰先回則任取據處理"
EN = (
    "the of and to in a is that for it as was with be by on not he this are or his from at "
    "which but have an they you were her she there been one all we their has would when if "
    "so no will more can out up who said do into what about than them some could its time"
).split()


def paragraph(rng: random.Random, lang: str) -> str:
    if lang == "en":
        words = [rng.choice(EN) for _ in range(rng.randint(40, 90))]
        return " ".join(words).capitalize() + "."
    alphabet = ZH if lang == "zh" else ZH_HANT
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(80, 200))) + "。"


def generate(root: Path, docs: int, seed: int = 7) -> int:
    """Write ``docs`` documents under root/articles; returns total bytes."""
    rng = random.Random(seed)
    total = 0
    ids = {site: 0xFFFFF for site in SITES}
    for n in range(docs):
        site = SITES[n % len(SITES)]
        lang = "zh" if n % 10 < 5 else ("zh-hant" if n % 10 == 5 else "en")
        title = paragraph(rng, lang)[: rng.randint(12, 40)].strip(" .。")
        paragraphs = []
        size = 0
        target = rng.randint(3000, 7000)
        while size < target:
            text = paragraph(rng, lang)
            paragraphs.append(f"<p>{text}</p>")
            size += len(text.encode())
        html = (
            f'<div><i>{2020 + n % 5}年</i></div><img src="https://img.example/{n}.jpg">'
            + "".join(paragraphs)
            + '<br><hr><div>获取更多RSS：<br><a href="https://feedx.net">https://feedx.net</a></div>'
        )
        ts = 1_590_000_000_000 + n * 60_000
        url = f"https://news.example/{site}/{n}"
        folder = root / "articles" / site
        folder.mkdir(parents=True, exist_ok=True)
        data = f"<!--{ts}-->\n[{title}]({url})\n------\n\n{html}\n".encode()
        ids[site] -= 1
        (folder / f"{ids[site] + 1}_{title.replace('/', '--')}.md").write_bytes(data)
        total += len(data)
    return total


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each timing (median shown)")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="tidings-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    repo = work / "repo"
    if repo.exists():
        shutil.rmtree(repo)
    size = generate(repo, args.docs)
    print(f"generated {args.docs} documents, {size / 1e6:.1f} MB, in {repo}")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))

    results: dict[str, list[float]] = {
        k: [] for k in ("import", "derive", "reimport", "export", "cp", "reexport")
    }
    for run in range(args.runs):
        db = work / f"bench-{run}.sqlite3"
        out = work / f"out-{run}"
        copy = work / f"copy-{run}"
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            path.unlink(missing_ok=True)
        for path in (out, copy):
            shutil.rmtree(path, ignore_errors=True)
        results["import"].append(timed([*TIDINGS, "--db", str(db), "import", "--no-derive", str(repo)], env))
        results["derive"].append(
            timed([sys.executable, "-c", f"import tidings; tidings.open_archive({str(db)!r}).derive()"], env)
        )
        results["reimport"].append(timed([*TIDINGS, "--db", str(db), "import", str(repo)], env))
        results["export"].append(
            timed([*TIDINGS, "--db", str(db), "export", "--format", "documents", str(out)], env)
        )
        subprocess.run(["sync"], check=False)
        results["cp"].append(timed(["cp", "-r", str(out), str(copy)], env))
        results["reexport"].append(
            timed([*TIDINGS, "--db", str(db), "export", "--format", "documents", str(out)], env)
        )
        comparison = filecmp.dircmp(repo / "articles", out / "articles")
        mismatched = [d for d in comparison.subdirs.values() if d.diff_files or d.left_only or d.right_only]
        if mismatched or comparison.left_only or comparison.right_only:
            sys.exit("export does not reproduce the generated repository")
        for sub in comparison.subdirs:
            _, mismatch, errors = filecmp.cmpfiles(
                repo / "articles" / sub, out / "articles" / sub,
                os.listdir(repo / "articles" / sub), shallow=False,
            )
            if mismatch or errors:
                sys.exit(f"export differs from the generated files in {sub}: {mismatch[:3]}")
        shutil.rmtree(copy)
        if run < args.runs - 1:
            shutil.rmtree(out)

    def line(name: str, label: str) -> float:
        median = statistics.median(results[name])
        print(
            f"{label:<36} {median:7.2f} s   {args.docs / median:9,.0f} documents/s"
            f"   (runs: {', '.join(f'{t:.2f}' for t in results[name])})"
        )
        return median

    print(f"round trip: byte-exact for all {args.docs} files")
    line("import", "import into a new database")
    line("derive", "then clean and index them")
    line("reimport", "import again (nothing new)")
    export = line("export", "export into an empty folder")
    cp = line("cp", "cp -r of the exported tree")
    line("reexport", "export again (nothing changes)")
    ratios = [e / c for e, c in zip(results["export"], results["cp"])]
    print(
        f"export / cp -r time ratio, same run: median {statistics.median(ratios):.2f}"
        f" (runs: {', '.join(f'{r:.2f}' for r in ratios)}); of medians {export / cp:.2f}"
    )
    if not args.keep and args.workdir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
