"""Looking again after the feed moves on: edits caught through the page, a polite round
bounded per host, a host that answers 429 left alone; the schedule decays with age."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from click.testing import CliRunner

import tidings
from tidings.cli import cli
from tidings.history import recheck_due
from tidings.model import FeedOptions

from .test_update_http import FAST, Server, _routes_did_not_raise, server  # noqa: F401  (fixtures)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
FILLER = " ".join(["The harbour authority published its weekly figures."] * 12)


def page(text: str) -> bytes:
    return f"<html><body><article><h1>Story</h1><p>{text}</p><p>{FILLER}</p></article></body></html>".encode()


def feed_of(server: Server, slugs: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Story {s}</title><link>{server.url('/page/' + s)}</link><guid>{s}</guid>"
        f"<pubDate>{format_datetime(T0)}</pubDate><description><![CDATA[<p>{s}: {FILLER}</p>]]></description></item>"
        for s in slugs
    )
    return f'<rss version="2.0"><channel><title>Gazette</title>{items}</channel></rss>'.encode()


def test_the_schedule_decays_with_age():
    first = T0
    assert not recheck_due(first, None, first + timedelta(minutes=10))
    assert recheck_due(first, None, first + timedelta(minutes=31))
    assert not recheck_due(first, first + timedelta(hours=7), first + timedelta(hours=7, minutes=40))
    assert recheck_due(first, first + timedelta(hours=7), first + timedelta(hours=8, minutes=1))
    assert not recheck_due(first, first + timedelta(days=3), first + timedelta(days=3, hours=5))
    assert recheck_due(first, first + timedelta(days=3), first + timedelta(days=3, hours=6))
    assert not recheck_due(first, first + timedelta(days=20), first + timedelta(days=31))  # too old: never


def test_an_edit_after_the_feed_dropped_the_article_is_caught(db, tmp_path, server: Server):  # noqa: F811
    texts = {"a": "First version.", "b": "Other story."}
    listed = ["a", "b"]
    for slug in texts:
        server.route(f"/page/{slug}", lambda h, s=slug: h.reply(200, page(texts[s]), content_type="text/html"))
    feed_url = server.route("/recheck.xml", lambda h: h.reply(200, feed_of(server, listed)))
    clock = {"now": T0}
    with tidings.open_archive(db, clock=lambda: clock["now"]) as archive:
        archive.add_feed(feed_url, site="Gazette")
        archive.update(limits=FAST)
        listed.remove("a")  # the feed moves on
        clock["now"] += timedelta(minutes=5)
        archive.update(due_only=False, limits=FAST)
        assert archive.recheck(limits=FAST).due == 0  # not yet due: 30 minutes while young
        texts["a"] = "Second version, corrected after publication."
        clock["now"] += timedelta(minutes=40)
        summary = archive.recheck(limits=FAST)
        assert summary.due == 2 and summary.checked == 2 and summary.changed == 2  # first looks at both pages
        (a,) = [x for x in archive.articles() if x.key == "a"]
        extracted = [r for r in archive.revisions(a.id) if r.source.value == "extracted"]
        assert "Second version" in extracted[-1].content_html
        # Again, once due: nothing changed, so no new revision, and the look is a sighting.
        clock["now"] += timedelta(minutes=31)
        again = archive.recheck(limits=FAST)
        assert again.checked == 2 and again.changed == 0
        assert len(archive.revisions(a.id)) == 2
        assert any(s.source == "extracted" and s.times >= 2 for s in archive.sightings(a.id))


def test_a_round_is_bounded_per_host_and_backs_off_a_host_that_says_429(tmp_path, server: Server):  # noqa: F811
    slugs = [f"s{i}" for i in range(1000)]
    hits = {"count": 0, "busy": 0}
    lock = threading.Lock()

    def busy_page(handler) -> None:
        with lock:
            hits["count"] += 1
        handler.reply(429, b"slow down", {"Retry-After": "120"}, content_type="text/plain")

    for slug in slugs:
        server.route(f"/page/{slug}", busy_page)
    feed_url = server.route("/many.xml", lambda h: h.reply(200, feed_of(server, slugs)))
    clock = {"now": T0}
    db = tmp_path / "a.sqlite3"
    with tidings.open_archive(db, clock=lambda: clock["now"]) as archive:
        archive.add_feed(feed_url, site="Gazette", options=FeedOptions(full_text="never"))
        archive.update(limits=FAST)
        assert archive.stats().articles == 1000
        clock["now"] += timedelta(minutes=45)
        summary = archive.recheck(per_host=40, limits=FAST)
    assert summary.due == 1000
    assert hits["count"] <= 40  # the per-host bound, and fewer once the host said 429
    assert summary.backed_off == ("127.0.0.1",)
    assert summary.left >= 960
    # The command says so too; a feed with recheck off is left alone.
    result = CliRunner().invoke(cli, ["--db", str(db), "recheck", "--all", "--per-host", "5", "--json"])
    assert result.exit_code == 0


def test_a_feed_with_recheck_off_is_not_looked_at_again(db, tmp_path, server: Server):  # noqa: F811
    hits = {"count": 0}

    def counted(handler) -> None:
        hits["count"] += 1
        handler.reply(200, page("x"), content_type="text/html")

    server.route("/page/off", counted)
    feed_url = server.route("/off.xml", lambda h: h.reply(200, feed_of(server, ["off"])))
    clock = {"now": T0}
    with tidings.open_archive(db, clock=lambda: clock["now"]) as archive:
        archive.add_feed(feed_url, site="Gazette", options=FeedOptions(recheck=False))
        archive.update(limits=FAST)
        clock["now"] += timedelta(hours=2)
        assert archive.recheck(every=True, limits=FAST).due == 0
    assert hits["count"] == 0
