"""A scripted newsroom on a loopback server: a feed and article pages that, step by step,
publish, edit, retitle, revert, change only whitespace or a tracking parameter, take items
out (page up, 404, 410, redirect to the front page), let the oldest fall off the end and
bring one back. After each step tidings must record exactly what happened, and nothing
false."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

import tidings
from tidings.model import ArticleState

from .test_update_http import FAST, Server, server  # noqa: F401  (the loopback server fixture)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
FILLER = " ".join(["The harbour authority published its weekly figures."] * 12)  # full content: no page fetch


@dataclass
class Story:
    slug: str
    hour: int
    title: str
    body: str
    page_status: int = 200
    redirect_to: str | None = None


@dataclass
class Newsroom:
    server: Server
    stories: dict[str, Story] = field(default_factory=dict)
    listed: list[str] = field(default_factory=list)

    def url(self, slug: str) -> str:
        return self.server.url(f"/news/{slug}")

    def publish(self, slug: str, hour: int, title: str, body: str) -> None:
        self.stories[slug] = Story(slug, hour, title, body)
        self.listed.append(slug)
        self.server.route(f"/news/{slug}", lambda h, s=slug: self.page(h, s))

    def page(self, handler, slug: str) -> None:
        story = self.stories[slug]
        if story.redirect_to is not None:
            handler.reply(302, b"", {"Location": story.redirect_to})
        elif story.page_status != 200:
            handler.reply(story.page_status, b"gone", content_type="text/html")
        else:
            body = f"<html><body><article><h1>{story.title}</h1><p>{story.body}</p><p>{FILLER}</p></article></body></html>"
            handler.reply(200, body.encode(), content_type="text/html; charset=utf-8")

    def feed(self) -> bytes:
        items = []
        for slug in sorted(self.listed, key=lambda s: -self.stories[s].hour):
            story = self.stories[slug]
            when = format_datetime(T0 + timedelta(hours=story.hour))
            items.append(
                f"<item><title>{story.title}</title><link>{self.url(slug)}</link><guid>{slug}</guid>"
                f"<pubDate>{when}</pubDate><description><![CDATA[{story.body}<p>{FILLER}</p>]]></description></item>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Harbour Gazette</title>'
            + "".join(items)
            + "</channel></rss>"
        ).encode()


@pytest.fixture
def newsroom(server: Server) -> Newsroom:  # noqa: F811
    room = Newsroom(server)
    server.route("/", lambda h: h.reply(200, b"<html>front page</html>", content_type="text/html"))
    server.route("/newsroom.xml", lambda h: h.reply(200, room.feed()))
    return room


def test_the_newsroom_is_recorded_exactly(tmp_path, newsroom: Newsroom) -> None:
    clock = {"now": T0}

    def step() -> tidings.Archive:
        clock["now"] += timedelta(hours=1)
        return archive

    archive = tidings.open_archive(tmp_path / "news.sqlite3", clock=lambda: clock["now"])
    feed = archive.add_feed(newsroom.server.url("/newsroom.xml"), site="Harbour Gazette")

    def update() -> None:
        summary = step().update(due_only=False, limits=FAST)
        assert summary.failed == 0

    def article(slug: str) -> tidings.Article:
        (found,) = [a for a in archive.articles() if a.key == slug]
        return found

    def revisions(slug: str) -> list[tidings.Revision]:
        return archive.revisions(article(slug).id)

    for index, slug in enumerate("abcdefgh"):
        newsroom.publish(slug, index, f"Story {slug}", f"<p>First version of {slug}.</p>")
    newsroom.stories["b"].body = '<p>First version of <a href="https://outlet.example/x">b</a>.</p>'
    update()
    assert [len(revisions(s)) for s in "abcdefgh"] == [1] * 8

    # An edit of the body, a new title.
    newsroom.stories["c"].body = "<p>Second version of c, corrected.</p>"
    newsroom.stories["d"].title = "Story d, retitled"
    update()
    assert [r.changed for r in revisions("c")] == [(), ("body",)]
    assert [r.changed for r in revisions("d")] == [(), ("title",)]
    assert archive.current_revision(article("d").id).title == "Story d, retitled"

    # A revert: the old revision is current again, as a third sighting; no new revision.
    newsroom.stories["c"].body = "<p>First version of c.</p>"
    update()
    c = article("c")
    assert len(revisions("c")) == 2
    assert archive.current_revision(c.id).id == revisions("c")[0].id
    runs = archive.sightings(c.id)
    assert [s.revision_id for s in runs if s.source == "feed"] == [
        revisions("c")[0].id, revisions("c")[1].id, revisions("c")[0].id
    ]

    # Whitespace only, and a tracking parameter: no revision, but the bytes are kept.
    newsroom.stories["b"].body = '<p>First   version\n of <a href="https://outlet.example/x?utm_source=rss">b</a>.</p>'
    update()
    newsroom.stories["b"].body = '<p>First version of <a href="https://outlet.example/x?utm_source=mail">b</a>.</p>'
    update()
    assert len(revisions("b")) == 1
    assert any(s.raw_id is not None for s in archive.sightings(article("b").id))

    # Taken out while older items remain: page still up (missing), 404 and 410 (deleted),
    # a redirect to the front page (deleted).
    newsroom.stories["e"].page_status = 404
    newsroom.stories["f"].page_status = 410
    newsroom.stories["g"].redirect_to = newsroom.server.url("/")
    for slug in "defg":
        newsroom.listed.remove(slug)
    update()
    assert article("d").state is ArticleState.MISSING
    assert [article(s).state for s in "efg"] == [ArticleState.DELETED] * 3
    deleted = archive.state_changes(article("e").id)
    assert [(e.old_state, e.new_state) for e in deleted] == [
        (ArticleState.PRESENT, ArticleState.MISSING), (ArticleState.MISSING, ArticleState.DELETED)
    ]
    assert deleted[-1].evidence["status"] == 404
    assert archive.state_changes(article("g").id)[-1].evidence["reason"] == "the link redirects to the site's front page"
    assert [article(s).state for s in "abch"] == [ArticleState.PRESENT] * 4  # no false ones

    # The oldest falls off the end as a new one comes: it stays present.
    newsroom.listed.remove("a")
    newsroom.publish("i", 9, "Story i", "<p>First version of i.</p>")
    update()
    assert article("a").state is ArticleState.PRESENT
    assert archive.state_changes(article("a").id) == []

    # A dropped item comes back: present again, the change recorded.
    newsroom.listed.append("d")
    update()
    assert article("d").state is ArticleState.PRESENT
    assert [e.new_state for e in archive.state_changes(article("d").id)] == [ArticleState.MISSING, ArticleState.PRESENT]
    # Nothing is ever removed: every article is still there.
    assert archive.stats().articles == 9
    assert archive.get_feed(feed.id).error_count == 0
    e_id, c_id = article("e").id, article("c").id
    archive.close()
    # The command line tells the same story.
    from click.testing import CliRunner

    from tidings.cli import cli

    db = str(tmp_path / "news.sqlite3")
    text = CliRunner().invoke(cli, ["--db", db, "history", str(e_id), "--no-color"]).stdout
    assert "state: deleted" in text and "missing → deleted: the link answers 404" in text
    record = __import__("json").loads(CliRunner().invoke(cli, ["--db", db, "history", str(c_id), "--json"]).stdout)
    assert [g["revision_id"] for g in record["sightings"] if g["source"] == "feed"][-1] == record["revisions"][0]["id"]
    assert record["revisions"][1]["changed"] == ["body"]
