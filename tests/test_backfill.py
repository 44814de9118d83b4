"""Backfill against a real loopback server: an Atom feed's prev-archive chain (with a loop),
an RSS 2.0 feed paged with atom:link rel=next, the page bound, a failing page, a second
walk that adds nothing, the CLI; and the parser's archive links (RFC 5005)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

import tidings
from tidings.cli import cli
from tidings.model import ArticleState, FeedOptions
from tidings.parse import parse_feed

from .test_update_http import FAST, Clock, Server, _routes_did_not_raise, server  # noqa: F401  (fixtures)

T0 = datetime(2025, 6, 1, 8, 0, tzinfo=timezone.utc)
BODY = " ".join(["The council met again and published its minutes in full."] * 8)
ATOM = "http://www.w3.org/2005/Atom"
FH = "http://purl.org/syndication/history/1.0"


def atom(title: str, numbers: list[int], links: str = "", *, base: str = "") -> bytes:
    """An Atom document with entries ``e<n>`` (published n hours after T0) and extra links."""
    entries = "".join(
        f"<entry><id>urn:example:e{n}</id><title>Entry {n}</title>"
        f'<link href="https://outlet.example/e{n}"/>'
        f"<updated>{(T0 + timedelta(hours=n)).isoformat()}</updated>"
        f'<content type="html">&lt;p&gt;Entry {n}. {BODY}&lt;/p&gt;</content></entry>'
        for n in numbers
    )
    base_attr = f' xml:base="{base}"' if base else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="{ATOM}" xmlns:fh="{FH}"{base_attr}>'
        f"<title>{title}</title><id>urn:example:feed</id><updated>{T0.isoformat()}</updated>"
        f"{links}{entries}</feed>"
    ).encode()


def rss(numbers: list[int], next_href: str | None) -> bytes:
    """An RSS 2.0 page with items ``r<n>`` and, when given, an atom:link to the next page."""
    items = "".join(
        f"<item><title>Item {n}</title><link>https://outlet.example/r{n}</link><guid>r{n}</guid>"
        f"<pubDate>{format_datetime(T0 + timedelta(hours=n))}</pubDate>"
        f"<description>Item {n}.</description></item>"
        for n in numbers
    )
    paging = f'<atom:link rel="next" href="{next_href}"/>' if next_href else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:atom="{ATOM}"><channel>'
        f"<title>Paged</title><link>https://outlet.example/</link>{paging}{items}</channel></rss>"
    ).encode()


def serve(server: Server, path: str, body: bytes, content_type: str = "application/atom+xml") -> str:
    return server.route(path, lambda h: h.reply(200, body, content_type=content_type))


def archived_chain(server: Server, prefix: str) -> str:
    """The current document (entries 7-8) and three archive documents (5-6, 3-4, 1-2);
    the oldest links back to the second, a loop. Relative links, one through xml:base."""
    feed = serve(server, f"{prefix}/feed.xml", atom("Chain", [8, 7], '<link rel="prev-archive" href="archive/3.xml"/>'))
    serve(server, f"{prefix}/archive/3.xml", atom("Chain", [6, 5], '<link rel="prev-archive" href="2.xml"/>'))
    serve(
        server,
        f"{prefix}/archive/2.xml",
        atom("Chain", [4, 3], '<link rel="prev-archive" href="1.xml"/>', base=server.url(f"{prefix}/archive/")),
    )
    serve(server, f"{prefix}/archive/1.xml", atom("Chain", [2, 1], f'<link rel="prev-archive" href="{prefix}/archive/2.xml"/>'))
    return feed


@pytest.fixture
def clocked(db):  # type: ignore[no-untyped-def]
    clock = Clock(T0 + timedelta(days=2))
    with tidings.open_archive(db, clock=clock) as opened:
        yield opened, clock


def keys(archive: tidings.Archive) -> set[str]:
    return {a.key for a in archive.articles()}


# --------------------------------------------------------------------------- the walk


def test_atom_prev_archive_chain_is_walked_once_and_the_loop_stops_it(server, clocked):
    archive, clock = clocked
    url = archived_chain(server, "/chain")
    feed = archive.add_feed(url, site="Chain")
    summary = archive.backfill(feed.id, limits=FAST)
    assert summary.stopped_because == "loop"
    assert summary.pages == 3
    assert summary.new_articles == 8
    assert summary.failed_url is None
    assert keys(archive) == {f"urn:example:e{n}" for n in range(1, 9)}
    for page in ("3", "2", "1"):
        assert len(server.requests(f"/chain/archive/{page}.xml")) == 1
    # Every article has one revision and a feed sighting, as an update would store it.
    for article in archive.articles():
        assert len(archive.revisions(article.id)) == 1
        assert [s.source for s in archive.sightings(article.id)] == ["feed"]
    # The feed itself was updated; its next update marks nothing missing.
    assert archive.get_feed(feed.id).last_success is not None
    clock.advance(hours=1)
    assert archive.update(due_only=False, limits=FAST).failed == 0
    assert {a.state for a in archive.articles()} == {ArticleState.PRESENT}


def test_a_second_backfill_adds_nothing(server, clocked):
    archive, clock = clocked
    url = archived_chain(server, "/again")
    feed = archive.add_feed(url, site="Again")
    first = archive.backfill(feed.id, limits=FAST)
    assert first.new_articles == 8
    clock.advance(minutes=5)
    second = archive.backfill(url, limits=FAST)
    assert (second.pages, second.new_articles, second.changed) == (1, 0, 0)
    assert second.stopped_because == "nothing_new"
    assert len(server.requests("/again/archive/2.xml")) == 1  # the walk stopped at page 3
    assert len(list(archive.articles())) == 8
    assert all(len(archive.revisions(a.id)) == 1 for a in archive.articles())


def test_rss_paged_with_atom_link_next(server, clocked):
    archive, _clock = clocked
    url = serve(server, "/paged/feed.xml", rss([9, 8, 7], "/paged/page2.xml"), "application/rss+xml")
    serve(server, "/paged/page2.xml", rss([6, 5, 4], "page3.xml"), "application/rss+xml")
    serve(server, "/paged/page3.xml", rss([3, 2, 1], None), "application/rss+xml")
    feed = archive.add_feed(url, site="Paged", options=FeedOptions(full_text="never"))
    summary = archive.backfill(feed.id, limits=FAST)
    assert (summary.pages, summary.new_articles, summary.stopped_because) == (2, 9, "end")
    assert keys(archive) == {f"r{n}" for n in range(1, 10)}


def test_the_page_bound(server, clocked):
    archive, _clock = clocked
    url = archived_chain(server, "/bound")
    feed = archive.add_feed(url, site="Bound")
    summary = archive.backfill(feed.id, pages=2, limits=FAST)
    assert (summary.pages, summary.stopped_because) == (2, "pages")
    assert keys(archive) == {f"urn:example:e{n}" for n in range(3, 9)}
    assert server.requests("/bound/archive/1.xml") == []
    with pytest.raises(tidings.InvalidInputError):
        archive.backfill(feed.id, pages=0)


def test_a_failing_page_is_recorded_and_what_was_stored_stays(server, clocked):
    archive, _clock = clocked
    url = serve(server, "/failing/feed.xml", atom("Failing", [8, 7], '<link rel="prev-archive" href="3.xml"/>'))
    serve(server, "/failing/3.xml", atom("Failing", [6, 5], '<link rel="prev-archive" href="2.xml"/>'))
    server.route("/failing/2.xml", lambda h: h.reply(500, b"<html>oops</html>", content_type="text/html"))
    feed = archive.add_feed(url, site="Failing")
    summary = archive.backfill(feed.id, limits=FAST)
    assert summary.stopped_because == "failed"
    assert summary.pages == 1
    assert summary.failed_url == server.url("/failing/2.xml")
    assert summary.error_kind == "http_500"
    assert "oops" not in (summary.error_message or "")
    assert keys(archive) == {f"urn:example:e{n}" for n in (5, 6, 7, 8)}
    logged = [r for r in archive.store.fetch_log(feed.id) if r.error_kind == "http_500"]
    assert len(logged) == 1 and (logged[0].error_message or "").startswith("archive page: ")
    assert archive.get_feed(feed.id).error_count == 0  # the feed itself is healthy


def test_complete_feed_and_feed_without_archive(server, clocked):
    archive, _clock = clocked
    complete = serve(server, "/complete/feed.xml", atom("Complete", [2, 1], "<fh:complete/>"))
    plain = serve(server, "/plain/feed.xml", atom("Plain", [4, 3]))
    one = archive.add_feed(complete, site="Complete")
    two = archive.add_feed(plain, site="Plain")
    assert archive.backfill(one.id, limits=FAST).stopped_because == "complete"
    summary = archive.backfill(two.id, limits=FAST)
    assert (summary.pages, summary.new_articles, summary.stopped_because) == (0, 2, "no_archive")


def test_a_page_on_a_private_host_the_feed_is_not_on_is_refused(server, clocked):
    archive, _clock = clocked
    url = serve(
        server, "/elsewhere/feed.xml", atom("Elsewhere", [2], '<link rel="prev-archive" href="http://10.255.255.1/a.xml"/>')
    )
    feed = archive.add_feed(url, site="Elsewhere")
    summary = archive.backfill(feed.id, limits=FAST)
    assert summary.stopped_because == "failed"
    assert summary.error_kind == "private_address"
    assert summary.new_articles == 1


# --------------------------------------------------------------------------- the CLI


def test_cli_add_backfill_and_backfill_json(server, tmp_path):
    db = tmp_path / "cli.sqlite3"
    url = archived_chain(server, "/cli")
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(db), "add", "--backfill", "--site", "Cli", url], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "3 archive pages read, 8 new articles" in result.stdout
    result = runner.invoke(cli, ["--db", str(db), "backfill", url, "--pages", "1", "--json"], catch_exceptions=False)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["pages"], data["new_articles"], data["stopped_because"]) == (1, 0, "nothing_new")


def test_cli_backfill_exits_1_when_a_page_failed(server, tmp_path):
    db = tmp_path / "cli-failed.sqlite3"
    url = serve(server, "/cli-failed/feed.xml", atom("F", [2], '<link rel="prev-archive" href="gone.xml"/>'))
    server.route("/cli-failed/gone.xml", lambda h: h.reply(404, b"no", content_type="text/plain"))
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(db), "add", url], catch_exceptions=False).exit_code == 0
    result = runner.invoke(cli, ["--db", str(db), "backfill", "1"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "[http_404]" in result.stderr and "a page failed" in result.stdout


# --------------------------------------------------------------------------- the parser


def test_atom_archive_links_resolve_against_xml_base():
    document = (
        f'<feed xmlns="{ATOM}" xmlns:fh="{FH}" xml:base="https://news.example/feeds/"><title>t</title>'
        '<link rel="alternate" href="https://news.example/"/>'
        '<link rel="prev-archive" href="2025/05.xml"/>'
        '<link rel="http://www.iana.org/assignments/relation/next" href="?page=2"/>'
        "</feed>"
    ).encode()
    parsed = parse_feed(document, url="https://news.example/atom.xml")
    assert parsed.prev_archive == "https://news.example/feeds/2025/05.xml"
    assert parsed.next_page == "https://news.example/feeds/?page=2"
    assert parsed.complete is False
    assert parsed.link == "https://news.example/"


def test_atom_complete_and_no_links():
    parsed = parse_feed(f'<feed xmlns="{ATOM}" xmlns:fh="{FH}"><title>t</title><fh:complete/></feed>'.encode())
    assert (parsed.prev_archive, parsed.next_page, parsed.complete) == (None, None, True)
    plain = parse_feed(f'<feed xmlns="{ATOM}"><title>t</title></feed>'.encode())
    assert (plain.prev_archive, plain.next_page, plain.complete) == (None, None, False)


def test_rss_channel_atom_links_and_complete():
    document = (
        f'<rss version="2.0" xmlns:atom="{ATOM}" xmlns:fh="{FH}"><channel><title>t</title>'
        '<atom:link rel="self" href="https://news.example/feed/"/>'
        '<atom:link rel="next" href="/feed/?paged=2"/>'
        '<atom:link rel="prev-archive" href="archive/1"/>'
        "<fh:complete/>"
        "<item><title>a</title><guid>a</guid>"
        '<atom:link rel="next" href="https://elsewhere.example/item-level"/></item>'
        "</channel></rss>"
    ).encode()
    parsed = parse_feed(document, url="https://news.example/feed/")
    assert parsed.next_page == "https://news.example/feed/?paged=2"
    assert parsed.prev_archive == "https://news.example/feed/archive/1"
    assert parsed.complete is True
    assert len(parsed.entries) == 1


def test_json_feed_next_url():
    document = json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [], "next_url": "page/2.json"}
    ).encode()
    parsed = parse_feed(document, url="https://news.example/feed.json")
    assert parsed.next_page == "https://news.example/page/2.json"
    assert parsed.prev_archive is None and parsed.complete is False
