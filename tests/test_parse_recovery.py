"""Feeds that are read in spite of what is wrong with them, and say what was lost.

Three kinds of damage: RSS elements in a namespace nobody expected (read as
RSS), encoding labels that name Python codecs rather than character encodings
(ignored), and one broken item in a feed that is otherwise sound (only that
item is lost; the document is read item by item). Every fixture is built here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from tidings.parse import parse_feed
from tidings.parse.encoding import decode_html

SRC = Path(__file__).resolve().parents[1] / "src"

#: Wall-clock bound for one parse of a hostile document.
SECONDS = 5.0
#: Pushes a document past the size that is parsed whole, onto the incremental parser.
PAD = "<!--" + "p" * (9 << 20) + "-->"


def timed_parse(data: bytes, **kwargs: str):  # type: ignore[no-untyped-def]
    start = time.monotonic()
    feed = parse_feed(data, **kwargs)
    elapsed = time.monotonic() - start
    assert elapsed < SECONDS, f"parse took {elapsed:.2f}s"
    return feed


# ---------------------------------------------------------------------------
# 1. RSS in a default namespace tidings does not know


def suspilne(namespace: str, count: int = 20, pad: str = "") -> bytes:
    """An RSS 2.0 feed shaped like Suspilne's, with its default namespace declared on <rss>."""
    items = "".join(
        f"<item><title>Новина {i}</title><link>/news/{i}</link><guid>news-{i}</guid>"
        f"<pubDate>Tue, 07 Nov 2023 10:0{i % 10}:00 +0200</pubDate>"
        f"<description>текст <b>{i}</b></description>"
        f'<enclosure url="/img/{i}.jpg" type="image/jpeg"/>'
        f"<dc:creator>Редакція</dc:creator></item>"
        for i in range(count)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<rss xmlns="{namespace}" xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0">'
        "<channel><title>Суспільне Новини</title><link>https://suspilne.example/</link>"
        f"<language>uk</language>{pad}{items}<copyright>© Суспільне</copyright></channel></rss>"
    ).encode("utf-8")


@pytest.mark.parametrize(
    "namespace",
    ["https://cyber.harvard.edu/rss/rss.html", "http://backend.userland.com/rss2", "urn:x-made-up:rss"],
)
@pytest.mark.parametrize("size", ["whole", "large"])
def test_rss_in_an_unknown_default_namespace_is_read_as_rss(namespace: str, size: str) -> None:
    data = suspilne(namespace, pad=PAD if size == "large" else "")
    feed = timed_parse(data, url="https://suspilne.example/rss/all.rss")
    assert (feed.version, feed.title, feed.language) == ("rss20", "Суспільне Новини", "uk")
    assert feed.link == "https://suspilne.example/"
    assert len(feed.entries) == 20
    assert (feed.item_elements, feed.skipped_items) == (20, 0)
    third = feed.entries[3]
    assert (third.title, third.id, third.author) == ("Новина 3", "news-3", "Редакція")
    assert third.link == "https://suspilne.example/news/3"
    assert third.published is not None and third.published.isoformat() == "2023-11-07T08:03:00+00:00"
    assert third.enclosures[0].url == "https://suspilne.example/img/3.jpg"
    assert third.summary is not None and third.summary.startswith("текст <b")
    if "userland" not in namespace:
        # Markup read from the document does not claim the adopted namespace back.
        assert namespace not in third.summary
    assert feed.recovered is False


def test_an_unknown_namespace_read_as_rss_is_said() -> None:
    feed = parse_feed(suspilne("https://cyber.harvard.edu/rss/rss.html", count=2))
    assert len(feed.entries) == 2
    assert any("https://cyber.harvard.edu/rss/rss.html" in problem for problem in feed.problems)


def test_items_that_cannot_be_read_as_entries_are_a_problem_not_an_empty_feed() -> None:
    """A document that parses, has item elements and yields no entry says so."""
    data = (
        b'<rss version="2.0"><channel><title>Wrapped</title><items>'
        b"<item><title>one</title></item><item><title>two</title></item>"
        b"</items></channel></rss>"
    )
    feed = parse_feed(data)
    assert feed.entries == ()
    assert (feed.item_elements, feed.skipped_items) == (2, 2)
    assert any("2 item elements" in problem and "none was read" in problem for problem in feed.problems)


def test_a_well_formed_feed_reports_its_items_and_no_problem() -> None:
    feed = parse_feed(suspilne("", count=5).replace(b' xmlns=""', b""))
    assert (len(feed.entries), feed.item_elements, feed.skipped_items) == (5, 5, 0)
    assert feed.problems == () and feed.recovered is False


def test_json_feed_items_that_are_not_objects_are_counted_as_skipped() -> None:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "items": [{"id": "1", "title": "one"}, "not an item", {"id": "2", "title": "two"}, 7],
    }
    feed = parse_feed(json.dumps(document).encode())
    assert [e.title for e in feed.entries] == ["one", "two"]
    assert (feed.item_elements, feed.skipped_items) == (4, 2)


# ---------------------------------------------------------------------------
# 2. Python's codecs are not feed encodings

_NOT_ENCODINGS = [
    "unicode_escape", "raw_unicode_escape", "rot13", "hex", "base64", "zlib", "uu", "punycode",
    "idna", "utf-7", "cp500", "hz-gb-2312", "x-user-defined",
]


def escaped_title_feed(label: str | None) -> bytes:
    declaration = f' encoding="{label}"' if label else ""
    return (
        f'<?xml version="1.0"{declaration}?><rss version="2.0"><channel><title>Feed</title>'
        r"<item><title>\u4e2d\u6587 C:\path\.</title></item></channel></rss>"
    ).encode("ascii")


@pytest.mark.parametrize("label", _NOT_ENCODINGS)
@pytest.mark.parametrize("where", ["XML declaration", "HTTP charset"])
def test_a_python_codec_named_as_the_encoding_is_ignored(label: str, where: str) -> None:
    if where == "XML declaration":
        data, content_type = escaped_title_feed(label), None
    else:
        data, content_type = escaped_title_feed(None), f"application/rss+xml; charset={label}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the unicode_escape codec warns on "\." and "\p"
        feed = parse_feed(data, content_type=content_type)
    assert [e.title for e in feed.entries] == [r"\u4e2d\u6587 C:\path\."]
    assert feed.encoding == "utf-8"
    assert feed.recovered is True
    assert any(label in problem and where in problem for problem in feed.problems), feed.problems


def test_an_ignored_http_charset_falls_back_to_the_xml_declaration() -> None:
    data = (
        '<?xml version="1.0" encoding="gbk"?><rss version="2.0"><channel><title>频道</title>'
        "<item><title>加沙停火</title></item></channel></rss>"
    ).encode("gbk")
    feed = parse_feed(data, content_type="text/xml; charset=unicode_escape")
    assert feed.title == "频道" and [e.title for e in feed.entries] == ["加沙停火"]
    assert feed.encoding == "gb18030"
    assert any("unicode_escape" in problem for problem in feed.problems)


@pytest.mark.parametrize("label", ["unicode_escape", "punycode", "utf-7"])
def test_a_python_codec_in_a_meta_charset_is_ignored(label: str) -> None:
    page = f'<html><head><meta charset="{label}"></head><body>\\u4e2d 中</body></html>'.encode("utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        decoded = decode_html(page)
    assert "\\u4e2d 中" in decoded.text
    assert decoded.encoding == "utf-8"
    assert any(label in problem for problem in decoded.problems)


@pytest.mark.parametrize(
    ("label", "codec", "text"),
    [
        ("x-cp1251", "cp1251", "Новини дня"),
        ("ks_c_5601-1987", "cp949", "오늘의 뉴스"),
        ("windows-31j", "cp932", "今日のニュース①"),
        ("x-mac-cyrillic", "mac-cyrillic", "Новости"),
        ("iso-8859-8-i", "iso8859-8", "חדשות"),
        ("koi8-ru", "koi8-u", "Новини"),
        ("csgb2312", "gb18030", "加沙停火"),
        ("x-x-big5", "big5hkscs", "加薩停火"),
    ],
)
def test_whatwg_labels_are_read_as_the_encoding_they_name(label: str, codec: str, text: str) -> None:
    data = (
        f'<?xml version="1.0" encoding="{label}"?><rss version="2.0"><channel><title>x</title>'
        f"<item><title>{text}</title></item></channel></rss>"
    ).encode(codec)
    feed = parse_feed(data)
    assert [e.title for e in feed.entries] == [text], feed.problems
    assert feed.problems == ()


# ---------------------------------------------------------------------------
# 3. One broken item costs only itself

_FORMATS = ["rss20", "atom10", "rss10"]


def feed_with(kind: str, broken: dict[int, str], count: int = 11) -> bytes:
    """A feed of ``count`` items in the format ``kind``; item i's title markup is broken[i]."""

    def title(i: int) -> str:
        return broken.get(i, f"<title>Story {i}</title>")

    if kind == "rss20":
        items = "".join(
            f"<item>{title(i)}<link>https://news.example/{i}</link><guid>g{i}</guid>"
            f"<dc:creator>Desk</dc:creator><description>Body {i} &amp; more</description></item>\n"
            for i in range(count)
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Wire</title>'
            f"<link>https://news.example/</link>\n{items}</channel></rss>\n"
        ).encode("utf-8")
    if kind == "atom10":
        entries = "".join(
            f"<entry>{title(i)}<link href='/{i}'/><id>urn:story:{i}</id>"
            f"<updated>2023-11-07T10:00:00Z</updated><summary>Body {i} &amp; more</summary></entry>\n"
            for i in range(count)
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
            'xml:base="https://news.example/"><title>Wire</title><id>urn:wire</id>'
            f"<updated>2023-11-07T10:00:00Z</updated>\n{entries}</feed>\n"
        ).encode("utf-8")
    items = "".join(
        f'<item rdf:about="https://news.example/{i}">{title(i)}<link>https://news.example/{i}</link>'
        f"<dc:creator>Desk</dc:creator><description>Body {i} &amp; more</description></item>\n"
        for i in range(count)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel rdf:about="https://news.example/">'
        "<title>Wire</title><link>https://news.example/</link></channel>\n"
        f"{items}</rdf:RDF>\n"
    ).encode("utf-8")


def check_story(entry, i: int, kind: str) -> None:  # type: ignore[no-untyped-def]
    assert entry.title == f"Story {i}"
    assert entry.link == f"https://news.example/{i}"
    assert entry.summary == (f"Body {i} &amp; more" if kind == "atom10" else f"Body {i} & more")
    if kind == "atom10":
        assert entry.id == f"urn:story:{i}"
    else:
        assert entry.author == "Desk"


@pytest.mark.parametrize("kind", _FORMATS)
def test_a_bare_less_than_in_one_title_costs_nothing(kind: str) -> None:
    feed = timed_parse(feed_with(kind, {1: "<title>Profits < expectations</title>"}))
    assert len(feed.entries) == 11, feed.problems
    assert feed.entries[1].title == "Profits < expectations"
    for i in (0, 2, 10):
        check_story(feed.entries[i], i, kind)
    assert (feed.item_elements, feed.skipped_items) == (11, 0)
    assert feed.recovered is True
    assert feed.title == "Wire"


_UNREADABLE = {
    "deep": "<title>deep</title><category>" + "<a>" * 100_000 + "</a>" * 100_000 + "</category>",
    "huge-title": "<title>" + "x" * (10 << 20) + "</title>",
}


@pytest.mark.parametrize("kind", _FORMATS)
@pytest.mark.parametrize("damage", list(_UNREADABLE))
def test_an_unreadable_item_is_skipped_and_counted_and_the_rest_are_read(kind: str, damage: str) -> None:
    feed = timed_parse(feed_with(kind, {1: _UNREADABLE[damage]}))
    assert [e.title for e in feed.entries] == [f"Story {i}" for i in range(11) if i != 1]
    for entry, i in zip(feed.entries, [0, *range(2, 11)]):
        check_story(entry, i, kind)
    assert (feed.item_elements, feed.skipped_items) == (11, 1)
    noun = "entries" if kind == "atom10" else "items"
    assert f"1 of 11 {noun} could not be read and were skipped" in feed.problems
    assert feed.recovered is True
    assert feed.title == "Wire"


@pytest.mark.parametrize("kind", _FORMATS)
def test_items_with_mismatched_tags_are_read_by_recovery_and_said_so(kind: str) -> None:
    feed = timed_parse(feed_with(kind, {2: "<title>Story 2</titel>", 7: "<title>Story 7"}))
    assert len(feed.entries) == 11
    for i in (0, 1, 3, 6, 8, 10):
        check_story(feed.entries[i], i, kind)
    assert feed.entries[2].title == "Story 2"
    noun = "entries" if kind == "atom10" else "items"
    assert f"2 of 11 {noun} were read by error recovery and may be incomplete" in feed.problems


def test_a_broken_feed_cut_off_keeps_every_complete_item() -> None:
    data = feed_with("rss20", {1: "<title>Profits < expectations</titel>"})
    cut = data.index(b"<item><title>Story 9")
    feed = timed_parse(data[: cut + 30])
    assert [e.title for e in feed.entries][2:] == [f"Story {i}" for i in range(2, 9)]
    assert (feed.item_elements, feed.skipped_items) == (10, 1)
    assert "1 of 10 items could not be read and were skipped" in feed.problems
    assert any("cut off" in problem for problem in feed.problems)


@pytest.mark.parametrize(
    "body",
    [
        b"<item>" * 1_000_000,
        b"<item><![CDATA[" * 300_000,
        b"<item><!--" * 300_000,
        b"<item><title>a</titel></item>" * 200_000,
    ],
    ids=["million-open-items", "unterminated-cdata", "unterminated-comments", "many-broken-items"],
)
def test_reading_item_by_item_is_bounded(body: bytes) -> None:
    data = b'<rss version="2.0"><channel><title>x &</title>' + body + b"</channel></rss>"
    feed = timed_parse(data)
    assert feed.item_elements > 0
    assert len(feed.entries) <= 10_000
    assert feed.skipped_items == feed.item_elements - len(feed.entries)


_MEMORY = r"""
import json, resource, sys, time
from tidings.parse import parse_feed
damage = sys.argv[1]
story = b"<item><title>Story %d</title><link>https://news.example/%d</link></item>\n"
bad = {
    "deep": b"<item><title>deep</title><category>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</category></item>",
    "huge-title": b"<item><title>" + b"x" * (10 << 20) + b"</title></item>",
}[damage]
data = (b'<rss version="2.0"><channel><title>Wire</title>' + story % (0, 0) + bad
        + b"".join(story % (i, i) for i in range(2, 11)) + b"</channel></rss>")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
feed = parse_feed(data)
print(json.dumps({"seconds": time.monotonic() - start, "entries": len(feed.entries),
                  "input_kib": len(data) // 1024,
                  "grown_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before}))
"""


@pytest.mark.parametrize("damage", ["deep", "huge-title"])
def test_an_unreadable_item_costs_bounded_memory(damage: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY, damage],
        env=dict(os.environ, PYTHONPATH=str(SRC)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["entries"] == 10, result
    assert result["seconds"] < SECONDS, result
    # A few copies of the input (decoded, repaired, one chunk), never a tree of it.
    assert int(result["grown_kib"]) < 8 * int(result["input_kib"]) + 32 * 1024, result
