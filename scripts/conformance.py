#!/usr/bin/env python3
"""Parser conformance on the feedparser test suite (../shared/corpus/feedparser-tests).

Each test file carries ``Expect: <python expression>`` over feedparser's
result. This runner parses the file with tidings, builds a feedparser-shaped
view of the result through the key mapping below, evaluates the expression,
and prints the pass rate per folder, then every case it judges not
applicable and why, and (with --failures) every failing case.

Key mapping (tidings model -> feedparser names the expressions use):

    bozo                      ParsedFeed.recovered (not well-formed, read by the tolerant path)
    encoding, version         ParsedFeed.encoding, ParsedFeed.version
    feed.title / link / language / author
                              ParsedFeed.title / link / language / author
    feed.subtitle             ParsedFeed.subtitle       (aliases: tagline, description, info)
    feed.updated_parsed       ParsedFeed.updated as a UTC time tuple (alias modified_parsed)
    entries[i].id             ParsedEntry.id            (alias guid)
    entries[i].link / title / author
                              ParsedEntry.link / title / author
    entries[i].summary        ParsedEntry.summary       (alias description); summary and
                              content are HTML, so a plain-text construct compares equal
                              to the text it escapes
    entries[i].content        [{"value": ParsedEntry.content}]
    entries[i].published_parsed, updated_parsed
                              ParsedEntry.published / updated as UTC time tuples
                              (aliases issued_parsed; modified_parsed, date_parsed)
    entries[i].enclosures     [{"href", "url", "type", "length"}]  (length as text, as feedparser)
    entries[i].tags           [{"term"}] from ParsedEntry.categories (alias category = tags[0].term)

Not applicable, with the reason printed: sanitising (the cleaning stage's job,
``wellformed/sanitize``), keys the model does not carry (``*_detail``,
``links``, ``contributors``, ``source``, ``rights``, iTunes, GeoRSS, Podlove,
CDF, namespaces, raw date strings, HTTP response fields), tests that need a
character-set guesser (``SkipUnless: chardet``) and tests that only assert
``1`` (no expectation).

Usage: scripts/conformance.py [CORPUS_DIR] [--failures] [--folders wellformed encoding illformed]
"""

from __future__ import annotations

import argparse
import ast
import datetime
import html
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from lxml import etree  # noqa: E402
from lxml import html as lxml_html  # noqa: E402

from tidings.errors import FeedParseError  # noqa: E402
from tidings.parse.common import html_to_text  # noqa: E402
from tidings.model import ParsedEntry, ParsedFeed  # noqa: E402
from tidings.parse import parse_feed  # noqa: E402

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "feedparser-tests"

SUPPORTED = {
    # top level
    "bozo", "encoding", "version", "feed", "entries", "channel", "items",
    # shared
    "title", "link", "language", "author", "id", "guid", "summary", "description",
    "subtitle", "tagline", "content", "value", "enclosures", "href", "url",
    "length", "tags", "term", "category", "updated_parsed", "published_parsed",
    "issued_parsed", "modified_parsed", "date_parsed",
    # python used inside expressions
    "get", "keys", "len", "ord", "isinstance", "str", "dict", "list", "datetime",
    "timezone", "utc", "tuple", "int", "lower", "startswith", "endswith", "strip", "count", "id",
}  # fmt: skip

ALIASES_ENTRY = {
    "description": "summary", "guid": "id", "issued_parsed": "published_parsed",
    "modified_parsed": "updated_parsed", "date_parsed": "updated_parsed",
}  # fmt: skip
ALIASES_FEED = {
    "description": "subtitle", "tagline": "subtitle", "guid": "id",
    "modified_parsed": "updated_parsed", "date_parsed": "updated_parsed",
}  # fmt: skip


class View(dict):  # type: ignore[type-arg]
    """A dict with feedparser's attribute access and legacy aliases."""

    aliases: dict[str, str] = {}

    def __getitem__(self, key: str) -> Any:
        if key == "category":
            return dict.__getitem__(self, "tags")[0]["term"]
        return dict.__getitem__(self, self.aliases.get(key, key))

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, self.aliases.get(key, key) if isinstance(key, str) else key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except (KeyError, IndexError):
            return default

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError as exc:
            raise AttributeError(key) from exc


class EnclosureView(View):
    aliases = {"url": "href"}


class HtmlValue(str):
    """HTML from the model; a plain-text construct equals the text it escapes."""

    __hash__ = str.__hash__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, str):
            return False
        return (
            str.__eq__(self, other)
            or str.__eq__(self, html.escape(other, quote=False))
            or normalise_markup(self) == normalise_markup(other)
        )

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)


class TextValue(str):
    """A plain-text title; an HTML title in an expectation compares by its text."""

    __hash__ = str.__hash__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, str):
            return False
        return str.__eq__(self, other) or str.__eq__(self, html_to_text(other))

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)


class EntryView(View):
    aliases = ALIASES_ENTRY


class FeedView(View):
    aliases = ALIASES_FEED


def _time(value: datetime.datetime | None) -> Any:
    return value.utctimetuple() if value else None


def _put(view: View, key: str, value: Any) -> None:
    if value is not None and value != () and value != []:
        view[key] = value


_PREFIX = re.compile(r"<(/?)[A-Za-z][\w.-]*:")
_XMLNS = re.compile(r"""\s+xmlns(:[\w.-]+)?=(["']).*?\2""")


def normalise_markup(markup: str) -> str:
    """Markup in a form where serialisation details do not count.

    Namespace prefixes and declarations are dropped, attributes sorted,
    empty elements written one way; text is compared as it is.
    """
    cleaned = _XMLNS.sub("", _PREFIX.sub(r"<\1", markup))
    try:
        parts = lxml_html.fragments_fromstring(cleaned)
    except (etree.ParserError, ValueError):
        return markup
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            out.append(node)
            return
        tag = str(node.tag).split(":")[-1].lower()
        attributes = "".join(
            f' {k.split(":")[-1].lower()}="{v}"' for k, v in sorted(node.attrib.items())
        )
        out.append(f"<{tag}{attributes}>")
        if node.text:
            out.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                out.append(child.tail)
        out.append(f"</{tag}>")

    for part in parts:
        walk(part)
    return "".join(out)


def entry_view(entry: ParsedEntry, atom: bool) -> EntryView:
    view = EntryView()
    _put(view, "id", entry.id)
    _put(view, "link", entry.link)
    _put(view, "title", TextValue(entry.title) if entry.title is not None else None)
    _put(view, "author", entry.author)
    _put(view, "summary", HtmlValue(entry.summary) if entry.summary is not None else None)
    if entry.content is not None:
        view["content"] = [View(value=HtmlValue(entry.content))]
    _put(view, "published_parsed", _time(entry.published))
    _put(view, "updated_parsed", _time(entry.updated))
    _put(
        view,
        "enclosures",
        [
            EnclosureView(href=e.url, type=e.type or "", length=str(e.length or ""))
            for e in entry.enclosures
            if e.title not in ("thumbnail", "image", "banner_image")
        ],
    )
    _put(view, "tags", [View(term=c, scheme=None, label=None) for c in entry.categories])
    _put(view, "language", entry.language)
    if atom and "summary" not in view and "content" in view:
        view["summary"] = view["content"][0]["value"]  # feedparser fills an Atom summary so
    if entry.content is not None:
        view["content"][0]["language"] = entry.language
    return view


def result_view(parsed: ParsedFeed) -> dict[str, Any]:
    feed = FeedView()
    _put(feed, "title", TextValue(parsed.title) if parsed.title is not None else None)
    _put(feed, "link", parsed.link)
    _put(feed, "subtitle", HtmlValue(parsed.subtitle) if parsed.subtitle is not None else None)
    _put(feed, "language", parsed.language)
    _put(feed, "author", parsed.author)
    _put(feed, "updated_parsed", _time(parsed.updated))
    _put(feed, "id", parsed.id)
    _put(feed, "tags", [View(term=c, scheme=None, label=None) for c in parsed.categories])
    entries = [entry_view(e, parsed.version.startswith("atom")) for e in parsed.entries]
    return {
        "bozo": int(parsed.recovered),
        "encoding": parsed.encoding,
        "version": parsed.version,
        "feed": feed,
        "channel": feed,
        "entries": entries,
        "items": entries,
        "datetime": datetime,
    }


def names_used(expression: str) -> set[str]:
    """Every bare name, attribute and string subscript an Expect expression touches."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return {"<unparsable>"}
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            if isinstance(node.slice.value, str):
                found.add(node.slice.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "get" and node.args and isinstance(node.args[0], ast.Constant):
                if isinstance(node.args[0].value, str):
                    found.add(node.args[0].value)
        elif isinstance(node, ast.Compare):
            for op, right in zip(node.ops, node.comparators):
                if isinstance(op, (ast.In, ast.NotIn)) and isinstance(node.left, ast.Constant):
                    if isinstance(node.left.value, str):
                        found.add(node.left.value)
    return found


def not_applicable(record: dict[str, Any]) -> str | None:
    path = record["path"]
    expect = record["expect"] or ""
    if "/sanitize/" in path:
        return "sanitising belongs to the cleaning stage"
    if "/cdf/" in path:
        return "CDF (Microsoft's obsolete Channel Definition Format) is not a supported format"
    if "modified_parsed" in expect and "/http/" in path:
        return "HTTP response fields belong to the fetcher"
    if re.search(r"feed\[['\"]published_parsed", expect):
        return "a feed's own publication time is not kept (its last update is)"
    if re.search(r"entries\[\d\]\[['\"]subtitle", expect):
        return "entries have no subtitle in the model"
    if "chardet" in (record.get("skip_unless") or ""):
        return "needs a character-set guesser (chardet) for undeclared encodings"
    if expect.strip() in ("1", "True"):
        return "asserts nothing"
    if "bozo_exception" in expect:
        return "feedparser's exception classes"
    unknown = sorted(names_used(expect) - SUPPORTED)
    if unknown:
        return "keys the model does not carry: " + ", ".join(unknown[:4])
    if re.search(r"""(href|src)=\\?["']https?://""", expect) and (
        "/base/" in path or "relative" in expect
    ):
        return "relative links inside HTML are resolved by the cleaning stage (HTML is kept as received)"
    # Raw date strings: the model keeps parsed times only.
    if re.search(r"\[['\"](published|updated|issued|modified|created|date)['\"]\]", expect):
        return "raw date strings (the model keeps parsed times)"
    return None


def run_case(root: Path, record: dict[str, Any]) -> tuple[bool, str]:
    path = root / record["path"]
    data = path.read_bytes()
    headers = {k.lower(): v.strip() for k, v in record.get("http_headers") or []}
    content_type = headers.get("content-type")
    url = f"http://127.0.0.1:8097/{record['path']}" if "http" in record["path"] else str(path)
    # The fetcher passes Content-Location, when a response has one, as the document's URL.
    if "content-location" in headers:
        url = urljoin(url, headers["content-location"])
    try:
        parsed = parse_feed(
            data,
            content_type=content_type,
            url=url,
            content_language=headers.get("content-language"),
        )
        namespace = result_view(parsed)
    except FeedParseError as exc:
        namespace = {"bozo": 1, "feed": FeedView(), "entries": [], "encoding": "", "version": "", "datetime": datetime}
        error = f"parse error: {exc}"
    else:
        error = ""
    expect = record["expect"]
    try:
        ok = bool(eval(expect, {"datetime": datetime}, namespace))  # noqa: S307 - the corpus's own expressions
    except Exception as exc:  # an expectation that cannot even be evaluated fails
        return False, error or f"{type(exc).__name__}: {exc}"
    if ok and record["path"].startswith("wellformed/") and namespace.get("bozo"):
        return False, "recovered (bozo) on a well-formed document"
    return ok, error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--failures", action="store_true", help="list failing cases")
    parser.add_argument("--folders", nargs="*", default=["wellformed", "encoding", "illformed"])
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    manifest = json.loads((args.corpus / "MANIFEST.json").read_text("utf-8"))
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    skipped: list[tuple[str, str]] = []
    failures: list[tuple[str, str, str]] = []
    for record in manifest:
        top = record["path"].split("/")[0]
        if top not in args.folders:
            continue
        folder = "/".join(record["path"].split("/")[:2]) if top == "wellformed" else top
        reason = not_applicable(record)
        if reason:
            counts[folder]["n/a"] += 1
            skipped.append((record["path"], reason))
            continue
        ok, detail = run_case(args.corpus, record)
        counts[folder]["pass" if ok else "fail"] += 1
        if not ok:
            failures.append((record["path"], record["expect"], detail))
    total = Counter[str]()
    print(f"{'folder':<28} {'pass':>5} {'fail':>5} {'n/a':>5}   rate")
    for folder in sorted(counts):
        c = counts[folder]
        total.update(c)
        applicable = c["pass"] + c["fail"]
        rate = f"{100 * c['pass'] / applicable:5.1f}%" if applicable else "   - "
        print(f"{folder:<28} {c['pass']:>5} {c['fail']:>5} {c['n/a']:>5}  {rate}")
    applicable = total["pass"] + total["fail"]
    print(
        f"{'all (sanitize excluded)':<28} {total['pass']:>5} {total['fail']:>5} {total['n/a']:>5}"
        f"  {100 * total['pass'] / max(applicable, 1):5.1f}%"
    )
    reasons = Counter(reason.split(":")[0] for _, reason in skipped)
    print("\nnot applicable, by reason:")
    for reason, number in reasons.most_common():
        print(f"  {number:5}  {reason}")
    print("\nnot applicable, each case:")
    for path, reason in skipped:
        if "/sanitize/" not in path:
            print(f"  {path}: {reason}")
    if args.failures:
        print("\nfailures:")
        for path, expect, detail in failures:
            print(f"  {path}\n      expect: {expect}\n      {detail}")
    if args.json:
        args.json.write_text(
            json.dumps({"counts": counts, "skipped": skipped, "failures": failures}, indent=1),
            "utf-8",
        )


if __name__ == "__main__":
    main()
