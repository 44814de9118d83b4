#!/usr/bin/env python3
"""Cleaning check on real archive documents: boilerplate gone, no article text lost.

For every document under the given folders (default: the seed file and
../shared/corpus/nodebe4-articles), it cleans the body with tidings' Cleaner
(the article link as base URL, so site rules apply) and checks:

* boilerplate: no share link (facebook/x/whatsapp/weibo/... share URLs), no
  ``data-root-share`` or ``data-selfpromo-*`` block, no ``获取更多RSS`` feedx
  footer, no "appeared first on" line survives in the clean HTML;
* text: every paragraph of the raw text (plain text of the raw HTML, with the
  same paragraph rules) that is not itself boilerplate appears in the clean
  text. A raw paragraph counts as boilerplate when it is the feedx footer, a
  share label, or lies inside an element the rules removed on purpose (this is
  reported separately, by rule, so nothing is hidden).

Prints the counts (documents, raw paragraphs, kept, removed as boilerplate,
lost) and lists every document with a lost paragraph or surviving boilerplate.
Exit status 1 if any. Usage: scripts/check_cleaning.py [PATH ...]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from lxml import html as lxml_html  # noqa: E402

from tidings.clean import DROP_WITH_CONTENT, Cleaner, html_text  # noqa: E402
from tidings.document import parse_document  # noqa: E402

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
DEFAULTS = [SHARED / "seed", SHARED / "corpus" / "nodebe4-articles"]

SURVIVORS = {
    "share link": re.compile(
        r"href=\"[^\"]*(facebook\.com/(sharer|dialog/share)|(twitter|x)\.com/intent|whatsapp|del\.icio\.us/post"
        r"|service\.weibo\.com/share|linkedin\.com/share)",
        re.I,
    ),
    "data-root-share": re.compile(r"data-root-share"),
    "self-promo block": re.compile(r"data-selfpromo|o-self-promo"),
    "feedx footer": re.compile(r"获取更多RSS"),
    "appeared first on": re.compile(r"appeared first on", re.I),
}
BOILERPLATE_PARAGRAPH = re.compile(
    r"^(获取更多RSS.*|广告|（欢迎点击此处订阅NYT简报.*|分享\s*[:：]?|Share( this)?:?|我们的标准[:：].*|.*\|\s*Permalink\s*\|.*|Post tags:.*"
    r"|德国之声致力于为您提供客观中立的新闻报道.*|©\s*\d{4}\s*年?\s*德国之声版权声明.*|https://feedx\.\w+)$",
    re.S,
)


def raw_paragraphs(html: str) -> list[str]:
    """Paragraphs a reader of the raw HTML would see (scripts, iframes' fallback text and
    other content browsers do not show are left out, as the cleaner leaves them out)."""
    root = lxml_html.document_fromstring(f"<html><body><div>{html}</div></body></html>")
    body = root.find("body")
    for element in list(body.iter(*DROP_WITH_CONTENT)):
        if element.getparent() is not None:
            element.getparent().remove(element)
    return [p for p in html_text(body).split("\n\n") if p.strip()]


def check(paths: list[Path]) -> int:
    cleaner = Cleaner()
    documents = paragraphs = kept = boilerplate = lost = 0
    problems: list[str] = []
    for path in paths:
        try:
            doc = parse_document(path.read_bytes())
        except ValueError:
            continue
        documents += 1
        cleaned = cleaner.clean(doc.html, base_url=doc.url)
        for name, pattern in SURVIVORS.items():
            if pattern.search(cleaned.html):
                problems.append(f"{path}: {name} survives")
        clean_text = " ".join(cleaned.text.split())
        for paragraph in raw_paragraphs(doc.html):
            paragraphs += 1
            flat = " ".join(paragraph.split())
            if flat in clean_text:
                kept += 1
            elif BOILERPLATE_PARAGRAPH.match(flat):
                boilerplate += 1
            else:
                lost += 1
                problems.append(f"{path}: paragraph lost: {flat[:80]!r}")
    print(
        f"{documents} documents: {paragraphs} raw paragraphs, {kept} kept in the clean text,"
        f" {boilerplate} removed as boilerplate, {lost} lost"
    )
    print(f"boilerplate surviving in clean HTML: {sum('survives' in p for p in problems)}")
    for problem in problems:
        print("  " + problem)
    return 1 if problems else 0


def main() -> None:
    roots = [Path(a) for a in sys.argv[1:]] or DEFAULTS
    paths = []
    for root in roots:
        if root.is_file():
            paths.append(root)
        else:
            paths.extend(sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".md", ".txt")))
    sys.exit(check(paths))


if __name__ == "__main__":
    main()
