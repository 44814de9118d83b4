"""History in the web app, its feeds, its JSON API and the JSON Lines export: an article's
state with its evidence, its sightings and revisions, and the recent changes of the archive
(edits, disappearances, returns), newest first, paged, and as Atom and JSON feeds."""

from __future__ import annotations

import io
import json
import re
import warnings
from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree

import tidings
from tidings.history import fingerprint
from tidings.model import ArticleState, NewRevision, RevisionSource

warnings.filterwarnings("ignore", message=".*httpx.*", category=DeprecationWarning)
from starlette.testclient import TestClient  # noqa: E402

from tidings.web import create_app  # noqa: E402

from .test_newsroom import Newsroom, newsroom  # noqa: E402,F401  (the scripted newsroom)
from .test_update_http import FAST, Server, server  # noqa: E402,F401  (the loopback server fixture)

T0 = datetime(2026, 3, 1, 8, tzinfo=timezone.utc)
ATOM = "{http://www.w3.org/2005/Atom}"
SITE = "RFI/华语"  # a "/" in a site's name: one percent-encoded path segment


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def feed_revision(title: str, html: str, minutes: int, **extra: object) -> NewRevision:
    return NewRevision(at(minutes), title, html, RevisionSource.FEED, **extra)  # type: ignore[arg-type]


@pytest.fixture
def history(db):  # type: ignore[no-untyped-def]
    """An archive in which one article is edited, reverted, seen with other bytes, goes
    missing and is deleted; another (of another site) goes missing and comes back."""
    with tidings.open_archive(db) as archive:
        store = archive.store
        with store.transaction():
            feed = store.add_feed("https://rfi.example/feed.xml", SITE)
            story = store.add_article(store.site(SITE).id, "s", "https://rfi.example/s", at(0), at(0), feed.id)
            first, _ = store.add_revision(story.id, feed_revision("停火谈判", "<p>谈判开始。</p>", 0), feed_id=feed.id)
            store.touch_articles([story.id], at(30), feed.id)
            second, _ = store.add_revision(
                story.id, feed_revision("停火谈判破裂", "<p>谈判破裂。</p>", 60, changed=("title", "body")), feed_id=feed.id
            )
            store.add_revision(story.id, feed_revision("停火谈判", "<p>谈判开始。</p>", 120), feed_id=feed.id)  # a revert
            variant = feed_revision("停火谈判", "<p>谈判开始。</p>\n<div class=share>分享</div>", 150)
            store.see_revision(story.id, first.id, source="feed", seen=at(150), feed_id=feed.id, raw=variant, current=True)
            store.change_state(
                story.id, ArticleState.MISSING, at(180),
                {"reason": "no longer in its feed while older items still are", "feed": feed.url},
            )
            store.change_state(
                story.id, ArticleState.DELETED, at(181),
                {"reason": "the link answers 404", "status": 404, "url": "https://rfi.example/s",
                 "final_url": "https://rfi.example/s"},
            )
            other = store.add_article(store.site("Gazette").id, "g", "https://gazette.example/g", at(0), at(0))
            store.add_revision(other.id, feed_revision("Harbour", "<p>Ships.</p>", 0))
            store.change_state(other.id, ArticleState.MISSING, at(200), {"reason": "gone from the feed"})
            store.change_state(other.id, ArticleState.PRESENT, at(240), {"reason": "listed in its feed again"})
        archive.derive()
        for r in store.revisions(story.id):  # as an update keeps them: taken from the clean HTML
            store.set_revision_history(r.id, fingerprint(r.title, r.clean_html or ""), r.changed)
        prints = [r.fingerprint for r in store.revisions(story.id)]
    client = TestClient(create_app(db, base_url="https://news.example/"), raise_server_exceptions=False)
    return client, db, {"story": story.id, "other": other.id, "first": first.id, "second": second.id, "prints": prints}


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_article_page_shows_state_evidence_sightings_and_revisions(history) -> None:  # type: ignore[no-untyped-def]
    client, _, ids = history
    response = client.get(f"/article/{ids['story']}?lang=en")
    assert response.status_code == 200
    assert "script-src" not in response.headers["content-security-policy"]
    page = response.text
    words = text_of(page)
    assert "deleted at 2026-03-01 19:01 (UTC+8) · 2026-03-01 11:01 UTC" in words  # China time too
    assert "the link answers 404" in words and "HTTP status 404" in words
    assert 'href="https://rfi.example/s"' in page  # where the link led
    # Four sightings: A twice, B, A again (the revert), A with other bytes.
    sightings = page.split('<ul class="list timeline">', 1)[1].split("</ul>", 1)[0].split("<li>")[1:]
    assert len(sightings) == 4
    assert "2×" in sightings[0] and "version 1" in sightings[0]
    assert "version 2" in sightings[1] and "back to an older version" not in sightings[1]
    assert "version 1" in sightings[2] and "back to an older version" in sightings[2]
    assert "different bytes, same content" in sightings[3]
    # Revisions with what changed, and the change linked to its diff.
    assert f'id="revision-{ids["second"]}"' in page
    assert "changed: title body" in words
    diff = f'/article/{ids["story"]}/diff?from={ids["first"]}&amp;to={ids["second"]}'
    assert diff in page
    assert client.get(diff.replace("&amp;", "&")).status_code == 200
    # The state changes, each with an anchor for the feeds of changes.
    assert words.count("present → missing") == 1 and "missing → deleted" in words
    assert re.search(r'id="event-\d+"', page)


def test_the_article_page_in_chinese(history) -> None:  # type: ignore[no-untyped-def]
    client, _, ids = history
    words = text_of(client.get(f"/article/{ids['story']}?lang=zh").text)
    assert "被删除" in words and "回到了旧版本" in words and "看到的记录" in words


def test_recent_changes_newest_first_with_edits_and_disappearances(history) -> None:  # type: ignore[no-untyped-def]
    client, _, ids = history
    page = client.get("/changes?lang=en").text
    words = text_of(page)
    order = [words.index(w) for w in ("Back Harbour", "Missing Harbour", "Deleted 停火谈判", "Missing 停火谈判", "Edited 停火谈判破裂")]
    assert order == sorted(order)
    assert "listed in its feed again" in words and "the link answers 404" in words
    assert "changed: title body" in words
    assert f'/article/{ids["story"]}/diff?from={ids["first"]}&amp;to={ids["second"]}' in page
    # The revert is the content coming back, not an edit: only one edit is listed.
    assert words.count("Edited") == 1
    assert '<link rel="alternate" type="application/atom+xml" title="Recent changes: tidings" href="/changes.atom">' in page
    # Linked from the home page and the site's page.
    assert 'href="/changes"' in client.get("/").text
    assert 'href="/site/RFI%2F%E5%8D%8E%E8%AF%AD/changes"' in client.get("/site/RFI%2F%E5%8D%8E%E8%AF%AD").text


def test_recent_changes_of_one_site_and_pages(history) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = history
    words = text_of(client.get("/site/RFI%2F%E5%8D%8E%E8%AF%AD/changes?lang=en").text)
    assert "Harbour" not in words and "Deleted 停火谈判" in words and "Edited" in words
    assert client.get("/site/nowhere/changes").status_code == 404
    # Paged with a cursor: five changes, two a page, none lost, none twice.
    seen = []
    cursor = None
    for _ in range(5):
        data = client.get("/api/changes", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [(c["kind"], c["id"]) for c in data["changes"]]
        cursor = data["next_cursor"]
        if cursor is None:
            break
    everything = client.get("/api/changes").json()["changes"]
    assert seen == [(c["kind"], c["id"]) for c in everything] and len(seen) == 5
    assert client.get("/changes", params={"cursor": "not-a-cursor"}).status_code == 400
    assert client.get("/api/changes", params={"site": "nowhere"}).status_code == 400


def test_feeds_of_changes_have_one_stable_entry_per_change(history) -> None:  # type: ignore[no-untyped-def]
    client, _, ids = history
    response = client.get("/site/RFI%2F%E5%8D%8E%E8%AF%AD/changes.atom?lang=en")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = etree.fromstring(response.content)
    assert feed.findtext(f"{ATOM}title") == "Changes at RFI/华语"
    self_link = feed.find(f"{ATOM}link[@rel='self']")
    assert self_link is not None and self_link.get("href") == "https://news.example/site/RFI%2F%E5%8D%8E%E8%AF%AD/changes.atom?lang=en"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Deleted: 停火谈判", "Missing: 停火谈判", "Edited: 停火谈判破裂"]
    edit = entries[-1]
    assert edit.findtext(f"{ATOM}id") == f"https://news.example/article/{ids['story']}/diff?from={ids['first']}&to={ids['second']}"
    assert "title, body" in (edit.findtext(f"{ATOM}content") or "")
    assert re.fullmatch(rf"https://news\.example/article/{ids['story']}#event-\d+", entries[0].findtext(f"{ATOM}id") or "")
    assert "the link answers 404" in (entries[0].findtext(f"{ATOM}content") or "")
    # The same ids whatever the language and in the JSON Feed.
    again = etree.fromstring(client.get("/site/RFI%2F%E5%8D%8E%E8%AF%AD/changes.atom?lang=zh").content)
    assert [e.findtext(f"{ATOM}id") for e in again.findall(f"{ATOM}entry")] == [e.findtext(f"{ATOM}id") for e in entries]
    items = client.get("/changes.json").json()["items"]
    assert [i["id"] for i in items][2:] == [e.findtext(f"{ATOM}id") for e in entries]
    assert items[0]["tags"] == ["Gazette", "present"]


def test_the_json_api_gains_state_sightings_events_and_changes(history) -> None:  # type: ignore[no-untyped-def]
    client, _, ids = history
    article = client.get(f"/api/articles/{ids['story']}").json()
    assert article["state"] == "deleted" and article["state_since"] == "2026-03-01T11:01:00Z"
    assert article["current_revision_id"] == ids["first"]
    sightings = client.get(f"/api/articles/{ids['story']}/sightings").json()
    assert [(s["revision_id"], s["times"]) for s in sightings] == [
        (ids["first"], 2), (ids["second"], 1), (ids["first"], 1), (ids["first"], 1)
    ]
    assert sightings[-1]["raw_id"] is not None and sightings[0]["last_seen"] == "2026-03-01T08:30:00Z"
    events = client.get(f"/api/articles/{ids['story']}/events").json()
    assert [(e["old_state"], e["new_state"]) for e in events] == [("present", "missing"), ("missing", "deleted")]
    assert events[1]["evidence"]["status"] == 404
    revisions = client.get(f"/api/articles/{ids['story']}/revisions").json()
    assert [r["changed"] for r in revisions] == [[], ["title", "body"]]
    assert [r["fingerprint"] for r in revisions] == ids["prints"] and all(ids["prints"])
    changes = client.get("/api/changes", params={"site": SITE}).json()["changes"]
    assert [c["kind"] for c in changes] == ["state", "state", "edit"]
    assert changes[2]["diff"] == f"/article/{ids['story']}/diff?from={ids['first']}&to={ids['second']}"
    assert client.get("/api/articles/999/sightings").status_code == 404
    described = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/articles/{id}/sightings", "/api/articles/{id}/events", "/api/changes"} <= set(described)


def test_jsonl_export_gains_sightings_events_and_revision_history(history) -> None:  # type: ignore[no-untyped-def]
    _, db, ids = history
    out = io.StringIO()
    with tidings.open_archive(db) as archive:
        archive.export_jsonl(out)
    records = {r["id"]: r for r in map(json.loads, out.getvalue().splitlines())}
    story = records[ids["story"]]
    assert story["state"] == "deleted" and story["state_since"] == "2026-03-01T11:01:00Z"
    assert [r["changed"] for r in story["revisions"]] == [[], ["title", "body"]]
    assert [r["fingerprint"] for r in story["revisions"]] == ids["prints"] and all(ids["prints"])
    sightings = story["sightings"]
    assert [(s["revision_id"], s["source"], s["times"]) for s in sightings] == [
        (ids["first"], "feed", 2), (ids["second"], "feed", 1), (ids["first"], "feed", 1), (ids["first"], "feed", 1)
    ]
    assert sightings[0]["raw"] is None and sightings[0]["first_seen"] == "2026-03-01T08:00:00Z"
    assert sightings[3]["raw"] == {"title": "停火谈判", "content_html": "<p>谈判开始。</p>\n<div class=share>分享</div>"}
    assert set(sightings[0]) == {"id", "revision_id", "source", "first_seen", "last_seen", "times", "feed_id", "status", "raw_id", "raw"}
    assert [(e["at"], e["old_state"], e["new_state"]) for e in story["events"]] == [
        ("2026-03-01T11:00:00Z", "present", "missing"), ("2026-03-01T11:01:00Z", "missing", "deleted")
    ]
    assert story["events"][1]["evidence"]["status"] == 404
    assert records[ids["other"]]["events"][-1]["evidence"] == {"reason": "listed in its feed again"}


def test_a_private_archive_guards_the_feeds_of_changes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "private.sqlite3"
    tidings.open_archive(db).close()
    client = TestClient(create_app(db, token="sekrit", private=True), raise_server_exceptions=False)
    assert client.get("/changes.atom").status_code == 401  # a feed reader is asked for the token
    assert client.get("/changes", follow_redirects=False).status_code == 303
    assert client.get("/changes.atom", auth=("", "sekrit")).status_code == 200


def test_a_loopback_newsroom_seen_through_the_web(tmp_path, newsroom: Newsroom) -> None:  # noqa: F811
    """Real updates of a real feed: an edit, a page that answers 404, a return; what the
    web shows is what happened, and the item that fell off the end shows nothing."""
    clock = {"now": T0}
    archive = tidings.open_archive(tmp_path / "room.sqlite3", clock=lambda: clock["now"])
    archive.add_feed(newsroom.server.url("/newsroom.xml"), site="Harbour Gazette")

    def update() -> None:
        clock["now"] += timedelta(hours=1)
        assert archive.update(due_only=False, limits=FAST).failed == 0

    for index, slug in enumerate("abcde"):
        newsroom.publish(slug, index, f"Story {slug}", f"<p>First version of {slug}.</p>")
    update()
    newsroom.stories["c"].body = "<p>Second version of c, corrected.</p>"
    update()
    newsroom.stories["d"].page_status = 404
    newsroom.listed.remove("d")
    newsroom.listed.remove("a")  # the oldest falls off the end
    update()
    ids = {a.key: a.id for a in archive.articles()}
    archive.close()
    client = TestClient(create_app(tmp_path / "room.sqlite3"), raise_server_exceptions=False)
    changes = client.get("/api/changes").json()["changes"]
    assert [(c["kind"], c["article_id"], c.get("new_state")) for c in changes] == [
        ("state", ids["d"], "deleted"), ("state", ids["d"], "missing"), ("edit", ids["c"], None)
    ]
    assert changes[2]["changed"] == ["body"]
    page = text_of(client.get(f"/article/{ids['d']}?lang=en").text)
    assert "the link answers 404" in page and "deleted at" in page
    assert "deleted" not in text_of(client.get(f"/article/{ids['a']}?lang=en").text).split("State:")[1][:12]
    entries = etree.fromstring(client.get("/site/Harbour%20Gazette/changes.atom?lang=en").content).findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Deleted: Story d", "Missing: Story d", "Edited: Story c"]
