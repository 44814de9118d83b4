"""Where tidings may be sent, and what it repeats: follow-up fetches (full text) on every
redirect hop, feeds redirected from public to private addresses, failure messages that
never quote a body, the per-feed follow-up budget, and the address policy itself.

Every request goes to a real HTTP server on loopback. The address policy is injected
(``Limits.is_public``): 127.0.0.2 plays the public outlet and 127.0.0.1 the private
network, whose server must never see a request. Every request passes a transport that
refuses (and records) anything outside 127.0.0.0/8, so that even a broken check cannot
send traffic to a private or link-local address; link-local targets are only ever
literal IPs, which need no lookup.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import httpx
import pytest

import tidings
import tidings.fetch.http
from tidings.errors import FeedParseError, NotAFeedError
from tidings.fetch import Limits, Response
from tidings.fetch.addresses import embedded_ipv4, is_public, resolve
from tidings.model import FeedOptions, RevisionSource, UpdateSummary
from tidings.failures import failure_message

from .conftest import FIXED_NOW

PUBLIC_HOST = "127.0.0.2"  # the outlet on "the internet"
PRIVATE_HOST = "127.0.0.1"  # "the private network"
_PUBLIC = ipaddress.ip_address(PUBLIC_HOST)


def only_outlet_is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address == _PUBLIC


FAST = Limits(connect_timeout=2, read_timeout=2, total_timeout=6, max_bytes=2_000_000)
POLICY = Limits(connect_timeout=2, read_timeout=2, total_timeout=6, max_bytes=2_000_000, is_public=only_outlet_is_public)
SECRET = "INTERNAL-SECRET-7f3a"


# --------------------------------------------------------------------------- servers


Route = Callable[["_Handler"], None]


@dataclass
class Server:
    host: str
    port: int = 0
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def route(self, path: str, fn: Route) -> str:
        self.routes[path] = fn
        return self.url(path)

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for seen, _host in self.hits if seen == path)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer  # type: ignore[assignment]

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        state = self.server.state
        path = urlsplit(self.path).path
        with state.lock:
            state.hits.append((path, self.headers.get("Host", "")))
        self.close_connection = True
        route = state.routes.get(path)
        try:
            if route is None:
                self.reply(404, b"no such route", "text/plain")
            else:
                route(self)
        except OSError:
            pass  # the client went away

    def reply(self, status: int, body: bytes = b"", content_type: str | None = None, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    state: Server

    def handle_error(self, request: object, client_address: object) -> None:
        pass


def _serve(host: str) -> Iterator[Server]:
    httpd = _HTTPServer((host, 0), _Handler)
    state = Server(host=host, port=httpd.server_address[1])
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


@pytest.fixture
def outlet() -> Iterator[Server]:
    """The public outlet, on 127.0.0.2."""
    yield from _serve(PUBLIC_HOST)


@pytest.fixture
def internal() -> Iterator[Server]:
    """The private network, on 127.0.0.1: every route serves a secret."""
    for state in _serve(PRIVATE_HOST):
        page = article_page(f"{SECRET} internal wiki", [f"{SECRET}: the credentials of the build server."] * 6)
        for path in ("/internal", "/internal-direct", "/internal-by-name", "/secret-feed"):
            state.route(path, static(page, "text/html; charset=utf-8"))
        yield state


class LoopbackOnly(httpx.AsyncBaseTransport):
    """A transport that sends only to 127.0.0.0/8 and records every host it was asked for."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.hosts: list[str] = []
        self.refused: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.hosts.append(host)
        try:
            loopback = ipaddress.ip_address(host) in ipaddress.ip_network("127.0.0.0/8")
        except ValueError:
            loopback = False
        if not loopback:
            self.refused.append(str(request.url))
            raise httpx.ConnectError(f"the test transport sends nothing to {host}")
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def update(archive: tidings.Archive, limits: Limits, transport: LoopbackOnly) -> UpdateSummary:
    summary = asyncio.run(archive.update_async(due_only=False, limits=limits, transport=transport))
    assert transport.refused == [], f"a request left loopback: {transport.refused}"
    return summary


# --------------------------------------------------------------------------- documents


def static(body: bytes | str, content_type: str, headers: dict[str, str] | None = None) -> Route:
    data = body.encode("utf-8") if isinstance(body, str) else body

    def route(h: _Handler) -> None:
        h.reply(200, data, content_type, headers)

    return route


def redirect(location: str, status: int = 302) -> Route:
    def route(h: _Handler) -> None:
        h.reply(status, b"", None, {"Location": location})

    return route


PARAGRAPHS = [
    "The harbour commission met on Thursday evening and agreed, after a long and at times heated debate, to "
    "extend the opening hours of the night ferry through the winter months.",
    "Commuters who work late shifts at the hospital and the container terminal had campaigned for the change "
    "for more than a year, collecting several thousand signatures along the waterfront.",
    "The extra sailings will be paid for by a small rise in the price of day tickets, which the commission "
    "said would still leave fares below those charged in neighbouring towns along the coast.",
    "Ferry workers welcomed the decision but asked for more staff on the late crossings, saying that the "
    "current crews were already stretched by the summer timetable and the new routes.",
]


def article_page(title: str, paragraphs: list[str] = PARAGRAPHS) -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
        f"<body><nav>Home News Sport</nav><article><h1>{escape(title)}</h1>{body}</article>"
        "<footer>Copyright the Harbour Gazette</footer></body></html>"
    )


def rss(items: list[tuple[str, str]]) -> bytes:
    """A feed of short summaries (title, link): every item wants its page in ``auto`` mode."""
    parts = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Gazette</title>']
    for number, (title, link) in enumerate(items):
        parts.append(
            f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
            f'<guid isPermaLink="false">{escape(link)}</guid><description>Short summary {number}.</description></item>'
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


RSS = "application/rss+xml; charset=utf-8"


class Clock:
    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[tuple[tidings.Archive, Clock]]:
    clock = Clock()
    with tidings.open_archive(tmp_path / "hardening.sqlite3", clock=clock) as opened:
        yield opened, clock


def sources(archive: tidings.Archive, url: str) -> list[RevisionSource]:
    (article,) = [a for a in archive.articles() if a.url == url]
    return [r.source for r in archive.revisions(article.id)]


def no_secret_anywhere(archive: tidings.Archive) -> None:
    for revision in archive.store.iter_revisions():
        assert SECRET not in revision.content_html and SECRET not in revision.title
    for feed in archive.store.feeds():
        assert SECRET not in (feed.error_message or "") and SECRET not in (feed.title or "")
        for record in archive.store.fetch_log(feed.id):
            assert SECRET not in (record.error_message or "")


def api_feeds(db: Path) -> list[dict[str, object]]:
    """``GET /api/feeds`` of a web app on the archive, as anyone (no token) sees it."""
    warnings.filterwarnings("ignore", message=".*httpx.*", category=DeprecationWarning)
    from starlette.testclient import TestClient

    from tidings.web import create_app

    answer = TestClient(create_app(db)).get("/api/feeds")
    assert answer.status_code == 200
    body = answer.json()
    return body if isinstance(body, list) else body["feeds"]


# --------------------------------------------------------------------------- 1: follow-up fetches


def test_full_text_is_refused_on_every_redirect_hop_to_a_private_address(outlet, internal, clocked):
    archive, _clock = clocked
    outlet.route("/story-good", static(article_page("Night ferry extended"), "text/html; charset=utf-8"))
    outlet.route("/story-moved", redirect("/story-good-2"))  # the feed's own host: followed
    outlet.route("/story-good-2", static(article_page("Night ferry, the vote"), "text/html; charset=utf-8"))
    outlet.route("/story-to-internal", redirect(internal.url("/internal")))
    outlet.route("/story-to-public-then-internal", redirect(outlet.url("/hop")))
    outlet.route("/hop", redirect(internal.url("/internal")))
    items = [
        ("Good", outlet.url("/story-good")),
        ("Moved", outlet.url("/story-moved")),
        ("Redirected inside", outlet.url("/story-to-internal")),
        ("Two hops inside", outlet.url("/story-to-public-then-internal")),
        ("Direct", internal.url("/internal-direct")),
        ("By name", f"http://localhost:{internal.port}/internal-by-name"),  # resolves to loopback
    ]
    archive.add_feed(outlet.route("/feed.xml", static(rss(items), RSS)), site="Gazette")
    transport = LoopbackOnly()

    summary = update(archive, POLICY, transport)

    assert summary.failed == 0 and summary.new_articles == 6
    assert internal.hits == []  # the private network never saw a request
    assert summary.extracted == 2
    assert sources(archive, outlet.url("/story-good")) == [RevisionSource.FEED, RevisionSource.EXTRACTED]
    assert sources(archive, outlet.url("/story-moved")) == [RevisionSource.FEED, RevisionSource.EXTRACTED]
    for _title, url in items[2:]:
        assert sources(archive, url) == [RevisionSource.FEED], url  # the feed's content stays
    (feed,) = archive.store.feeds()
    refusals = {r.error_kind for r in archive.store.fetch_log(feed.id) if r.error_kind}
    assert refusals == {"redirect_private", "private_address"}
    notes = [r.error_message or "" for r in archive.store.fetch_log(feed.id) if r.error_kind == "redirect_private"]
    assert len(notes) == 2 and all(PRIVATE_HOST in note for note in notes)
    assert feed.error_kind is None and feed.error_count == 0
    assert {host for host in transport.hosts} == {PUBLIC_HOST}
    no_secret_anywhere(archive)


def test_a_loopback_feed_gets_full_text_from_its_own_host_only(internal, clocked):
    """With the default policy a feed on an intranet host is legitimate, and so are its own pages."""
    archive, _clock = clocked
    internal.route("/own", static(article_page("Own page"), "text/html; charset=utf-8"))
    internal.route("/own-redirect", redirect(f"http://localhost:{internal.port}/own"))
    items = [("Own", internal.url("/own")), ("Own, redirected by name", internal.url("/own-redirect"))]
    archive.add_feed(internal.route("/own-feed.xml", static(rss(items), RSS)), site="Intranet")
    summary = update(archive, FAST, LoopbackOnly())
    assert summary.extracted == 1
    assert internal.count("/own") == 1 and internal.count("/own-redirect") == 1  # localhost: another host
    assert sources(archive, internal.url("/own-redirect")) == [RevisionSource.FEED]


def test_the_fetch_connects_to_the_address_that_was_checked(outlet, clocked, monkeypatch):
    """A name is looked up once per pass by tidings and the connection goes to that address,
    with the Host header naming the host (the system resolver is never asked)."""
    archive, _clock = clocked
    lookups: list[str] = []

    async def fake_resolve(hostname: str, port: int, timeout: float) -> list[ipaddress.IPv4Address]:
        lookups.append(hostname)
        return [ipaddress.IPv4Address(PUBLIC_HOST)]

    monkeypatch.setattr(tidings.fetch.http, "resolve", fake_resolve)
    outlet.route("/page", static(article_page("Pinned"), "text/html; charset=utf-8"))
    items = [(f"Story {k}", f"http://pages.test:{outlet.port}/page?k={k}") for k in range(8)]
    outlet.route("/named-feed.xml", static(rss(items), RSS))
    archive.add_feed(f"http://outlet.test:{outlet.port}/named-feed.xml", site="Named")
    summary = update(archive, POLICY, LoopbackOnly())
    assert summary.failed == 0 and summary.new_articles == 8 and summary.extracted == 8
    assert sorted(lookups) == ["outlet.test", "pages.test"]  # one lookup per host and pass
    with outlet.lock:
        hosts = {path: host for path, host in outlet.hits}
    assert hosts["/named-feed.xml"] == f"outlet.test:{outlet.port}"
    assert hosts["/page"] == f"pages.test:{outlet.port}"


def test_a_name_that_resolves_to_a_private_address_gets_no_connection(outlet, internal, clocked, monkeypatch):
    """A page host whose lookup answers a private address (as a rebinding name would) is refused
    before any connection; the feed's own name stays allowed whatever it resolves to."""
    archive, _clock = clocked

    async def fake_resolve(hostname: str, port: int, timeout: float) -> list[ipaddress.IPv4Address]:
        return [ipaddress.IPv4Address(PRIVATE_HOST if hostname == "rebind.test" else PUBLIC_HOST)]

    monkeypatch.setattr(tidings.fetch.http, "resolve", fake_resolve)
    items = [("Rebinding", f"http://rebind.test:{internal.port}/internal")]
    archive.add_feed(outlet.route("/rebind-feed.xml", static(rss(items), RSS)), site="Rebind")
    summary = update(archive, POLICY, LoopbackOnly())
    assert summary.new_articles == 1 and summary.extracted == 0
    assert internal.hits == []
    (feed,) = archive.store.feeds()
    assert [r.error_kind for r in archive.store.fetch_log(feed.id) if r.error_kind] == ["private_address"]


# --------------------------------------------------------------------------- 2: feeds redirected


def test_a_public_feed_redirected_to_a_private_address_is_refused(outlet, internal, tmp_path):
    db = tmp_path / "redirected.sqlite3"
    with tidings.open_archive(db, clock=Clock()) as archive:
        feed = archive.add_feed(outlet.route("/moved.xml", redirect(internal.url("/secret-feed"), 301)), site="Moved")
        summary = update(archive, POLICY, LoopbackOnly())
        assert summary.failed == 1
        stored = archive.get_feed(feed.id)
        assert stored.error_kind == "redirect_private"
        assert PRIVATE_HOST in (stored.error_message or "") and SECRET not in (stored.error_message or "")
        assert stored.url == outlet.url("/moved.xml")  # a refused permanent redirect moves nothing
        assert internal.hits == []
        no_secret_anywhere(archive)
    (shown,) = api_feeds(db)
    assert shown["error_kind"] == "redirect_private" and SECRET not in str(shown)


def test_a_redirect_to_a_link_local_address_is_refused_by_its_literal(outlet, clocked, monkeypatch):
    archive, _clock = clocked
    metadata = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    feed = archive.add_feed(outlet.route("/metadata.xml", redirect(metadata)), site="Metadata")
    transport = LoopbackOnly()
    summary = update(archive, POLICY, transport)
    assert summary.failed == 1
    stored = archive.get_feed(feed.id)
    assert stored.error_kind == "redirect_private" and "169.254.169.254" in (stored.error_message or "")
    assert "169.254.169.254" not in transport.hosts  # refused before any connection was asked for
    # The policy judges the literal alone: deciding needs no lookup, so no traffic at all.
    def no_lookup(*args: object, **kwargs: object) -> object:
        raise AssertionError("a literal address needs no lookup")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    assert asyncio.run(resolve("169.254.169.254", 80, 1.0)) == [ipaddress.ip_address("169.254.169.254")]
    assert asyncio.run(resolve("[fe80::1]", 80, 1.0)) == [ipaddress.ip_address("fe80::1")]
    assert not is_public(ipaddress.ip_address("169.254.169.254"))


def test_a_feed_that_is_not_public_may_redirect_anywhere_until_it_reaches_the_public(outlet, internal, clocked):
    """A subscribed intranet feed may redirect inside the intranet, and back to its own host
    from the public internet; a public hop to another private host is refused."""
    archive, _clock = clocked
    internal.route("/feed-home.xml", static(rss([("Item", "https://news.example/1")]), RSS))
    internal.route("/start.xml", redirect(outlet.url("/bounce")))
    outlet.route("/bounce", redirect(internal.url("/feed-home.xml")))
    outlet.route("/bounce-elsewhere", redirect(f"http://localhost:{internal.port}/feed-home.xml"))
    internal.route("/start-elsewhere.xml", redirect(outlet.url("/bounce-elsewhere")))
    back = archive.add_feed(internal.url("/start.xml"), site="Back")
    elsewhere = archive.add_feed(internal.url("/start-elsewhere.xml"), site="Elsewhere")
    update(archive, POLICY, LoopbackOnly())
    assert archive.get_feed(back.id).error_kind is None
    assert archive.get_feed(elsewhere.id).error_kind == "redirect_private"
    assert internal.count("/feed-home.xml") == 1


# --------------------------------------------------------------------------- 2: messages without bodies


def _raw(data: bytes) -> Route:
    def route(h: _Handler) -> None:
        h.wfile.write(data)

    return route


def _reason(h: _Handler) -> None:
    h.send_response(500, f"{SECRET} reason")
    h.send_header("Content-Length", "0")
    h.send_header("Connection", "close")
    h.end_headers()


BODIES: dict[str, tuple[Route, str, list[str]]] = {
    # name: (route, error kind, words the message must hold)
    "html": (
        static(f"<html><head><title>{SECRET} admin console</title></head><body>x</body></html>", "text/html; charset=utf-8"),
        "not_a_feed",
        ["HTTP 200", "text/html", "bytes", "HTML"],
    ),
    "json-keys": (static(f'{{"{SECRET}": 1, "token": "abc"}}', "application/json"), "not_a_feed", ["application/json", "JSON"]),
    "json-string": (static(f'"{SECRET}"', "application/json"), "not_a_feed", ["JSON"]),
    "bad-json": (static(f'{{"{SECRET}": 1,\n', "application/json"), "parse", ["JSON that does not parse", "first error at line 2"]),
    "xml-root": (static(f"<?xml version='1.0'?>\n<{SECRET}><a/></{SECRET}>", "text/xml"), "not_a_feed", ["XML"]),
    "text": (static(f"{SECRET} plain words", "text/plain"), "parse", ["text/plain", "neither XML nor JSON"]),
    "junk-xml": (static(f"<\n\n\x00<<{SECRET} &&& <<", "text/xml"), "parse", ["XML"]),
    "odd-content-type": (static(f"<html><title>{SECRET}</title></html>", f"text/html; {SECRET}=1"), "not_a_feed", ["text/html"]),
    "reason-phrase": (_reason, "http_500", ["HTTP 500 Internal Server Error"]),
    "bad-header": (_raw(f"HTTP/1.1 200 OK\r\n{SECRET} no colon\r\nContent-Length: 0\r\n\r\n".encode()), "incomplete", ["HTTP protocol"]),
    "bad-status": (_raw(f"HTTP/1.1 2x0 {SECRET}\r\n\r\n".encode()), "incomplete", ["HTTP protocol"]),
}


@pytest.mark.parametrize("name", list(BODIES))
def test_failure_messages_never_quote_what_came_back(internal, tmp_path, name):
    route, kind, words = BODIES[name]
    db = tmp_path / "messages.sqlite3"
    with tidings.open_archive(db, clock=Clock()) as archive:
        feed = archive.add_feed(internal.route(f"/wrong/{name}", route), site="Wrong")
        summary = update(archive, FAST, LoopbackOnly())
        (outcome,) = summary.outcomes
        stored = archive.get_feed(feed.id)
        assert stored.error_kind == kind, stored.error_message
        message = stored.error_message or ""
        assert SECRET not in message and SECRET not in (outcome.error_message or "")
        for word in words:
            assert word in message, (word, message)
    (shown,) = api_feeds(db)
    assert SECRET not in str(shown)


def test_parse_error_messages_name_the_line_and_the_fetch_log_keeps_no_document_text(internal, clocked):
    archive, _clock = clocked
    broken = (
        "<?xml version='1.0'?>\n<rss version='2.0'>\n<channel><title>t</title>\n"
        f"<item><title>ok</title><link>https://news.example/1</link><description>d</description></item>\n"
        f"<{SECRET} a=b c>\n</channel></rss>"
    )
    feed = archive.add_feed(internal.route("/recovered.xml", static(broken, "text/xml")), site="Recovered")
    update(archive, FAST, LoopbackOnly())
    (record,) = archive.store.fetch_log(feed.id)
    assert record.error_message and "line 5" in record.error_message
    no_secret_anywhere(archive)


def test_failure_message_is_built_from_the_response_not_the_parser():
    response = Response(url="https://news.example/feed", content=b"<html><title>SECRET</title></html>",
                        status=200, content_type="text/html; charset=utf-8")
    exc = NotAFeedError("received an HTML page ('SECRET'), not a feed")
    message = failure_message("https://news.example/feed", exc, response)
    assert message == f"https://news.example/feed: not a feed (HTTP 200, text/html, {len(response.content)} bytes): an HTML page"
    parse = FeedParseError("received something that is not a feed (starts 'SECRET'): error at line 7, column 2")
    xml = Response(url="u", content=b"<x SECRET", status=200, content_type="text/xml")
    assert failure_message("u", parse, xml) == (
        "u: not readable as a feed (HTTP 200, text/xml, 9 bytes): XML that is not well-formed, first error at line 7"
    )
    assert "SECRET" not in failure_message("u", RuntimeError("SECRET"), xml)


# --------------------------------------------------------------------------- 3: the follow-up budget


class Trickle:
    """Article pages that send one byte every ``pause`` seconds while ``slow`` is set."""

    def __init__(self, page: bytes, pause: float = 0.3) -> None:
        self.page = page
        self.pause = pause
        self.slow = True

    def __call__(self, h: _Handler) -> None:
        if not self.slow:
            h.reply(200, self.page, "text/html; charset=utf-8")
            return
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(self.page)))
        h.end_headers()
        for byte in self.page:
            if h.server.state.stop.is_set():
                return
            h.wfile.write(bytes([byte]))
            h.wfile.flush()
            time.sleep(self.pause)


@pytest.mark.parametrize("validators", [False, True])
def test_the_follow_up_budget_ends_the_pass_and_the_rest_wait_for_the_next(outlet, clocked, validators):
    archive, clock = clocked
    pages = Trickle(article_page("A slow page").encode())
    outlet.route("/slow", pages)
    items = [(f"Slow {k}", outlet.url(f"/slow?k={k}")) for k in range(12)]
    body = rss(items)

    def feed_route(h: _Handler) -> None:
        if validators and h.headers.get("If-None-Match") == '"v1"':
            h.reply(304, b"", None, {"ETag": '"v1"'})
        else:
            h.reply(200, body, RSS, {"ETag": '"v1"'} if validators else None)

    feed = archive.add_feed(outlet.route("/slow-feed.xml", feed_route), site="Slow")
    limits = Limits(connect_timeout=2, read_timeout=2, total_timeout=60, max_bytes=2_000_000, follow_up_budget=1.0)

    started = time.monotonic()
    first = update(archive, limits, LoopbackOnly())
    took = time.monotonic() - started
    assert took < 5, f"the pass took {took:.1f} s with a budget of 1 s"
    assert first.new_articles == 12 and first.extracted == 0 and first.failed == 0
    assert archive.get_feed(feed.id).etag is None  # so that the next fetch reads the document

    pages.slow = False
    clock.advance(hours=1)
    roomy = Limits(connect_timeout=2, read_timeout=2, total_timeout=60, max_bytes=2_000_000, follow_up_budget=30.0)
    second = update(archive, roomy, LoopbackOnly())
    assert second.failed == 0 and second.new_articles == 0 and second.extracted == 12
    for _title, url in items:
        assert sources(archive, url) == [RevisionSource.FEED, RevisionSource.EXTRACTED]

    fetched = outlet.count("/slow")
    clock.advance(hours=1)
    third = update(archive, roomy, LoopbackOnly())
    assert third.extracted == 0 and outlet.count("/slow") == fetched  # nothing fetched twice once done
    if validators:
        assert archive.get_feed(feed.id).etag == '"v1"'


def test_pages_left_over_come_first_and_new_ones_they_displace_wait_in_turn(outlet, clocked, monkeypatch):
    import tidings.update

    monkeypatch.setattr(tidings.update, "MAX_FULL_TEXT_PER_FEED", 3)
    archive, clock = clocked
    pages = Trickle(article_page("A slow page").encode())
    outlet.route("/slow", pages)
    items = [(f"Old {k}", outlet.url(f"/slow?old={k}")) for k in range(3)]
    document = {"body": rss(items)}

    def feed_route(h: _Handler) -> None:
        if h.headers.get("If-None-Match") == '"same"':
            h.reply(304, b"", None, {"ETag": '"same"'})
        else:
            h.reply(200, document["body"], RSS, {"ETag": '"same"'})

    feed = archive.add_feed(outlet.route("/busy.xml", feed_route), site="Busy")
    tight = Limits(connect_timeout=2, read_timeout=2, total_timeout=60, max_bytes=2_000_000, follow_up_budget=0.5)
    roomy = Limits(connect_timeout=2, read_timeout=2, total_timeout=60, max_bytes=2_000_000, follow_up_budget=30.0)
    assert update(archive, tight, LoopbackOnly()).extracted == 0

    pages.slow = False
    clock.advance(hours=1)
    document["body"] = rss([(f"New {k}", outlet.url(f"/slow?new={k}")) for k in range(2)] + items)
    second = update(archive, roomy, LoopbackOnly())
    assert second.new_articles == 2 and second.extracted == 3  # the three left over, first
    assert archive.get_feed(feed.id).etag is None  # the two new ones wait: read the document again

    clock.advance(hours=1)
    third = update(archive, roomy, LoopbackOnly())
    assert third.new_articles == 0 and third.extracted == 2
    assert archive.get_feed(feed.id).etag == '"same"'
    assert all(RevisionSource.EXTRACTED in sources(archive, a.url) for a in archive.articles("Busy"))


def test_pages_tried_in_a_pass_that_finished_are_not_fetched_again(outlet, clocked):
    """Only the pass right after an article was new may try its page again, and only when the
    document is read again: a page that gave nothing is not fetched on every pass."""
    archive, clock = clocked
    outlet.route("/empty", static("<html><body></body></html>", "text/html"))
    archive.add_feed(outlet.route("/empty-feed.xml", static(rss([("Empty", outlet.url("/empty"))]), RSS)), site="Empty")
    for _ in range(4):
        update(archive, POLICY, LoopbackOnly())
        clock.advance(hours=1)
    assert outlet.count("/empty") == 2


# --------------------------------------------------------------------------- 4: the address policy


PRIVATE = [
    "0.0.0.0", "0.1.2.3", "10.0.0.1", "100.64.0.1", "100.127.255.254", "127.0.0.1", "127.255.255.254",
    "169.254.169.254", "172.16.5.4", "172.31.255.255", "192.0.0.1", "192.0.2.1", "192.88.99.1", "192.168.1.1",
    "198.18.0.1", "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "::", "::1", "::7f00:1", "::a00:1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "::ffff:0.0.0.0", "::ffff:100.64.0.1", "::ffff:0:7f00:1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",
    "64:ff9b::a00:1", "64:ff9b:1::808:808", "2002:7f00:1::", "2002:a00:1::1", "2002:a9fe:a9fe::",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001::1", "2001:db8::1", "3fff::1", "5f00::1", "100::1",
    "fc00::1", "fd12:3456::1", "fe80::1", "fe80::1%2", "fec0::1", "ff02::1", "ff0e::1",
]
PUBLIC = [
    "1.1.1.1", "8.8.8.8", "93.184.216.34", "100.63.255.255", "100.128.0.1", "172.32.0.1", "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
    # Teredo with a public server and client (the client's address is stored inverted)
    "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
]


def test_private_and_other_non_public_addresses():
    assert [a for a in PRIVATE if is_public(ipaddress.ip_address(a))] == []


def test_public_addresses():
    assert [a for a in PUBLIC if not is_public(ipaddress.ip_address(a))] == []


def test_the_ipv4_inside_ipv6_forms():
    assert embedded_ipv4(ipaddress.IPv6Address("::ffff:127.0.0.1")) == (ipaddress.IPv4Address("127.0.0.1"),)
    assert embedded_ipv4(ipaddress.IPv6Address("64:ff9b::a9fe:a9fe")) == (ipaddress.IPv4Address("169.254.169.254"),)
    assert embedded_ipv4(ipaddress.IPv6Address("2002:a9fe:a9fe::1")) == (ipaddress.IPv4Address("169.254.169.254"),)
    server, client = embedded_ipv4(ipaddress.IPv6Address("2001:0:4136:e378:8000:63bf:3fff:fdd2")) or ()
    assert (str(server), str(client)) == ("65.54.227.120", "192.0.2.45")
    assert embedded_ipv4(ipaddress.IPv6Address("2606:4700:4700::1111")) is None


def test_the_policy_is_carried_by_limits_and_defaults_to_is_public():
    assert Limits().is_public is is_public
    assert Limits().follow_up_budget == 60.0
    assert POLICY.is_public(ipaddress.ip_address(PUBLIC_HOST))
    assert not POLICY.is_public(ipaddress.ip_address(PRIVATE_HOST))
