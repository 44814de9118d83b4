#!/usr/bin/env python3
"""Round-trip check on real repositories of the original layout.

For each DIR (a repository with articles/<site>/… or a folder of site folders,
such as ../shared/corpus/nodebe4-articles/with-feedx-footer), import it into a
temporary archive, export it to a temporary folder and compare every file:
same names, same bytes. Prints the counts and every difference; the exit
status is 1 if any file differs or failed to import.

Usage: scripts/check_corpus.py DIR [DIR ...]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import tidings  # noqa: E402


def check(source: Path) -> bool:
    articles = source / "articles" if (source / "articles").is_dir() else source
    with tempfile.TemporaryDirectory(prefix="tidings-check-") as work:
        with tidings.open_archive(Path(work) / "check.sqlite3") as archive:
            report = archive.import_documents(source)
            out = Path(work) / "out"
            archive.export_documents(out)
        original = {p.relative_to(articles): p for p in articles.rglob("*.md") if p.is_file()}
        exported = {p.relative_to(out / "articles"): p for p in (out / "articles").rglob("*.md")}
        missing = sorted(set(original) - set(exported))
        extra = sorted(set(exported) - set(original))
        differ = sorted(
            rel for rel in set(original) & set(exported)
            if original[rel].read_bytes() != exported[rel].read_bytes()
        )
    same = len(original) - len(missing) - len(differ)
    print(
        f"{source}: {len(original)} files, {report.new_articles} articles,"
        f" {len(report.errors)} failed to import; exported {same} identical,"
        f" {len(differ)} different, {len(missing)} missing, {len(extra)} extra"
    )
    for problem in report.errors:
        print(f"  import error: {problem.path}: {problem.reason}")
    for rel in differ:
        print(f"  differs: {rel}")
    for rel in missing:
        print(f"  missing: {rel}")
    for rel in extra:
        print(f"  extra: {rel}")
    return not (report.errors or differ or missing or extra)


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    results = [check(Path(arg)) for arg in sys.argv[1:]]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
