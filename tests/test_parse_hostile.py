"""Hostile input for :func:`tidings.parse.parse_feed`.

The contract under test: whatever bytes arrive, ``parse_feed`` returns a
:class:`ParsedFeed` or raises :class:`FeedParseError` (``NotAFeedError`` is a
subclass), quickly, without touching the file system or the network, and
without blowing up memory. Every fixture is built here, in the test.
"""

from __future__ import annotations

import dataclasses
import faulthandler
import gzip
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tidings.errors import FeedParseError, NotAFeedError
from tidings.model import Enclosure, ParsedEntry, ParsedFeed
from tidings.parse import parse_feed

SRC = Path(__file__).resolve().parents[1] / "src"

#: Wall-clock bound for one parse of a small fuzzed document.
PARSE_SECONDS = 5.0
#: Wall-clock bound for one parse of an entity-expansion attack.
BOMB_SECONDS = 2.0

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ---------------------------------------------------------------------------
# Helpers


@pytest.fixture(autouse=True)
def watchdog() -> Iterator[None]:
    """A hang inside libxml2 cannot be interrupted from Python: dump stacks and exit instead."""
    faulthandler.dump_traceback_later(180, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def _check_value(where: str, value: object) -> None:
    """Every value in a parse result is None, bool, int, a plain str, an aware UTC datetime,
    or a tuple / model dataclass made of those."""
    if value is None or type(value) in (bool, int):
        return
    assert not isinstance(value, (bytes, bytearray, memoryview)), f"{where} is bytes: {value!r:.80}"
    if isinstance(value, datetime):
        assert value.tzinfo is not None, f"{where} is a naive datetime: {value!r}"
        assert value.utcoffset() == timedelta(0), f"{where} is not UTC: {value!r}"
    elif isinstance(value, str):
        assert type(value) is str, f"{where} is a {type(value).__name__}, not a plain str"
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            _check_value(f"{where}[{index}]", item)
    elif dataclasses.is_dataclass(value) and isinstance(value, (ParsedEntry, Enclosure)):
        for f in dataclasses.fields(value):
            _check_value(f"{where}.{f.name}", getattr(value, f.name))
    else:
        raise AssertionError(f"{where} has unexpected type {type(value).__name__}: {value!r:.80}")


_ENTRY_STR_FIELDS = ("id", "link", "title", "author", "summary", "content", "language", "base")
_FEED_STR_FIELDS = ("id", "title", "link", "subtitle", "language", "author", "image")


def check_feed(feed: object) -> None:
    """The shape a ParsedFeed must have, whatever the input was."""
    assert type(feed) is ParsedFeed, f"parse_feed returned {type(feed).__name__}"
    assert type(feed.version) is str and feed.version
    assert type(feed.encoding) is str and feed.encoding
    assert type(feed.recovered) is bool
    assert isinstance(feed.entries, tuple)
    for name in _FEED_STR_FIELDS:
        value = getattr(feed, name)
        assert value is None or type(value) is str, f"feed.{name} = {value!r:.80}"
    for i, entry in enumerate(feed.entries):
        assert type(entry) is ParsedEntry, f"entries[{i}] is {type(entry).__name__}"
        for name in _ENTRY_STR_FIELDS:
            value = getattr(entry, name)
            assert value is None or type(value) is str, f"entries[{i}].{name} = {value!r:.80}"
        for name in ("published", "updated"):
            value = getattr(entry, name)
            assert value is None or isinstance(value, datetime), f"entries[{i}].{name} = {value!r}"
    for f in dataclasses.fields(feed):
        _check_value(f"feed.{f.name}", getattr(feed, f.name))
    repr(feed)  # must not raise


def parse_bounded(data: bytes, seconds: float = PARSE_SECONDS, **kwargs: object) -> ParsedFeed | None:
    """Parse; FeedParseError gives None; anything else escapes and fails the test."""
    start = time.monotonic()
    try:
        feed = parse_feed(data, **kwargs)  # type: ignore[arg-type]
    except FeedParseError:
        feed = None
    elapsed = time.monotonic() - start
    assert elapsed < seconds, f"parse took {elapsed:.2f}s (limit {seconds}s) on {data[:120]!r}"
    if feed is not None:
        check_feed(feed)
    return feed


def fuzz_parse(data: bytes, **kwargs: object) -> ParsedFeed | None:
    """parse_bounded, recording the outcome in Hypothesis' statistics."""
    feed = parse_bounded(data, **kwargs)
    event("parsed" if feed is not None else "FeedParseError")
    return feed


def run_python(code: str, *args: str, timeout: float = 150) -> dict[str, object]:
    """Run code in a fresh interpreter on the repo's sources; it prints one JSON line last."""
    env = dict(os.environ, PYTHONPATH=str(SRC))
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"subprocess failed ({done.returncode}):\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------
# Seed documents


RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/"
     xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
  <title>Harbour Gazette</title>
  <link>https://gazette.example/</link>
  <description>News &amp; views</description>
  <language>en-gb</language>
  <lastBuildDate>Tue, 07 Nov 2023 10:00:00 GMT</lastBuildDate>
  <ttl>30</ttl>
  <atom:link rel="self" href="https://gazette.example/feed.xml"/>
  <item>
    <title>Night ferry returns</title>
    <link>/night-ferry</link>
    <guid isPermaLink="false">gazette-1</guid>
    <pubDate>Tue, 07 Nov 2023 09:55:00 +0100</pubDate>
    <dc:creator>Ana Pereira</dc:creator>
    <category>Transport</category>
    <description><![CDATA[<p>The <b>night</b> ferry returns on Monday.</p>]]></description>
    <content:encoded><![CDATA[<p>Full story &amp; photos.</p><img src="/ferry.jpg">]]></content:encoded>
    <enclosure url="https://gazette.example/ferry.mp3" type="audio/mpeg" length="1234"/>
    <media:content url="https://gazette.example/ferry.jpg" medium="image" fileSize="99"/>
  </item>
  <item>
    <title>Harbour fees &amp; dues rise</title>
    <link>https://gazette.example/fees</link>
    <pubDate>Mon, 06 Nov 2023 18:30:00 PST</pubDate>
    <description>Fees rise 5%.</description>
  </item>
  <item>
    <title>\xe6\xb8\xaf\xe5\x8f\xa3\xe6\x96\xb0\xe9\x97\xbb</title>
    <link>https://gazette.example/zh</link>
    <dc:date>2023-11-05T08:00:00+08:00</dc:date>
    <description>\xe4\xb8\xad\xe6\x96\x87\xe5\x86\x85\xe5\xae\xb9</description>
  </item>
</channel>
</rss>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en" xml:base="https://atom.example/">
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <title type="text">Atom &amp; Eve</title>
  <updated>2023-11-07T10:00:00Z</updated>
  <author><name>Eve</name></author>
  <link rel="alternate" href="/"/>
  <entry>
    <id>tag:atom.example,2023:1</id>
    <title type="html">First &lt;em&gt;post&lt;/em&gt;</title>
    <link rel="alternate" href="posts/1"/>
    <published>2023-11-06T12:00:00+02:00</published>
    <updated>2023-11-07T09:00:00Z</updated>
    <summary>Short</summary>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hello <b>world</b></p></div></content>
    <category term="news"/>
    <link rel="enclosure" href="/a.mp3" type="audio/mpeg" length="10"/>
  </entry>
  <entry xml:base="https://other.example/dir/">
    <id>tag:atom.example,2023:2</id>
    <title>Second</title>
    <link href="two"/>
    <updated>2023-11-08</updated>
    <content type="html">&lt;p&gt;Two&lt;/p&gt;</content>
  </entry>
</feed>
"""

JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON &amp; friends",
        "home_page_url": "https://json.example/",
        "feed_url": "https://json.example/feed.json",
        "language": "en",
        "authors": [{"name": "Jay"}],
        "items": [
            {
                "id": "1",
                "url": "/one",
                "title": "One",
                "content_html": "<p>One</p>",
                "date_published": "2023-11-06T12:00:00+02:00",
                "tags": ["a", "b"],
                "attachments": [{"url": "/x.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 5}],
            },
            {
                "id": 2,
                "url": "https://json.example/two",
                "title": "\u4e8c",
                "content_text": "Two <plain>",
                "date_modified": "2023-11-07T01:02:03Z",
            },
        ],
    },
    ensure_ascii=False,
).encode("utf-8")

SEEDS = {"rss": RSS, "atom": ATOM, "json": JSON_FEED, "rss.gz": gzip.compress(RSS, mtime=0)}


def test_seed_documents_parse_cleanly() -> None:
    """The fuzzing seeds are real feeds, so mutations start from the interesting paths."""
    rss = parse_bounded(RSS)
    assert rss is not None and rss.version == "rss20" and not rss.recovered
    assert [e.title for e in rss.entries] == ["Night ferry returns", "Harbour fees & dues rise", "港口新闻"]
    assert rss.entries[0].published is not None and rss.entries[0].published.hour == 8
    atom = parse_bounded(ATOM)
    assert atom is not None and atom.version == "atom10" and not atom.recovered
    assert [e.title for e in atom.entries] == ["First post", "Second"]
    assert atom.entries[1].link == "https://other.example/dir/two"
    feed = parse_bounded(JSON_FEED)
    assert feed is not None and feed.version == "json11"
    assert [e.title for e in feed.entries] == ["One", "二"]
    assert parse_bounded(SEEDS["rss.gz"]) == rss


# ---------------------------------------------------------------------------
# 1. Fuzzing

_CONTENT_TYPES = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "application/rss+xml",
            "application/atom+xml; charset=utf-8",
            "text/xml",
            "text/html; charset=gbk",
            "application/json",
            "text/plain; charset=x-bogus",
            "application/xml; charset=utf-16",
            "text/xml; charset=rot13",
            "; charset=",
        ]
    ),
    st.text(max_size=40),
)
_URLS = st.one_of(
    st.none(),
    st.sampled_from(
        ["https://example.com/feed", "http://[::1", "http://exa mple.com/\x00/", "not a url", ""]
    ),
)
_LANGUAGES = st.one_of(st.none(), st.text(max_size=20))

_PREFIXES = [
    b"",
    b"<?xml version='1.0'?>",
    b'<?xml version="1.0" encoding="gb2312"?><rss version="2.0"><channel>',
    b"<rss version='2.0'><channel><item><title>",
    b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>',
    b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>",
    b'{"version": "https://jsonfeed.org/version/1", "items": [',
    b"<!DOCTYPE html><html><head><title>",
    b"\x1f\x8b\x08\x00",
    b"x\x9c",
    b"\xef\xbb\xbf",
    b"\xff\xfe<\x00?\x00",
    b"\x00\x00\x00<",
]


@FUZZ
@given(
    data=st.one_of(
        st.binary(max_size=2048),
        st.builds(lambda p, b: p + b, st.sampled_from(_PREFIXES), st.binary(max_size=1024)),
        st.binary(max_size=1024).map(lambda b: gzip.compress(b, mtime=0)),
    ),
    content_type=_CONTENT_TYPES,
    url=_URLS,
    content_language=_LANGUAGES,
)
def test_fuzz_arbitrary_bytes(data: bytes, content_type, url, content_language) -> None:
    fuzz_parse(data, content_type=content_type, url=url, content_language=content_language)


_TOKENS = [b"<", b"&", b"]]>", b"<![CDATA[", b"\x00", b"\xff", b"&nbsp;", b"<!--", b"</item>",
           b"\xe4\xb8", b'"', b"{", b"\\u", b"&#0;", b"&#x110000;", b"<!DOCTYPE x [", b"\x1f\x8b"]

_OPERATION = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 1 << 16), st.integers(0, 7)),
    st.tuples(st.just("truncate"), st.integers(0, 1 << 16)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 16), st.sampled_from(_TOKENS)),
    st.tuples(st.just("delete"), st.integers(0, 1 << 16), st.integers(1, 64)),
)


def mutate(data: bytes, operations: list[tuple]) -> bytes:
    buffer = bytearray(data)
    for operation in operations:
        kind, position = operation[0], operation[1] % (len(buffer) + 1)
        if kind == "flip" and position < len(buffer):
            buffer[position] ^= 1 << operation[2]
        elif kind == "truncate":
            del buffer[position:]
        elif kind == "insert":
            buffer[position:position] = operation[2]
        elif kind == "delete":
            del buffer[position : position + operation[2]]
    return bytes(buffer)


@FUZZ
@given(
    seed=st.sampled_from(sorted(SEEDS)),
    operations=st.lists(_OPERATION, min_size=1, max_size=8),
    content_type=st.one_of(st.none(), st.sampled_from(["application/xml", "text/xml; charset=gbk"])),
)
def test_fuzz_mutated_feeds(seed: str, operations, content_type) -> None:
    data = mutate(SEEDS[seed], operations)
    first = fuzz_parse(data, content_type=content_type, url="https://base.example/feed")
    # The same bytes must give the same answer (no state leaks between parses).
    again = parse_bounded(data, content_type=content_type, url="https://base.example/feed")
    assert first == again


_CODECS = ["utf-8", "utf-16", "gb18030", "big5", "latin-1"]
_DECLARED = [
    "utf-8", "UTF-8", "utf8", "utf-16", "UTF-16LE", "utf-16be", "utf-32", "gb2312", "GBK",
    "gb18030", "big5", "Big5-HKSCS", "iso-8859-1", "latin1", "us-ascii", "windows-1252",
    "shift_jis", "euc-jp", "koi8-r", "iso-2022-jp", "utf-7", "cp500", "x-bogus-charset",
    "utf-9", "12345", "rot13", "hex", "undefined", "idna", "unicode_escape", "punycode",
]


@FUZZ
@given(
    text=st.text(max_size=120),
    codec=st.sampled_from(_CODECS),
    declared=st.one_of(st.none(), st.sampled_from(_DECLARED)),
    http_charset=st.one_of(st.none(), st.sampled_from(_DECLARED)),
    whole=st.booleans(),
)
def test_fuzz_encodings(text: str, codec: str, declared, http_charset, whole: bool) -> None:
    declaration = f'<?xml version="1.0" encoding="{declared}"?>' if declared else '<?xml version="1.0"?>'
    head = f'{declaration}\n<rss version="2.0"><channel><title>Enc</title><item><title>'
    tail = "</title><description>d</description></item></channel></rss>\n"
    if whole:
        data = (head + text + tail).encode(codec, "xmlcharrefreplace")
    else:
        data = head.encode() + text.encode(codec, "xmlcharrefreplace") + tail.encode()
    content_type = f"application/rss+xml; charset={http_charset}" if http_charset else None
    fuzz_parse(data, content_type=content_type)


#: The codec tidings reads a label with (as browsers do): Big5 is read as Big5-HKSCS, whose
#: C6A1-C8FE block differs from Python's big5 (kana, Cyrillic); Latin-1 as windows-1252.
_READ_AS = {"big5": "big5hkscs", "latin-1": "windows-1252"}


def _encodable(text: str, codec: str) -> str:
    """The characters of text that the codec writes and the codec tidings uses reads back."""
    kept = []
    for ch in text:
        try:
            if ch.encode(codec).decode(_READ_AS.get(codec, codec)) != ch:
                continue
        except UnicodeError:
            continue
        kept.append(ch)
    return "".join(kept)


_TITLE_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E, blacklist_characters="<>&"),
        st.characters(min_codepoint=0xA0, max_codepoint=0xFF),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn"), blacklist_characters="<>&\ufffe\uffff"),
    ),
    max_size=60,
)
_LABELS = {
    "utf-8": ["utf-8", "UTF-8"],
    "utf-16": ["utf-16", "UTF-16"],
    "gb18030": ["gb18030", "GB18030"],
    "big5": ["big5", "Big5"],
    "latin-1": ["iso-8859-1", "ISO-8859-1", "latin1"],
}


@FUZZ
@given(text=_TITLE_TEXT, codec=st.sampled_from(_CODECS), data=st.data())
def test_correctly_labelled_titles_round_trip(text: str, codec: str, data) -> None:
    """With a truthful label, a plain-text title comes back as it was written."""
    text = _encodable(text, codec)
    label = data.draw(st.sampled_from(_LABELS[codec]))
    document = (
        f'<?xml version="1.0" encoding="{label}"?>\n<rss version="2.0"><channel><title>Enc</title>'
        f"<item><title>{text}</title></item></channel></rss>\n"
    ).encode(codec)
    if codec == "latin-1" and not document.isascii():
        # A feed labelled Latin-1 whose bytes are valid UTF-8 is read as UTF-8 on purpose.
        try:
            document.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return
    feed = parse_bounded(document)
    assert feed is not None, f"{codec} feed labelled {label} was rejected"
    assert [e.title for e in feed.entries] == [text.strip()], (codec, label, feed.encoding, feed.problems)


# ---------------------------------------------------------------------------
# 2. Security

_PAD = b"<!--" + b"p" * (9 << 20) + b"-->"  # pushes a document past the 8 MB whole-parse limit


def _variants(prologue: bytes, body: bytes) -> dict[str, bytes]:
    """A document three ways: well-formed and small, broken (repair path), and large (push parser)."""
    return {
        "whole": prologue + b'<rss version="2.0"><channel>' + body + b"</channel></rss>",
        "broken": prologue + b'<rss version="2.0"><channel><copyright>A & B</copyright>' + body
        + b"<item><title>x &nbsp; y</title></item></channel></rss>",
        "large": prologue + b'<rss version="2.0"><channel>' + _PAD + body + b"</channel></rss>",
    }


@pytest.mark.parametrize("path", ["whole", "broken", "large"])
def test_xxe_file_entity_is_not_read(tmp_path: Path, path: str) -> None:
    secret = "S3CRET-" + os.urandom(8).hex()
    target = tmp_path / "secret.txt"
    target.write_text(secret)
    (tmp_path / "evil.dtd").write_text(f'<!ENTITY dtdleak "{secret}">')
    prologue = (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n'
        f'  <!ENTITY xxe SYSTEM "file://{target}">\n'
        f'  <!ENTITY rel SYSTEM "secret.txt">\n'
        f'  <!ENTITY bare SYSTEM "{target}">\n'
        f'  <!ENTITY % ext SYSTEM "file://{tmp_path / "evil.dtd"}"> %ext;\n'
        f"]>\n"
    ).encode()
    body = (
        b"<title>Feed &xxe; title</title><description>&rel; &bare;</description>"
        b"<item><title>t &xxe; &dtdleak;</title><description>d &xxe; &rel;</description>"
        b"<author>&bare;</author><content:encoded xmlns:content="
        b'"http://purl.org/rss/1.0/modules/content/">c &xxe;</content:encoded></item>'
    )
    data = _variants(prologue, body)[path]
    feed = parse_bounded(data, url=f"file://{tmp_path}/feed.xml")
    assert feed is not None, "the feed around the entity should still be read"
    assert len(feed.entries) >= 1 and feed.entries[0].title is not None
    assert feed.entries[0].title.startswith("t")
    assert secret not in repr(feed)


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []
    secret = "NETLEAK-" + os.urandom(6).hex()

    def _answer(self) -> None:
        type(self).requests.append(f"{self.command} {self.path}")
        body = (
            f'<!ENTITY % inner "<!ENTITY leak \'{self.secret}\'>"> %inner;'
            f'<!ENTITY dtdent "{self.secret}">'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml-dtd")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_HEAD = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[str]]]:
    _Recorder.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.parametrize("path", ["whole", "broken", "large"])
def test_no_network_for_external_dtd_entities_or_includes(http_server, path: str) -> None:
    base, requests = http_server
    import urllib.request

    # The recorder works: a real request is seen.
    with urllib.request.urlopen(f"{base}/probe", timeout=5) as answer:
        assert _Recorder.secret in answer.read().decode()
    assert requests == ["GET /probe"]
    requests.clear()

    documents = {
        "external DTD": (
            f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{base}/rss.dtd">'.encode(),
            b"<title>&dtdent;</title><item><title>t &leak;</title></item>",
        ),
        "public DTD": (
            f'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//X//DTD RSS//EN" "{base}/pub.dtd">'.encode(),
            b"<item><title>t &dtdent;</title></item>",
        ),
        "parameter entity": (
            f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % remote SYSTEM "{base}/pe.dtd"> %remote;]>'.encode(),
            b"<title>&leak;</title><item><title>t &dtdent;</title></item>",
        ),
        "general entity": (
            f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY net SYSTEM "{base}/ent.txt">]>'.encode(),
            b"<title>&net;</title><item><title>t &net;</title><description>&net;</description></item>",
        ),
        "xinclude and stylesheet": (
            f'<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="{base}/style.xsl"?>'.encode(),
            f'<item xmlns:xi="http://www.w3.org/2001/XInclude"><title>t</title><description>'
            f'<xi:include href="{base}/xi.txt" parse="text"/></description>'
            f'<xsi:x xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:schemaLocation="urn:x {base}/x.xsd"/></item>'.encode(),
        ),
    }
    for name, (prologue, body) in documents.items():
        data = _variants(prologue, body)[path]
        feed = parse_bounded(data, url=f"{base}/feed.xml")
        if feed is not None:
            assert _Recorder.secret not in repr(feed), name
    time.sleep(0.2)  # let any request in flight arrive
    assert requests == [], f"the parser made network requests: {requests}"


def _laughs(levels: int = 10, width: int = 10) -> bytes:
    entities = [b'<!ENTITY lol0 "lol">']
    for level in range(1, levels + 1):
        entities.append(b'<!ENTITY lol%d "%s">' % (level, (b"&lol%d;" % (level - 1)) * width))
    return b'<?xml version="1.0"?>\n<!DOCTYPE rss [' + b"".join(entities) + b"]>\n"


def _parameter_laughs(levels: int = 10, width: int = 10) -> bytes:
    entities = [b'<!ENTITY % pe0 "lol">']
    for level in range(1, levels + 1):
        entities.append(b'<!ENTITY %% pe%d "%s">' % (level, (b"%%pe%d;" % (level - 1)) * width))
    entities.append(b'<!ENTITY % final "<!ENTITY lolp \'%pe10;\'>"> %final;')
    return b'<?xml version="1.0"?>\n<!DOCTYPE rss [' + b"".join(entities) + b"]>\n"


_BOMB_BODY = (
    b"<title>&lol10;</title><description>&lol9;</description>"
    b'<item><title>&lol10;</title><description>&lol10;</description><enclosure url="&lol8;"/></item>'
    b"<item><title>after</title></item>"
)


@pytest.mark.parametrize("path", ["whole", "broken", "large"])
@pytest.mark.parametrize("kind", ["general", "parameter"])
def test_billion_laughs_is_bounded(path: str, kind: str) -> None:
    prologue = _laughs() if kind == "general" else _parameter_laughs()
    body = _BOMB_BODY if kind == "general" else _BOMB_BODY.replace(b"&lol10;", b"&lolp;")
    data = _variants(prologue, body)[path]
    feed = parse_bounded(data, seconds=BOMB_SECONDS)
    if feed is not None:
        size = len(repr(feed))
        assert size < 100_000, f"the result holds {size} characters: entities were expanded"


@pytest.mark.parametrize("path", ["whole", "broken", "large"])
def test_quadratic_blowup_is_bounded(path: str) -> None:
    prologue = b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY big "' + b"B" * 100_000 + b'">]>\n'
    body = (
        b"<item><title>q</title><description>" + b"&big;" * 10_000 + b"</description></item>"
        b"<item><title>after</title></item>"
    )
    data = _variants(prologue, body)[path]
    feed = parse_bounded(data, seconds=BOMB_SECONDS)
    if feed is not None:
        size = len(repr(feed))
        assert size < 100_000, f"the result holds {size} characters: entities were expanded"


# ---------------------------------------------------------------------------
# 3. Broken but recoverable


def test_html_entities_bare_ampersand_and_control_characters_are_repaired() -> None:
    data = (
        b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        b"<title>Caf&eacute; &amp; Bar</title>"
        b"<item><title>a&nbsp;b</title><description>one&nbsp;&copy;</description></item>"
        b"<item><title>&copy; 2023 Gazette</title></item>"
        b"<item><title>AT&T & Q&A</title><description>x & y</description></item>"
        b"<item><title>tab\x0bbed</title><description>ctl\x01\x1fchars</description></item>"
        b"<item><title>cdata</title><description><![CDATA[kept &nbsp; & raw]]></description></item>"
        b"</channel></rss>"
    )
    feed = parse_bounded(data)
    assert feed is not None
    assert feed.recovered is True
    assert feed.title == "Café & Bar"
    assert [e.title for e in feed.entries] == ["a\xa0b", "© 2023 Gazette", "AT&T & Q&A", "tabbed", "cdata"]
    assert feed.entries[0].summary == "one\xa0©"
    assert feed.entries[2].summary == "x & y"
    assert feed.entries[3].summary == "ctlchars"
    # The repairs leave CDATA sections alone.
    assert feed.entries[4].summary == "kept &nbsp; & raw"


_TRUNCATED = (
    '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>频道 Channel</title>\n'
    "<item><title>第一条 first</title><description>内容一</description></item>\n"
    "<item><title>第二条 second</title><description><![CDATA[<p>内容二</p>]]></description></item>\n"
    "<item><title>第三条新闻标题 third</title><description><![CDATA[<p>内容三很长很长</p>]]></description>"
    '<enclosure url="https://x.example/3.mp3" type="audio/mpeg"/></item>\n'
    "</channel></rss>\n"
).encode("utf-8")
_THIRD = _TRUNCATED.index(b"<item><title>\xe7\xac\xac\xe4\xb8\x89")
_THIRD_END = _TRUNCATED.index(b"</item>", _THIRD)


def _spread(cuts: list[int], count: int) -> list[int]:
    step = max(1, len(cuts) // count)
    return cuts[::step][:count]


# Cut points inside the third item that fall between characters...
_BOUNDARY_CUTS = _spread(
    [c for c in range(_THIRD + 1, _THIRD_END + 7) if (_TRUNCATED[c] & 0xC0) != 0x80], 10
)
# ...and inside a multi-byte UTF-8 character (a download cut short does not care).
_MID_CHARACTER_CUTS = _spread(
    [c for c in range(_THIRD + 1, _THIRD_END) if (_TRUNCATED[c] & 0xC0) == 0x80], 6
)


@pytest.mark.parametrize("cut", _BOUNDARY_CUTS)
def test_feed_cut_off_in_third_item_keeps_two_items(cut: int) -> None:
    """A download cut short keeps the complete items."""
    feed = parse_bounded(_TRUNCATED[:cut])
    assert feed is not None
    assert feed.recovered is True
    assert [e.title for e in feed.entries] == ["第一条 first", "第二条 second"]
    assert feed.title == "频道 Channel"


@pytest.mark.parametrize("cut", _MID_CHARACTER_CUTS)
def test_feed_cut_off_inside_a_utf8_character_keeps_two_items_undamaged(cut: int) -> None:
    """Truncation inside a multi-byte character must not make the whole feed mojibake."""
    feed = parse_bounded(_TRUNCATED[:cut])
    assert feed is not None
    assert [e.title for e in feed.entries] == ["第一条 first", "第二条 second"], (
        feed.encoding,
        feed.problems,
    )
    assert feed.title == "频道 Channel"
    assert feed.entries[1].summary == "<p>内容二</p>"


@pytest.mark.parametrize(
    "page",
    [
        b"<!DOCTYPE html><html><head><title>Login</title><meta charset=utf-8></head><body><form></form></body></html>",
        b"\xef\xbb\xbf\n  <!-- served by nginx --><!doctype HTML>\n<html lang=en><head><title>Login</title>",
        b"<html>\n<head>\n<title>Login</title>\n</head><body>Please sign in<br></body></html>",
        b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml">'
        b"<head><title>Login</title></head><body><p>Sign in</p></body></html>",
    ],
    ids=["doctype", "bom-comment-doctype", "no-doctype", "xhtml-with-xml-declaration"],
)
def test_html_page_is_not_a_feed_and_says_so(page: bytes) -> None:
    with pytest.raises(NotAFeedError) as caught:
        parse_feed(page, content_type="text/html; charset=utf-8")
    message = str(caught.value)
    assert "HTML" in message
    assert "Login" in message


@pytest.mark.parametrize(
    "data",
    [b"", b" ", b"\n\t\r  \n", b"\xef\xbb\xbf", b"\xef\xbb\xbf \r\n", b"\xff\xfe \x00\n\x00",
     gzip.compress(b"", mtime=0), gzip.compress(b"   \n", mtime=0)],
    ids=["empty", "space", "whitespace", "bom", "bom-whitespace", "utf16-whitespace", "gzip-empty", "gzip-blank"],
)
def test_empty_or_blank_input_raises_feed_parse_error(data: bytes) -> None:
    start = time.monotonic()
    with pytest.raises(FeedParseError):
        parse_feed(data)
    assert time.monotonic() - start < PARSE_SECONDS


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": 1}',
        b"{}",
        b"[]",
        b"[1, 2, 3]",
        b'  \n{"items": {"not": "a list"}, "title": "x"}',
        b'\xef\xbb\xbf{"data": [{"title": "t"}], "meta": {}}',
        b'[{"version": "https://jsonfeed.org/version/1", "items": []}]',
    ],
)
def test_json_that_is_not_a_json_feed_is_not_a_feed(data: bytes) -> None:
    with pytest.raises(NotAFeedError):
        parse_feed(data, content_type="application/json")


@pytest.mark.parametrize("data", [b"null", b"42", b'"a string"', b"true"])
def test_json_scalar_document_is_not_a_feed(data: bytes) -> None:
    """A JSON document that is a bare scalar is readable JSON, just not a feed."""
    with pytest.raises(NotAFeedError):
        parse_feed(data, content_type="application/json")


@pytest.mark.parametrize("odd", [5, True, 1.5, "text", {"url": "/x"}, [None, 3, "y"]])
def test_json_feed_item_with_malformed_attachments_keeps_every_item(odd: object) -> None:
    """One item's malformed field is that item's problem, not the whole feed's."""
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "items": [
            {"id": "1", "title": "good", "content_text": "a"},
            {"id": "2", "title": "odd", "attachments": odd, "tags": odd, "authors": odd},
        ],
    }
    feed = parse_bounded(json.dumps(document).encode())
    assert feed is not None, f"an item with attachments={odd!r} made the whole JSON Feed unreadable"
    assert [e.title for e in feed.entries] == ["good", "odd"]


def test_deeply_nested_documents_fail_cleanly() -> None:
    nested_json = b"[" * 200_000 + b"]" * 200_000
    start = time.monotonic()
    with pytest.raises(FeedParseError):
        parse_feed(nested_json)
    assert time.monotonic() - start < PARSE_SECONDS
    nested_xml = (
        b'<rss version="2.0"><channel><item><title>deep</title><description>'
        + b"<a>" * 100_000 + b"</a>" * 100_000
        + b"</description></item></channel></rss>"
    )
    feed = parse_bounded(nested_xml)
    if feed is not None:
        assert feed.recovered is True and feed.problems


@pytest.mark.parametrize("label", ["x-bogus", "rot13", "hex", "base64", "undefined", "punycode"])
def test_feed_with_a_label_that_is_no_character_encoding_is_read_as_utf8(label: str) -> None:
    """decode_feed "never raises": a label Python cannot decode text with counts as unknown."""
    data = (
        f'<?xml version="1.0" encoding="{label}"?><rss version="2.0"><channel><title>x</title>'
        "<item><title>hello 你好</title></item></channel></rss>"
    ).encode("utf-8")
    feed = parse_bounded(data)
    assert feed is not None, f"a UTF-8 feed labelled {label!r} was rejected"
    assert [e.title for e in feed.entries] == ["hello 你好"]


def test_compressed_feeds_parse_like_the_plain_bytes() -> None:
    plain = parse_feed(RSS)
    assert parse_feed(gzip.compress(RSS)) == plain
    assert parse_feed(zlib.compress(RSS)) == plain
    assert parse_feed(gzip.compress(ATOM, compresslevel=1)) == parse_feed(ATOM)
    assert parse_feed(gzip.compress(JSON_FEED)) == parse_feed(JSON_FEED)


def test_gzip_bomb_is_refused_quickly_in_bounded_memory() -> None:
    """300 MB of zeros in ~300 KB of gzip: refused within seconds, and the refusal must not
    cost more memory than holding the largest document parse_feed accepts (256 MB) would."""
    code = r"""
import json, resource, time, zlib
from tidings.errors import FeedParseError
import tidings.parse
from tidings.parse import parse_feed
MAX_DECOMPRESSED = getattr(tidings.parse, "MAX_DECOMPRESSED", 256 << 20)
packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
zeros = bytes(1 << 20)
bomb = b"".join([packer.compress(zeros) for _ in range(300)]) + packer.flush()
del zeros
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
try:
    parse_feed(bomb)
    outcome = "parsed"
except FeedParseError as exc:
    outcome = "FeedParseError: " + str(exc)
except BaseException as exc:
    outcome = type(exc).__name__ + ": " + str(exc)
seconds = time.monotonic() - start
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"size": len(bomb), "outcome": outcome, "seconds": seconds,
                  "grown_kib": grown, "cap": MAX_DECOMPRESSED}))
"""
    result = run_python(code)
    assert result["size"] < 1_000_000
    assert str(result["outcome"]).startswith("FeedParseError"), result
    assert result["seconds"] < 5, result
    limit_kib = (int(result["cap"]) + (48 << 20)) // 1024
    assert result["grown_kib"] < limit_kib, (
        f"refusing a {result['size']}-byte gzip bomb grew the process by "
        f"{int(result['grown_kib']) // 1024} MiB (limit {limit_kib // 1024} MiB)"
    )


# ---------------------------------------------------------------------------
# 4. Bounded memory on a large feed

_LARGE_FEED = r"""
import json, resource, sys, time
from tidings.parse import parse_feed

VARIANT = sys.argv[1]
N = 8000
# 16 distinct ~6 KB blocks of Chinese HTML, shared by reference so that building the
# document costs little more than the document itself.
blocks = []
for b in range(16):
    paragraphs = []
    for p in range(10):
        start = 0x4E00 + (b * 997 + p * 131) % 18000
        paragraphs.append("<p>" + "".join(chr(start + k) for k in range(195)) + "，。</p>")
    blocks.append("".join(paragraphs).encode("utf-8"))
head = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
    b'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
    b"<title>\xe5\xa4\xa7\xe6\x96\x87\xe4\xbb\xb6</title><link>https://big.example/</link><language>zh-cn</language>\n"
)
parts = [head]
for i in range(N):
    parts.append(
        b"<item><title>\xe7\xac\xac%d\xe6\x9d\xa1</title><link>https://big.example/%d</link>"
        b"<guid>https://big.example/%d</guid><pubDate>Tue, 07 Nov 2023 10:00:00 +0800</pubDate>"
        b"<content:encoded><![CDATA[" % (i, i, i)
    )
    parts.append(blocks[i % 16])
    parts.append(b"]]></content:encoded></item>\n")
if VARIANT == "bare-ampersand":
    parts.append(b"<copyright>A & B</copyright>")
parts.append(b"</channel></rss>\n")
data = b"".join(parts)
del parts
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
feed = parse_feed(data)
seconds = time.monotonic() - start
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
titles_ok = all(e.title == "第%d条" % i for i, e in enumerate(feed.entries))
content_ok = feed.entries[5].content == blocks[5].decode("utf-8") if len(feed.entries) > 5 else False
print(json.dumps({
    "input_kib": len(data) // 1024, "grown_kib": grown, "seconds": seconds,
    "entries": len(feed.entries), "titles_ok": titles_ok, "content_ok": content_ok,
    "recovered": feed.recovered, "published": feed.entries[0].published.isoformat(),
}))
"""


@pytest.mark.parametrize("variant", ["well-formed", "bare-ampersand"])
def test_large_feed_parses_in_bounded_memory(variant: str) -> None:
    result = run_python(_LARGE_FEED, variant)
    input_kib = int(result["input_kib"])
    assert 45_000 < input_kib < 60_000, result
    assert result["entries"] == 8000, result
    assert result["titles_ok"] and result["content_ok"], result
    assert result["published"] == "2023-11-07T02:00:00+00:00", result
    assert result["recovered"] is (variant != "well-formed"), result
    assert int(result["grown_kib"]) < 8 * input_kib, (
        f"parsing a {input_kib // 1024} MiB feed grew the process by "
        f"{int(result['grown_kib']) // 1024} MiB (limit 8x the input)"
    )
