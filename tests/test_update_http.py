"""Updates against a real HTTP server on 127.0.0.1: validators, identity, redirects,
Gone, Retry-After and back-off, timeouts, size bounds, broken connections, truncated
and wrong documents, compression, keep/block rules, the User-Agent, and file:// feeds.

The server is a ``ThreadingHTTPServer`` in a daemon thread (port 0). Each test
registers its own paths; a route is a function of the request handler, so it can
answer normally (``reply``) or write raw bytes, trickle, sleep or reset the
connection. Every wait is bounded by small :class:`tidings.fetch.Limits`.
"""

from __future__ import annotations

import gzip
import os
import socket
import struct
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import brotli
import pytest

import tidings
from tidings.fetch import Limits
from tidings.model import FeedOptions, FeedState
from tidings.rules import EMOJI
from tidings.update import UpdateSummary

from .conftest import FIXED_NOW

# Short timeouts everywhere: nothing in this file may wait long.
FAST = Limits(connect_timeout=2, read_timeout=1, total_timeout=3, max_bytes=2_000_000)


# --------------------------------------------------------------------------- the server


Route = Callable[["Handler"], None]


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


@dataclass
class Server:
    port: int = 0
    routes: dict[str, Route] = field(default_factory=dict)
    log: list[Seen] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    errors: list[BaseException] = field(default_factory=list)  # routes that raised (test bugs)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, fn: Route) -> str:
        self.routes[path] = fn
        return self.url(path)

    def requests(self, path: str) -> list[dict[str, str]]:
        return [s.headers for s in list(self.log) if s.path == path]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer  # type: ignore[assignment]

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        state = self.server.state
        path = urlsplit(self.path).path
        state.log.append(Seen(path, {k.lower(): v for k, v in self.headers.items()}))
        self.close_connection = True
        route = state.routes.get(path)
        try:
            if route is None:
                self.reply(404, b"no such route", content_type="text/plain")
            else:
                route(self)
        except OSError:
            pass  # the client went away (as it should after a refusal)
        except Exception as exc:  # a bug in the test's route: make it fail the test
            state.errors.append(exc)
            raise

    def reply(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        *,
        content_type: str | None = "application/rss+xml; charset=utf-8",
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if content_type and body:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if body:
            self.wfile.write(body)

    def raw(self, data: bytes) -> None:
        self.wfile.write(data)

    def reset(self) -> None:
        """Abort the connection with a TCP reset (SO_LINGER 0, then close)."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    state: Server

    def handle_error(self, request: object, client_address: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    httpd = _HTTPServer(("127.0.0.1", 0), Handler)
    state = Server(port=httpd.server_address[1])
    httpd.state = state
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _routes_did_not_raise(request: pytest.FixtureRequest) -> Iterator[None]:
    if "server" in request.fixturenames:
        # The server lives for the module; each test (once per store) counts its own requests.
        request.getfixturevalue("server").log.clear()
    yield
    if "server" in request.fixturenames:
        state = request.getfixturevalue("server")
        errors, state.errors[:] = list(state.errors), []
        assert errors == [], f"a route raised: {errors!r}"


# --------------------------------------------------------------------------- feeds and clocks


@dataclass(frozen=True)
class Item:
    title: str
    link: str
    html: str
    guid: str | None = None
    categories: tuple[str, ...] = ()


def rss(items: list[Item], *, title: str = "测试频道 Test Channel", extra: str = "") -> bytes:
    """A small RSS 2.0 document; descriptions are CDATA, kept byte for byte."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>https://news.example/</link>{extra}",
    ]
    for item in items:
        parts.append("\n<item>")
        parts.append(f"<title>{escape(item.title)}</title><link>{escape(item.link)}</link>")
        if item.guid is not None:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        for category in item.categories:
            parts.append(f"<category>{escape(category)}</category>")
        parts.append(f"<description><![CDATA[{item.html}]]></description>")
        parts.append("</item>")
    parts.append("\n</channel></rss>\n")
    return "".join(parts).encode("utf-8")


ODD_HTML = "  <p>七国外长会议\u3000闭幕。</p>\n\n\t<p>Ceasefire  talks\u00a0resume.</p>  \n"
ITEMS = [
    Item("七国外长会议一致主张加沙停火", "https://news.example/cn/g7", ODD_HTML, guid="g7"),
    Item("Night ferry returns", "https://news.example/en/ferry", "<p>The ferry is back.</p>", guid="ferry"),
    Item("英国宣布暂停引渡协议", "https://news.example/cn/uk", "<p>英国政府周一宣布……</p>", guid="uk"),
]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clocked(db: str | Path) -> Iterator[tuple[tidings.Archive, Clock]]:
    clock = Clock()
    with tidings.open_archive(db, clock=clock) as opened:
        yield opened, clock


def by_url(archive: tidings.Archive, site: str) -> dict[str, tidings.Article]:
    return {a.url: a for a in archive.articles(site)}


def serve_static(body: bytes, headers: dict[str, str] | None = None, **kw: str) -> Route:
    def route(h: Handler) -> None:
        h.reply(200, body, headers, **kw)

    return route


class Versioned:
    """A feed whose body and validators the test changes; answers 304 to matching validators."""

    def __init__(self, body: bytes, *, etag: str | None = None, last_modified: str | None = None) -> None:
        self.body = body
        self.etag = etag
        self.last_modified = last_modified

    def __call__(self, h: Handler) -> None:
        inm = h.headers.get("If-None-Match")
        ims = h.headers.get("If-Modified-Since")
        validators = {}
        if self.etag:
            validators["ETag"] = self.etag
        if self.last_modified:
            validators["Last-Modified"] = self.last_modified
        if (self.etag and inm == self.etag) or (not self.etag and self.last_modified and ims == self.last_modified):
            h.reply(304, b"", validators)
        else:
            h.reply(200, self.body, validators)


# --------------------------------------------------------------------------- 1, 2: validators


def test_etag_first_fetch_304_then_one_changed_item(server, clocked):
    archive, clock = clocked
    feed_route = Versioned(rss(ITEMS), etag='"v1"')
    url = server.route("/etag/feed.xml", feed_route)
    feed = archive.add_feed(url, site="测试", interval_minutes=30)
    t0 = clock.now

    first = archive.update(limits=FAST)
    assert (first.feeds, first.fetched, first.new_articles, first.failed) == (1, 1, 3, 0)
    articles = by_url(archive, "测试")
    assert set(articles) == {i.link for i in ITEMS}
    for item in ITEMS:
        revisions = archive.revisions(articles[item.link].id)
        assert len(revisions) == 1
        assert revisions[0].title == item.title
        assert revisions[0].content_html == item.html  # exactly as served, odd whitespace included
    stored = archive.get_feed(feed.id)
    assert stored.etag == '"v1"'
    assert stored.error_count == 0 and stored.error_kind is None
    assert stored.title == "测试频道 Test Channel"
    assert "if-none-match" not in server.requests("/etag/feed.xml")[0]

    t1 = clock.advance(hours=1)
    second = archive.update(due_only=False, limits=FAST)
    assert (second.fetched, second.not_modified, second.new_articles, second.changed_articles) == (0, 1, 0, 0)
    assert server.requests("/etag/feed.xml")[-1]["if-none-match"] == '"v1"'
    assert archive.stats().articles == 3 and archive.stats().revisions == 3
    log = archive.store.fetch_log(feed.id)
    assert [r.status for r in log] == [200, 304]
    assert log[-1].new_articles == 0 and log[-1].changed_articles == 0
    after_304 = archive.get_feed(feed.id)
    assert after_304.last_success == t1 and after_304.etag == '"v1"'

    edited = [ITEMS[0], Item(ITEMS[1].title + " (updated)", ITEMS[1].link, "<p>The ferry is back, on Monday.</p>", guid="ferry"), ITEMS[2]]
    feed_route.body = rss(edited)
    feed_route.etag = '"v2"'
    t2 = clock.advance(hours=1)
    third = archive.update(due_only=False, limits=FAST)
    assert (third.fetched, third.new_articles, third.changed_articles) == (1, 0, 1)
    assert server.requests("/etag/feed.xml")[-1]["if-none-match"] == '"v1"'
    assert archive.get_feed(feed.id).etag == '"v2"'
    articles = by_url(archive, "测试")
    assert len(articles) == 3
    ferry = archive.revisions(articles[ITEMS[1].link].id)
    assert [r.title for r in ferry] == ["Night ferry returns", "Night ferry returns (updated)"]
    assert ferry[0].content_html == "<p>The ferry is back.</p>"
    assert ferry[1].content_html == "<p>The ferry is back, on Monday.</p>"
    assert articles[ITEMS[1].link].last_seen == t2
    for item in (ITEMS[0], ITEMS[2]):
        article = articles[item.link]
        assert len(archive.revisions(article.id)) == 1
        assert article.first_seen == t0
        assert article.last_seen == t2  # an unchanged item only moves last_seen
    log = archive.store.fetch_log(feed.id)
    assert [(r.status, r.new_articles, r.changed_articles) for r in log] == [(200, 3, 0), (304, 0, 0), (200, 0, 1)]


def test_last_modified_if_modified_since(server, clocked):
    archive, clock = clocked
    lm1 = "Wed, 07 Jan 2026 08:00:00 GMT"
    feed_route = Versioned(rss(ITEMS[:2]), last_modified=lm1)
    url = server.route("/lm/feed.xml", feed_route)
    feed = archive.add_feed(url, site="LM")

    first = archive.update(limits=FAST)
    assert (first.fetched, first.new_articles) == (1, 2)
    stored = archive.get_feed(feed.id)
    assert stored.last_modified == lm1 and stored.etag is None

    clock.advance(hours=2)
    second = archive.update(due_only=False, limits=FAST)
    assert (second.not_modified, second.fetched, second.new_articles) == (1, 0, 0)
    request = server.requests("/lm/feed.xml")[-1]
    assert request["if-modified-since"] == lm1
    assert "if-none-match" not in request
    assert [r.status for r in archive.store.fetch_log(feed.id)] == [200, 304]

    lm2 = "Wed, 07 Jan 2026 10:00:00 GMT"
    feed_route.body = rss([Item(ITEMS[0].title, ITEMS[0].link, "<p>更正：会议延期。</p>", guid="g7"), ITEMS[1]])
    feed_route.last_modified = lm2
    t2 = clock.advance(hours=2)
    third = archive.update(due_only=False, limits=FAST)
    assert (third.fetched, third.new_articles, third.changed_articles) == (1, 0, 1)
    assert archive.get_feed(feed.id).last_modified == lm2
    articles = by_url(archive, "LM")
    g7 = archive.revisions(articles[ITEMS[0].link].id)
    assert [r.content_html for r in g7] == [ODD_HTML, "<p>更正：会议延期。</p>"]
    assert len(archive.revisions(articles[ITEMS[1].link].id)) == 1
    assert articles[ITEMS[1].link].last_seen == t2


# --------------------------------------------------------------------------- 3: identity


@pytest.mark.parametrize(
    "second_link",
    ["https://news.example/dw/a-123", "https://news.example/dw/a-123?utm_source=rss&utm_medium=feed#top"],
    ids=["same-link", "link-with-tracking-and-fragment"],
)
def test_guid_changing_with_title_same_link_is_a_new_revision(server, clocked, second_link):
    archive, clock = clocked
    link = "https://news.example/dw/a-123"
    first_doc = rss([Item("德国总理访华", link, "<p>第一版</p>", guid="德国总理访华-a-123")])
    feed_route = Versioned(first_doc, etag='"1"')
    path = f"/identity/{len(server.routes)}.xml"
    url = server.route(path, feed_route)
    archive.add_feed(url, site="德国之声")
    assert archive.update(limits=FAST).new_articles == 1

    feed_route.body = rss([Item("德国总理结束访华", second_link, "<p>第二版</p>", guid="德国总理结束访华-a-123")])
    feed_route.etag = '"2"'
    clock.advance(hours=1)
    summary = archive.update(due_only=False, limits=FAST)
    assert (summary.new_articles, summary.changed_articles) == (0, 1)
    articles = list(archive.articles("德国之声"))
    assert len(articles) == 1
    revisions = archive.revisions(articles[0].id)
    assert [r.title for r in revisions] == ["德国总理访华", "德国总理结束访华"]
    assert [r.content_html for r in revisions] == ["<p>第一版</p>", "<p>第二版</p>"]


# --------------------------------------------------------------------------- 4: redirects


def _redirect(status: int, location: str) -> Route:
    def route(h: Handler) -> None:
        h.reply(status, b"", {"Location": location})

    return route


@pytest.mark.parametrize(
    ("chain", "moves"),
    [
        ((301,), True),
        ((308,), True),
        ((301, 308), True),
        ((302,), False),
        ((307,), False),
        ((301, 302), False),
        ((307, 301), False),
    ],
)
def test_redirect_chain_moves_feed_only_when_all_permanent(server, archive, chain, moves):
    name = "-".join(map(str, chain))
    final = f"/redir/{name}/final.xml"
    server.route(final, serve_static(rss(ITEMS[:1])))
    hops = [f"/redir/{name}/hop{i}.xml" for i in range(len(chain))]
    for i, (status, hop) in enumerate(zip(chain, hops)):
        target = hops[i + 1] if i + 1 < len(hops) else final
        # alternate relative and absolute Location headers
        server.route(hop, _redirect(status, target if i % 2 == 0 else server.url(target)))
    feed = archive.add_feed(server.url(hops[0]), site=f"R{name}")

    summary = archive.update(limits=FAST)
    assert (summary.fetched, summary.new_articles, summary.failed) == (1, 1, 0)
    stored = archive.get_feed(feed.id)
    assert stored.url == (server.url(final) if moves else server.url(hops[0]))
    assert stored.error_kind is None

    before = len(server.requests(hops[0]))
    archive.update(due_only=False, limits=FAST)
    assert len(server.requests(hops[0])) == (before if moves else before + 1)
    assert len(list(archive.articles(f"R{name}"))) == 1


def test_redirect_loop_fails_with_kind_redirects(server, archive):
    server.route("/loop/a.xml", _redirect(301, "/loop/b.xml"))
    server.route("/loop/b.xml", _redirect(302, server.url("/loop/a.xml")))
    feed = archive.add_feed(server.url("/loop/a.xml"), site="Loop")
    started = time.monotonic()
    summary = archive.update(limits=FAST)
    assert time.monotonic() - started < 5
    assert summary.failed == 1
    stored = archive.get_feed(feed.id)
    assert stored.error_kind == "redirects"
    assert stored.url == server.url("/loop/a.xml")
    assert stored.state is FeedState.ACTIVE and stored.error_count == 1
    assert len(server.requests("/loop/a.xml")) + len(server.requests("/loop/b.xml")) == FAST.max_redirects + 1


@pytest.mark.parametrize(("hops", "ok"), [(FAST.max_redirects, True), (FAST.max_redirects + 1, False)])
def test_redirect_limit_boundary(server, archive, hops, ok):
    base = f"/chain{hops}"
    for i in range(hops):
        server.route(f"{base}/{i}.xml", _redirect(301, f"{base}/{i + 1}.xml"))
    server.route(f"{base}/{hops}.xml", serve_static(rss(ITEMS[:1])))
    feed = archive.add_feed(server.url(f"{base}/0.xml"), site=f"Chain{hops}")
    archive.update(limits=FAST)
    stored = archive.get_feed(feed.id)
    if ok:
        assert stored.error_kind is None
        assert stored.url == server.url(f"{base}/{hops}.xml")
    else:
        assert stored.error_kind == "redirects"
        assert stored.url == server.url(f"{base}/0.xml")


def test_redirect_to_a_local_file_is_not_followed(server, archive, tmp_path):
    secret = tmp_path / "secret.xml"
    secret.write_bytes(rss([Item("本地机密", "https://secret.example/1", "<p>secret</p>", guid="s")]))
    url = server.route("/redir/to-file.xml", _redirect(301, secret.as_uri()))
    feed = archive.add_feed(url, site="ToFile")
    summary = archive.update(limits=FAST)
    assert summary.failed == 1 and summary.new_articles == 0
    stored = archive.get_feed(feed.id)
    assert stored.error_kind == "url", stored.error_message
    assert stored.url == url
    assert list(archive.articles("ToFile")) == []


# --------------------------------------------------------------------------- 5: 410 Gone


def test_410_gone_is_kept_and_no_longer_fetched(server, clocked):
    archive, clock = clocked
    gone = archive.add_feed(server.route("/gone/feed.xml", lambda h: h.reply(410, b"gone", content_type="text/plain")), site="Gone")
    alive = archive.add_feed(server.route("/gone/alive.xml", serve_static(rss(ITEMS[:1]))), site="Alive", interval_minutes=5)

    summary = archive.update(limits=FAST)
    assert summary.failed == 1 and summary.fetched == 1
    outcome = {o.feed_id: o for o in summary.outcomes}[gone.id]
    assert outcome.status == "gone" and outcome.error_kind == "http_410"
    stored = archive.get_feed(gone.id)
    assert stored.state is FeedState.GONE
    assert stored.next_fetch is None
    assert stored.error_kind == "http_410"
    assert len(server.requests("/gone/feed.xml")) == 1

    for _ in range(3):
        clock.advance(days=2)
        later = archive.update(limits=FAST)  # due_only
        assert gone.id not in {o.feed_id for o in later.outcomes}
        assert alive.id in {o.feed_id for o in later.outcomes}
    archive.update(due_only=False, limits=FAST)
    assert len(server.requests("/gone/feed.xml")) == 1
    listed = {f.id: f for f in archive.feeds()}
    assert gone.id in listed and listed[gone.id].state is FeedState.GONE


# --------------------------------------------------------------------------- 6: Retry-After and back-off


def test_429_retry_after_seconds(server, archive):
    url = server.route("/rate/429.xml", lambda h: h.reply(429, b"slow down", {"Retry-After": "3600"}, content_type="text/plain"))
    feed = archive.add_feed(url, site="Rate")
    summary = archive.update(limits=FAST)
    assert summary.failed == 1
    stored = archive.get_feed(feed.id)
    assert stored.error_kind == "http_429"
    assert stored.last_status == 429
    assert stored.next_fetch >= FIXED_NOW + timedelta(seconds=3599)
    assert stored.next_fetch <= FIXED_NOW + timedelta(seconds=3601)
    assert stored.state is FeedState.ACTIVE
    assert archive.store.fetch_log(feed.id)[-1].error_kind == "http_429"


def test_503_retry_after_http_date(server, archive):
    when = formatdate(time.time() + 2 * 3600, usegmt=True)
    url = server.route("/rate/503.xml", lambda h: h.reply(503, b"busy", {"Retry-After": when}, content_type="text/plain"))
    feed = archive.add_feed(url, site="Busy")
    archive.update(limits=FAST)
    stored = archive.get_feed(feed.id)
    assert stored.error_kind == "http_503"
    assert stored.next_fetch >= FIXED_NOW + timedelta(hours=1, minutes=50)
    assert stored.next_fetch <= FIXED_NOW + timedelta(hours=2, minutes=1)


def test_retry_after_is_capped_at_a_week(server, archive):
    url = server.route("/rate/forever.xml", lambda h: h.reply(429, b"", {"Retry-After": "99999999"}))
    feed = archive.add_feed(url, site="Forever")
    archive.update(limits=FAST)
    stored = archive.get_feed(feed.id)
    assert stored.error_kind == "http_429"
    assert stored.next_fetch <= FIXED_NOW + timedelta(days=7, seconds=1)
    assert stored.next_fetch >= FIXED_NOW + timedelta(days=6, hours=23)


def test_500_backs_off_and_is_never_disabled(server, archive):
    url = server.route("/err/500.xml", lambda h: h.reply(500, b"oops", content_type="text/plain"))
    feed = archive.add_feed(url, site="Broken")
    previous = FIXED_NOW
    for failures in range(1, 31):
        summary = archive.update(feeds=[feed.id], limits=FAST)
        assert summary.failed == 1
        stored = archive.get_feed(feed.id)
        assert stored.error_kind == "http_500"
        assert stored.error_count == failures
        assert stored.state is FeedState.ACTIVE
        delay = stored.next_fetch - FIXED_NOW
        assert delay <= timedelta(hours=24) * 1.1
        if failures <= 9:  # 5 min doubling: 5, 10, 20, ... 1280 min, then the 24 h cap
            assert stored.next_fetch > previous
            expected = 300 * 2 ** (failures - 1)
            assert expected * 0.9 - 1 <= delay.total_seconds() <= expected * 1.1 + 1
        else:
            assert delay >= timedelta(hours=24) * 0.9
        previous = stored.next_fetch
    assert len(server.requests("/err/500.xml")) == 30
    assert len(archive.store.fetch_log(feed.id)) == 30
    assert feed.id in {f.id for f in archive.feeds()}
    assert archive.get_feed(feed.id).state is FeedState.ACTIVE


def test_success_after_failures_resets_error_count(server, archive):
    state = {"fail": True}

    def route(h: Handler) -> None:
        if state["fail"]:
            h.reply(500, b"oops", content_type="text/plain")
        else:
            h.reply(200, rss(ITEMS[:1]))

    feed = archive.add_feed(server.route("/err/recover.xml", route), site="Recover")
    archive.update(limits=FAST)
    archive.update(feeds=[feed.id], limits=FAST)
    assert archive.get_feed(feed.id).error_count == 2
    state["fail"] = False
    archive.update(feeds=[feed.id], limits=FAST)
    stored = archive.get_feed(feed.id)
    assert (stored.error_count, stored.error_kind, stored.error_message) == (0, None, None)
    assert stored.last_success == FIXED_NOW


# --------------------------------------------------------------------------- 7: timeouts


def test_server_silent_longer_than_read_timeout(server, archive):
    def route(h: Handler) -> None:
        server.stop.wait(10)  # says nothing for (up to) 10 s

    feed = archive.add_feed(server.route("/slow/silent.xml", route), site="Silent")
    started = time.monotonic()
    summary = archive.update(limits=FAST)
    elapsed = time.monotonic() - started
    assert summary.failed == 1
    assert archive.get_feed(feed.id).error_kind == "timeout"
    assert elapsed < FAST.read_timeout + 2


def test_server_trickling_slower_than_total_timeout(server, archive):
    body = rss(ITEMS)

    def route(h: Handler) -> None:
        h.raw(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        )
        for i in range(len(body)):  # one byte every 0.2 s: never idle for read_timeout
            if server.stop.wait(0.2):
                return
            h.raw(body[i : i + 1])

    feed = archive.add_feed(server.route("/slow/trickle.xml", route), site="Trickle")
    started = time.monotonic()
    summary = archive.update(limits=FAST)
    elapsed = time.monotonic() - started
    assert summary.failed == 1
    stored = archive.get_feed(feed.id)
    assert stored.error_kind == "timeout"
    assert FAST.total_timeout - 0.5 <= elapsed < FAST.total_timeout + 2
    assert list(archive.articles("Trickle")) == []


def test_slow_headers_trickle_also_times_out(server, archive):
    def route(h: Handler) -> None:
        h.raw(b"HTTP/1.1 200 OK\r\n")
        for _ in range(100):
            if server.stop.wait(0.2):
                return
            h.raw(b"X-Pad: 1\r\n")

    feed = archive.add_feed(server.route("/slow/headers.xml", route), site="SlowHeaders")
    started = time.monotonic()
    archive.update(limits=FAST)
    assert time.monotonic() - started < FAST.total_timeout + 2
    assert archive.get_feed(feed.id).error_kind == "timeout"


# --------------------------------------------------------------------------- 8: size bounds

_CHUNK = b" " * 65536
_BOMB: list[bytes] = []


def gzip_bomb() -> bytes:
    """200 MB of zeros, gzip-compressed once per session (about 200 KB)."""
    if not _BOMB:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        zeros = bytes(1 << 20)
        parts = [compressor.compress(zeros) for _ in range(200)]
        parts.append(compressor.flush())
        _BOMB.append(b"".join(parts))
    return _BOMB[0]


def traced_update(archive: tidings.Archive, limits: Limits) -> tuple[UpdateSummary, float, float]:
    """An update pass, its wall time and the peak of Python memory allocated during it (MB)."""
    tracemalloc.start()
    try:
        started = time.monotonic()
        summary = archive.update(limits=limits)
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    return summary, elapsed, peak


@pytest.mark.parametrize("limits", [FAST, Limits(read_timeout=2, total_timeout=20)], ids=["2MB", "default-64MB"])
def test_gzip_bomb_is_refused(server, archive, limits):
    bomb = gzip_bomb()
    assert len(bomb) < 1_000_000
    url = server.route(
        f"/big/bomb-{limits.max_bytes}.xml",
        serve_static(bomb, {"Content-Encoding": "gzip"}),
    )
    feed = archive.add_feed(url, site="Bomb")
    summary, elapsed, peak = traced_update(archive, limits)
    assert summary.failed == 1
    stored = archive.get_feed(feed.id)
    assert stored.error_kind == "too_large", stored.error_message
    assert elapsed < 10
    # Never much more than the limit in memory, never the 200 MB.
    assert peak < limits.max_bytes / 2**20 * 2 + 20


def test_gzip_file_served_without_content_encoding_is_bounded_by_max_bytes(server, archive):
    """A body that is itself a gzip file (served as the feed, no Content-Encoding) is inflated
    by the parser. That must respect the body limit too (README: "the body bounded at 64 MB
    after decompression"; here Limits.max_bytes is 2 MB) instead of inflating 20 MB."""
    inflated = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>' + b" " * (20 * 2**20)
    body = gzip.compress(inflated, compresslevel=6)
    assert len(body) < FAST.max_bytes / 20
    url = server.route("/big/bomb-bare.xml", serve_static(body))
    feed = archive.add_feed(url, site="BareBomb")
    summary, elapsed, peak = traced_update(archive, FAST)
    stored = archive.get_feed(feed.id)
    assert elapsed < 10
    assert (summary.failed, stored.error_kind) == (1, "too_large"), (
        f"{summary.outcomes[0].status}, {stored.error_kind}: {stored.error_message}; peak {peak:.0f} MB"
    )


def test_body_of_control_bytes_does_not_balloon_memory(server, archive):
    """1.5 MB of NUL bytes, well within the limit: handling it must not take a hundred times that."""
    body = bytes(1_500_000)
    url = server.route("/big/nul.xml", serve_static(body))
    feed = archive.add_feed(url, site="Nul")
    summary, elapsed, peak = traced_update(archive, FAST)
    assert summary.failed == 1
    assert archive.get_feed(feed.id).error_kind in ("parse", "not_a_feed")
    assert elapsed < 10
    assert peak < 10 * len(body) / 2**20 + 10, f"{peak:.0f} MB allocated for a {len(body)} byte body"


def _stream_identity(total: int, *, declare: bool, stop: threading.Event) -> Route:
    def route(h: Handler) -> None:
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n"
        if declare:
            head += f"Content-Length: {total}\r\n"
        h.raw((head + "\r\n").encode())
        h.raw(b'<?xml version="1.0"?><rss version="2.0"><channel>')
        sent = 0
        while sent < total and not stop.is_set():
            h.raw(_CHUNK)
            sent += len(_CHUNK)

    return route


@pytest.mark.parametrize(
    ("declare", "limits"),
    [
        (True, FAST),
        (False, FAST),
        (False, Limits(read_timeout=2, total_timeout=20)),
    ],
    ids=["declared-2MB", "undeclared-2MB", "undeclared-default-64MB"],
)
def test_100mb_identity_body_is_refused(server, archive, declare, limits):
    url = server.route(f"/big/plain-{declare}-{limits.max_bytes}.xml", _stream_identity(100 * 2**20, declare=declare, stop=server.stop))
    feed = archive.add_feed(url, site="Huge")
    summary, elapsed, peak = traced_update(archive, limits)
    assert summary.failed == 1
    stored = archive.get_feed(feed.id)
    assert stored.error_kind == "too_large"
    assert f"over {limits.max_bytes}" in stored.error_message
    assert elapsed < 10
    assert peak < limits.max_bytes / 2**20 * 2 + 20


# --------------------------------------------------------------------------- 9, 10: broken and truncated bodies


@pytest.mark.parametrize("how", ["close", "reset"])
def test_connection_lost_mid_body_is_incomplete_and_keeps_no_etag(server, archive, how):
    body = rss(ITEMS)
    calls = {"n": 0}

    def route(h: Handler) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            h.raw(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\n"
                + f'ETag: "cut"\r\nContent-Length: {len(body) + 5000}\r\nConnection: close\r\n\r\n'.encode()
            )
            h.raw(body)
            if how == "reset":
                time.sleep(0.05)
                h.reset()
        else:
            h.reply(200, body, {"ETag": '"whole"'})

    path = f"/cut/{how}.xml"
    feed = archive.add_feed(server.route(path, route), site=f"Cut-{how}")
    summary = archive.update(limits=FAST)
    assert summary.failed == 1
    stored = archive.get_feed(feed.id)
    assert stored.error_kind == "incomplete", stored.error_message
    assert stored.etag is None and stored.last_modified is None
    assert list(archive.articles(f"Cut-{how}")) == []

    again = archive.update(due_only=False, limits=FAST)
    assert again.new_articles == 3
    assert "if-none-match" not in server.requests(path)[-1]
    assert archive.get_feed(feed.id).etag == '"whole"'


def test_chunked_body_cut_short_is_incomplete(server, archive):
    body = rss(ITEMS)

    def route(h: Handler) -> None:
        h.raw(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: \"chunked\"\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        half = body[: len(body) // 2]
        h.raw(f"{len(half):x}\r\n".encode() + half + b"\r\n")  # ... and no last chunk

    feed = archive.add_feed(server.route("/cut/chunked.xml", route), site="CutChunked")
    archive.update(limits=FAST)
    stored = archive.get_feed(feed.id)
    assert stored.error_kind == "incomplete", stored.error_message
    assert stored.etag is None


@pytest.mark.parametrize("status", [503, 410])
def test_error_status_is_kept_when_its_body_is_cut(server, archive, status):
    """The status line and headers arrived whole; losing the (unused) error body must not
    turn a 503 with Retry-After, or a 410, into an "incomplete" failure."""

    def route(h: Handler) -> None:
        h.raw(
            f"HTTP/1.1 {status} Whatever\r\nRetry-After: 3600\r\nContent-Type: text/html\r\n"
            "Content-Length: 5000\r\nConnection: close\r\n\r\n<html>".encode()
        )
        # ... and the connection closes with 4994 bytes missing

    feed = archive.add_feed(server.route(f"/cut/status-{status}.xml", route), site=f"CutStatus{status}")
    archive.update(limits=FAST)
    stored = archive.get_feed(feed.id)
    assert stored.error_kind == f"http_{status}", stored.error_message
    if status == 503:
        assert stored.next_fetch >= FIXED_NOW + timedelta(seconds=3599)
    else:
        assert stored.state is FeedState.GONE


def test_connection_refused_is_connect(archive):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    feed = archive.add_feed(f"http://127.0.0.1:{port}/feed.xml", site="Refused")
    started = time.monotonic()
    archive.update(limits=FAST)
    assert time.monotonic() - started < 5
    stored = archive.get_feed(feed.id)
    assert stored.error_kind == "connect", stored.error_message
    assert stored.state is FeedState.ACTIVE


def test_empty_body_fails_and_keeps_no_validators(server, archive):
    url = server.route("/wrong/empty.xml", lambda h: h.reply(200, b"", {"ETag": '"empty"'}))
    feed = archive.add_feed(url, site="Empty")
    archive.update(limits=FAST)
    stored = archive.get_feed(feed.id)
    assert stored.error_kind == "parse"
    assert stored.etag is None


def test_gb2312_labelled_feed_over_http(server, archive):
    title = "香港立法会通过《维护国家安全条例》"
    doc = (
        '<?xml version="1.0" encoding="gb2312"?><rss version="2.0"><channel><title>法广</title>'
        f"<item><title>{title}</title><link>https://www.rfi.fr/cn/hk</link>"
        "<description><![CDATA[<p>“二十三条”立法 ·  完成</p>]]></description></item></channel></rss>"
    ).encode("gb18030")
    url = server.route("/enc/gbk.xml", serve_static(doc, content_type="text/xml; charset=gb2312"))
    archive.add_feed(url, site="法广")
    assert archive.update(limits=FAST).new_articles == 1
    (article,) = archive.articles("法广")
    (revision,) = archive.revisions(article.id)
    assert revision.title == title
    assert revision.content_html == "<p>“二十三条”立法 ·  完成</p>"


def test_truncated_but_parseable_body_keeps_complete_items_and_no_validators(server, archive):
    whole = rss(ITEMS)
    cut = whole[: whole.index(b"\n<item>", whole.index(b"\n<item>", whole.index(b"\n<item>") + 1) + 1)]
    assert cut.count(b"</item>") == 2
    feed_route = Versioned(cut, etag='"truncated"', last_modified="Wed, 07 Jan 2026 08:00:00 GMT")
    url = server.route("/cut/parseable.xml", feed_route)
    feed = archive.add_feed(url, site="Truncated")

    summary = archive.update(limits=FAST)
    assert (summary.fetched, summary.new_articles, summary.failed) == (1, 2, 0)
    assert set(by_url(archive, "Truncated")) == {ITEMS[0].link, ITEMS[1].link}
    stored = archive.get_feed(feed.id)
    assert stored.etag is None
    assert stored.last_modified is None
    assert archive.store.fetch_log(feed.id)[-1].error_kind == "recovered"

    feed_route.body = whole
    feed_route.etag = '"whole"'
    again = archive.update(due_only=False, limits=FAST)
    request = server.requests("/cut/parseable.xml")[-1]
    assert "if-none-match" not in request and "if-modified-since" not in request
    assert again.new_articles == 1
    assert archive.get_feed(feed.id).etag == '"whole"'


# --------------------------------------------------------------------------- 11, 12: wrong documents, isolation

HTML_PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>新闻首页</title></head>"
    "<body><h1>欢迎</h1></body></html>"
).encode()


def test_html_instead_of_feed_is_not_a_feed(server, archive):
    url = server.route("/wrong/page.html", serve_static(HTML_PAGE, content_type="text/html; charset=utf-8"))
    feed = archive.add_feed(url, site="Page")
    summary = archive.update(limits=FAST)
    assert summary.failed == 1
    stored = archive.get_feed(feed.id)
    assert stored.error_kind == "not_a_feed"
    assert "HTML" in stored.error_message
    assert stored.error_count == 1 and stored.state is FeedState.ACTIVE
    assert stored.etag is None


def _redirect_to(location: str) -> Route:
    def route(h: Handler) -> None:
        h.reply(302, b"", {"Location": location})

    return route


@pytest.mark.parametrize("broken", ["500", "html", "idna-redirect", "port-redirect"])
def test_one_broken_feed_among_three_good_ones(server, archive, broken):
    good = []
    for n in range(3):
        items = [
            Item(f"第{n}号频道 新闻{k}", f"https://good{n}.example/{k}", f"<p>正文 {n}-{k}</p>", guid=f"{n}-{k}")
            for k in range(4)
        ]
        url = server.route(f"/mixed-{broken}/good{n}.xml", serve_static(rss(items, title=f"Good {n}")))
        good.append(archive.add_feed(url, site=f"Good{n}-{broken}"))
    if broken == "500":
        bad_route = lambda h: h.reply(500, b"boom", content_type="text/plain")  # noqa: E731
    elif broken == "idna-redirect":
        bad_route = _redirect_to("http://xn--/")  # a host name the IDNA codec refuses
    elif broken == "port-redirect":
        bad_route = _redirect_to("http://127.0.0.1:70000/")
    else:
        bad_route = serve_static(HTML_PAGE, content_type="text/html")
    bad = archive.add_feed(server.route(f"/mixed-{broken}/bad.xml", bad_route), site=f"Bad-{broken}")

    summary = archive.update(limits=FAST)
    assert (summary.feeds, summary.fetched, summary.failed, summary.new_articles) == (4, 3, 1, 12)
    for feed in good:
        stored = archive.get_feed(feed.id)
        assert stored.error_kind is None and stored.error_count == 0
        assert len(list(archive.articles(feed.site))) == 4
    stored = archive.get_feed(bad.id)
    assert stored.error_kind == {"500": "http_500", "html": "not_a_feed"}.get(broken, "url")
    assert stored.error_count == 1 and stored.error_message
    failed = [o for o in summary.outcomes if o.status == "failed"]
    assert [o.feed_id for o in failed] == [bad.id]


# --------------------------------------------------------------------------- 13: compression


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", _raw_deflate),
        ("br", brotli.compress),
        ("identity", lambda b: b),
    ],
    ids=["gzip", "x-gzip", "deflate-zlib", "deflate-raw", "br", "identity"],
)
def test_compressed_feeds_are_decoded(server, archive, encoding, compress):
    body = rss(ITEMS)
    path = f"/enc/{encoding}-{len(server.routes)}.xml"
    url = server.route(path, serve_static(compress(body), {"Content-Encoding": encoding}))
    feed = archive.add_feed(url, site=f"Enc{len(server.routes)}")
    summary = archive.update(limits=FAST)
    assert (summary.fetched, summary.new_articles, summary.failed) == (1, 3, 0), summary.outcomes
    articles = by_url(archive, feed.site)
    assert archive.revisions(articles[ITEMS[0].link].id)[0].content_html == ODD_HTML
    assert "br" in server.requests(path)[0]["accept-encoding"]


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("deflate", _raw_deflate), ("br", brotli.compress)],
    ids=["gzip", "deflate-zlib", "deflate-raw", "br"],
)
def test_compressed_body_arriving_byte_by_byte(server, archive, encoding, compress):
    """The body reaches the client in tiny pieces (one byte first): decoding must not depend on chunking."""
    data = compress(rss(ITEMS))

    def route(h: Handler) -> None:
        h.raw(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
            + f"Content-Encoding: {encoding}\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
        )
        time.sleep(0.05)
        for piece in (data[:1], data[1:2], data[2:]):
            h.raw(piece)
            time.sleep(0.05)

    path = f"/enc/trickle-{len(server.routes)}.xml"
    feed = archive.add_feed(server.route(path, route), site=f"Tiny{len(server.routes)}")
    summary = archive.update(limits=FAST)
    stored = archive.get_feed(feed.id)
    assert stored.error_kind is None, stored.error_message
    assert summary.new_articles == 3


def test_corrupt_gzip_is_a_decoding_error(server, archive):
    data = gzip.compress(rss(ITEMS))
    broken = data[:10] + bytes(b ^ 0x5A for b in data[10:40]) + data[40:]
    url = server.route("/enc/corrupt.xml", serve_static(broken, {"Content-Encoding": "gzip"}))
    feed = archive.add_feed(url, site="Corrupt")
    archive.update(limits=FAST)
    assert archive.get_feed(feed.id).error_kind == "decoding"


# --------------------------------------------------------------------------- 14: keep/block rules


def test_keep_category_emoji_rule(server, archive):
    items = [
        Item("【网络民议】大家怎么看", "https://cdt.example/1", "<p>一</p>", guid="1", categories=("🔥热点", "网络民议")),
        Item("普通新闻", "https://cdt.example/2", "<p>二</p>", guid="2", categories=("新闻",)),
        Item("No categories at all", "https://cdt.example/3", "<p>三</p>", guid="3"),
        Item("Sun and moon", "https://cdt.example/4", "<p>四</p>", guid="4", categories=("daily", "☀ weather")),
    ]
    url = server.route("/rules/cdt.xml", serve_static(rss(items)))
    feed = archive.add_feed(url, site="中国数字时代", options=FeedOptions(keep_category=EMOJI))
    summary = archive.update(limits=FAST)
    assert summary.new_articles == 2
    assert set(by_url(archive, "中国数字时代")) == {"https://cdt.example/1", "https://cdt.example/4"}
    assert archive.get_feed(feed.id).options.keep_category == EMOJI


def test_block_title_rule(server, archive):
    items = [
        Item("【广告】限时优惠", "https://b.example/ad", "<p>买</p>", guid="ad"),
        Item("Sponsored: a word from our partner", "https://b.example/sp", "<p>buy</p>", guid="sp"),
        Item("台风登陆", "https://b.example/news", "<p>台风</p>", guid="news"),
    ]
    url = server.route("/rules/block.xml", serve_static(rss(items)))
    archive.add_feed(url, site="Blocked", options=FeedOptions(block_title="广告|sponsored"))
    summary = archive.update(limits=FAST)
    assert summary.new_articles == 1
    assert set(by_url(archive, "Blocked")) == {"https://b.example/news"}


# --------------------------------------------------------------------------- 15: request headers


def test_user_agent_and_accept_headers(server, archive):
    url = server.route("/ua/feed.xml", serve_static(rss(ITEMS[:1])))
    archive.add_feed(url, site="UA")
    archive.update(limits=FAST)
    headers = server.requests("/ua/feed.xml")[0]
    assert headers["user-agent"].startswith(f"tidings/{tidings.__version__}")
    assert "rss+xml" in headers["accept"]
    assert {e.strip() for e in headers["accept-encoding"].split(",")} >= {"gzip", "deflate", "br"}


def test_cache_control_max_age_only_postpones(server, archive):
    url = server.route("/cache/feed.xml", serve_static(rss(ITEMS[:1]), {"Cache-Control": "max-age=10800"}))
    feed = archive.add_feed(url, site="Cached", interval_minutes=20)
    archive.update(limits=FAST)
    stored = archive.get_feed(feed.id)
    assert stored.next_fetch >= FIXED_NOW + timedelta(hours=3)
    assert stored.next_fetch <= FIXED_NOW + timedelta(hours=3, seconds=1)


# --------------------------------------------------------------------------- 16: file:// feeds


def test_file_feed_not_modified_until_changed(tmp_path, clocked):
    archive, clock = clocked
    path = tmp_path / "feeds" / "local.xml"
    path.parent.mkdir()
    path.write_bytes(rss(ITEMS[:2]))
    feed = archive.add_feed(path.as_uri(), site="本地")
    assert feed.url == path.resolve().as_uri()

    first = archive.update(limits=FAST)
    assert (first.fetched, first.new_articles) == (1, 2)
    assert archive.get_feed(feed.id).etag is not None

    clock.advance(hours=1)
    second = archive.update(due_only=False, limits=FAST)
    assert (second.not_modified, second.fetched, second.new_articles) == (1, 0, 0)

    stat = path.stat()
    path.write_bytes(rss(ITEMS))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    clock.advance(hours=1)
    third = archive.update(due_only=False, limits=FAST)
    assert (third.fetched, third.new_articles, third.not_modified) == (1, 1, 0)
    assert len(list(archive.articles("本地"))) == 3


def test_plain_path_feed(tmp_path, archive):
    path = tmp_path / "plain.xml"
    path.write_bytes(rss(ITEMS[:1]))
    feed = archive.add_feed(str(path), site="Plain")
    assert archive.update(limits=FAST).new_articles == 1
    assert archive.get_feed(feed.id).error_kind is None


def test_file_feed_in_a_chinese_folder_added_by_file_url(tmp_path, archive):
    """A file:// URL is percent-encoded (Path.as_uri()); the feed must still be readable."""
    folder = tmp_path / "新闻 源"
    folder.mkdir()
    path = folder / "订阅.xml"
    path.write_bytes(rss(ITEMS[:1]))
    feed = archive.add_feed(path.as_uri(), site="中文路径")
    summary = archive.update(limits=FAST)
    stored = archive.get_feed(feed.id)
    assert stored.error_kind is None, f"{stored.url}: {stored.error_message}"
    assert summary.new_articles == 1


def test_missing_file_feed_is_not_found(tmp_path, archive):
    feed = archive.add_feed((tmp_path / "nowhere.xml").as_uri(), site="Missing", check=False)
    archive.update(limits=FAST)
    stored = archive.get_feed(feed.id)
    assert stored.error_kind == "not_found"
    assert stored.state is FeedState.ACTIVE


def test_a_validator_that_cannot_be_sent_back_is_not_kept(server, archive):
    body = rss([Item("非 ASCII 的 ETag", "https://etag.example/1", "<p>正文</p>")])
    url = server.route("/latin1-etag.xml", serve_static(body, {"ETag": '"caf\xe9"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}))
    feed = archive.add_feed(url, site="ETag")
    assert archive.update(limits=FAST).failed == 0
    stored = archive.get_feed(feed.id)
    assert stored.etag is None and stored.last_modified == "Mon, 01 Jan 2024 00:00:00 GMT"
    again = archive.update(feeds=[feed.id], limits=FAST)  # the next pass runs, conditionally on the date only
    assert again.failed == 0
    assert "If-None-Match" not in server.requests("/latin1-etag.xml")[-1]


def test_not_modified_to_an_unconditional_request_is_an_error(server, archive):
    url = server.route("/always-304.xml", lambda h: h.reply(304, b""))
    feed = archive.add_feed(url, site="Always304")
    summary = archive.update(limits=FAST)
    assert summary.failed == 1 and summary.not_modified == 0
    assert archive.get_feed(feed.id).error_kind == "http_304"


def test_full_text_fetches_are_capped_and_a_bad_article_link_is_harmless(server, archive):
    from tidings.update import MAX_FULL_TEXT_PER_FEED

    page = (
        b"<html><head><title>t</title></head><body><article><h1>t</h1>"
        + b"<p>" + "完整的正文内容。".encode() * 40 + b"</p></article></body></html>"
    )
    server.route("/fulltext/page", serve_static(page, content_type="text/html; charset=utf-8"))
    items = [Item("坏链接", "http://xn--/a", "<p>短</p>", guid="bad")] + [
        Item(f"短讯 {k}", server.url(f"/fulltext/page?k={k}"), "<p>短</p>", guid=f"k{k}") for k in range(60)
    ]
    feed = archive.add_feed(server.route("/fulltext/feed.xml", serve_static(rss(items))), site="短讯")
    good = archive.add_feed(
        server.route("/fulltext/good.xml", serve_static(rss([Item("另一源", "https://other.example/1", "<p>正文</p>")]))),
        site="另一源",
    )
    summary = archive.update(limits=FAST)
    assert summary.failed == 0 and summary.new_articles == 62
    fetched = len([s for s in list(server.log) if s.path.startswith("/fulltext/page")])
    assert 0 < fetched <= MAX_FULL_TEXT_PER_FEED
    assert archive.get_feed(feed.id).error_kind is None and archive.get_feed(good.id).article_count == 1


def test_a_document_of_too_many_entries_is_read_up_to_the_cap(server, archive, monkeypatch):
    import tidings.update

    monkeypatch.setattr(tidings.update, "MAX_ENTRIES_PER_DOCUMENT", 25)
    items = [Item(f"条目 {k}", f"https://many.example/{k}", "<p>正文</p>", guid=f"m{k}") for k in range(100)]
    feed = archive.add_feed(server.route("/many.xml", serve_static(rss(items))), site="Many")
    summary = archive.update(limits=FAST)
    assert summary.failed == 0 and summary.new_articles == 25
    assert {a.url for a in archive.articles("Many")} == {f"https://many.example/{k}" for k in range(25)}
    assert archive.get_feed(feed.id).error_kind is None


def test_full_text_is_not_fetched_from_private_addresses_of_other_hosts(server, archive):
    page = b"<html><body><article><p>" + "内部网络的秘密。".encode() * 40 + b"</p></article></body></html>"
    server.route("/internal/a", serve_static(page, content_type="text/html; charset=utf-8"))
    server.route("/internal/b", serve_static(page, content_type="text/html; charset=utf-8"))
    items = [
        Item("内网链接", f"http://localhost:{server.port}/internal/a", "<p>短</p>", guid="in"),  # another name, loopback
        Item("同源链接", server.url("/internal/b"), "<p>短</p>", guid="same"),  # the feed's own host
    ]
    archive.add_feed(server.route("/internal/feed.xml", serve_static(rss(items))), site="内网")
    summary = archive.update(limits=FAST)
    assert summary.failed == 0 and summary.new_articles == 2
    fetched = [s.path for s in list(server.log) if s.path in ("/internal/a", "/internal/b")]
    assert fetched == ["/internal/b"]
    assert summary.extracted == 1
