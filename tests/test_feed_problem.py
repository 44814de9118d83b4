"""A broken item costs only itself, and what could not be read is shown on the feed:
through a real loopback server, the store, `tidings feeds` and the web app's API."""

from __future__ import annotations

import json

from click.testing import CliRunner
from starlette.testclient import TestClient

import tidings
from tidings.cli import cli
from tidings.web import create_app

from .test_update_http import FAST, Server, server  # noqa: F401  (the loopback server fixture)


def rss_items(titles: list[str], broken: dict[int, str] | None = None) -> bytes:
    items = []
    for index, title in enumerate(titles):
        body = (broken or {}).get(index)
        items.append(
            body
            if body is not None
            else f"<item><title>{title}</title><link>https://outlet.example/{index}</link>"
            f"<guid>item-{index}</guid><description>Text {index}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Outlet</title>'
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def test_one_malformed_item_does_not_drop_the_items_after_it(tmp_path, server: Server):  # noqa: F811
    titles = [f"Story {i}" for i in range(11)]
    data = rss_items(titles, {1: "<item><title>Profits < expectations</title><link>https://outlet.example/1</link></item>"})
    url = server.route("/bare-lt.xml", lambda h: h.reply(200, data))
    with tidings.open_archive(tmp_path / "a.sqlite3") as archive:
        feed = archive.add_feed(url, site="Outlet")
        summary = archive.update(limits=FAST)
        assert summary.new_articles == 11  # the bare "<" is repaired: every item is read
        stored = archive.get_feed(feed.id)
        assert stored.error_kind is None and stored.problem is None


def test_an_unreadable_item_is_skipped_and_the_feed_says_so(tmp_path, server: Server):  # noqa: F811
    deep = "<item><title>Deep</title>" + "<x>" * 100_000 + "</x>" * 100_000 + "</item>"
    titles = [f"Story {i}" for i in range(11)]
    served = {"data": rss_items(titles, {1: deep})}
    url = server.route("/deep.xml", lambda h: h.reply(200, served["data"]))
    db = tmp_path / "a.sqlite3"
    with tidings.open_archive(db) as archive:
        feed = archive.add_feed(url, site="Outlet")
        summary = archive.update(limits=FAST)
        assert summary.new_articles == 10 and summary.failed == 0
        stored = archive.get_feed(feed.id)
        assert stored.problem == "1 of 11 items could not be read and were skipped"
        assert stored.error_kind is None  # the feed is healthy: what it could read is stored
    result = CliRunner().invoke(cli, ["--db", str(db), "feeds"])
    assert "problem: 1 of 11 items could not be read and were skipped" in result.stdout
    assert "ok, with a problem" in result.stdout
    listed = json.loads(CliRunner().invoke(cli, ["--db", str(db), "feeds", "--json"]).stdout)
    assert listed[0]["problem"] == "1 of 11 items could not be read and were skipped"
    with TestClient(create_app(db)) as client:
        api = client.get("/api/feeds").json()
        assert api[0]["problem"] == "1 of 11 items could not be read and were skipped"
        assert "1 of 11 items could not be read" in client.get("/").text
    # The outlet fixes its feed: the next fetch reads everything and the problem is gone.
    served["data"] = rss_items(titles)
    with tidings.open_archive(db) as archive:
        archive.update(due_only=False, limits=FAST)
        assert archive.get_feed(feed.id).problem is None
        assert archive.stats().articles == 11
