"""Subscriptions through the CLI: add, remove, feeds, OPML, presets, update, run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

import tidings
from tidings.cli import cli


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def write_feed(path: Path, titles: list[str]) -> None:
    items = "".join(
        f"<item><title>{t}</title><link>https://local.example/{i}</link><guid>local-{i}</guid>"
        f"<category>{'📢 精选' if i % 2 else '普通'}</category><description>&lt;p&gt;{t}&lt;/p&gt;</description></item>"
        for i, t in enumerate(titles)
    )
    path.write_text(
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>本地源</title>'
        f"<language>zh-cn</language>{items}</channel></rss>",
        "utf-8",
    )


def test_add_update_feeds_remove(tmp_path):
    db = tmp_path / "db.sqlite3"
    feed = tmp_path / "local.xml"
    write_feed(feed, ["第一条", "第二条", "第三条"])

    code, out, _ = run(db, "add", str(feed), "--site", "本地", "--interval", "30")
    assert code == 0 and "本地" in out
    code, _, err = run(db, "add", feed.as_uri())
    assert code == 2 and "already subscribed" in err

    code, out, _ = run(db, "update", "--json")
    summary = json.loads(out)
    assert (summary["fetched"], summary["new_articles"], summary["failed"]) == (1, 3, 0)
    code, out, _ = run(db, "update")  # nothing is due any more
    assert "0 feeds" in out
    code, out, _ = run(db, "update", "--all", "--json")
    assert json.loads(out)["not_modified"] == 1

    code, out, _ = run(db, "feeds", "--json")
    (record,) = json.loads(out)
    assert record["site"] == "本地" and record["articles"] == 3 and record["state"] == "active"
    assert record["interval_minutes"] == 30 and record["consecutive_errors"] == 0
    assert record["last_success"] is not None and record["next_fetch"] is not None
    code, out, _ = run(db, "feeds")
    assert "3 articles" in out and "ok" in out

    code, out, _ = run(db, "remove", str(record["id"]))
    assert code == 0 and "3 articles kept" in out
    code, out, _ = run(db, "stats", "--json")
    assert json.loads(out)["articles"] == 3 and json.loads(out)["feeds"] == 0


def test_keep_rule_from_the_command_line(tmp_path):
    db = tmp_path / "db.sqlite3"
    feed = tmp_path / "local.xml"
    write_feed(feed, ["零", "一", "二", "三"])
    assert run(db, "add", str(feed), "--keep-category", tidings.rules.EMOJI)[0] == 0
    code, out, _ = run(db, "update", "--json")
    assert json.loads(out)["new_articles"] == 2  # the items with an emoji category
    code, _, err = run(db, "add", str(tmp_path / "other.xml"), "--block-title", "(")
    assert code == 2 and "not a regular expression" in err


def test_a_failing_feed_is_recorded_and_shown(tmp_path):
    db = tmp_path / "db.sqlite3"
    page = tmp_path / "page.xml"
    page.write_text("<html><head><title>Moved</title></head></html>", "utf-8")
    run(db, "add", str(page))
    run(db, "add", "--no-check", str(tmp_path / "missing.xml"))
    code, out, err = run(db, "update")
    assert code == 1  # a script can trust it: some feed failed
    assert "2 failed" in out
    assert "2 feeds failed (every one)" in err
    assert "[not_a_feed]" in err and "[not_found]" in err
    code, out, _ = run(db, "feeds", "--json")
    kinds = sorted(f["error_kind"] for f in json.loads(out))
    assert kinds == ["not_a_feed", "not_found"]
    assert all(f["state"] == "active" and f["consecutive_errors"] == 1 for f in json.loads(out))


def test_opml_round_trip(tmp_path):
    db = tmp_path / "db.sqlite3"
    opml = tmp_path / "subs.opml"
    opml.write_text(
        """<?xml version="1.0"?><opml version="1.0"><body>
        <outline text="法广"><outline type="rss" text="RFI" xmlUrl="https://feedx.net/rss/rfi.xml"/></outline>
        <outline type="rss" text="BBC" xmlUrl="https://feedx.net/rss/bbc.xml"/>
        <outline text="no feed here"/></body></opml>""",
        "utf-8",
    )
    code, out, _ = run(db, "import-opml", str(opml))
    assert code == 0 and "2 feeds added, 0 already subscribed" in out
    assert "0 feeds added, 2 already subscribed" in run(db, "import-opml", str(opml))[1]
    code, out, _ = run(db, "export", "--format", "opml")
    assert 'xmlUrl="https://feedx.net/rss/rfi.xml"' in out and 'text="法广"' in out
    again = tmp_path / "again.opml"
    again.write_text(out, "utf-8")
    db2 = tmp_path / "db2.sqlite3"
    run(db2, "import-opml", str(again))
    code, out, _ = run(db2, "feeds", "--json")
    assert sorted((f["site"], f["url"]) for f in json.loads(out)) == [
        ("BBC", "https://feedx.net/rss/bbc.xml"),
        ("法广", "https://feedx.net/rss/rfi.xml"),
    ]
    code, _, err = run(db, "import-opml", str(tmp_path / "subs.opml").replace("subs", "nope"))
    assert code == 2


def test_preset_subscribes_to_the_original_feeds(tmp_path):
    db = tmp_path / "db.sqlite3"
    code, out, _ = run(db, "add", "--preset")
    assert code == 0 and "9 feeds added" in out
    code, out, _ = run(db, "feeds", "--json")
    feeds = {f["site"]: f for f in json.loads(out)}
    assert feeds["法广"]["url"] == "https://feedx.net/rss/rfi.xml"
    assert feeds["中国数字时代"]["options"]["keep_category"] == tidings.rules.EMOJI
    assert "0 feeds added" in run(db, "add", "--preset")[1]
    assert run(db, "add")[0] == 2  # neither a URL nor --preset


def test_run_updates_then_stops_cleanly_on_sigterm(tmp_path):
    db = tmp_path / "db.sqlite3"
    feed = tmp_path / "local.xml"
    write_feed(feed, ["一", "二"])
    run(db, "add", str(feed))
    env = dict(os.environ, PYTHONPATH=str(Path(tidings.__file__).parent.parent))
    process = subprocess.Popen(
        [sys.executable, "-m", "tidings", "--db", str(db), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        articles = 0
        while time.monotonic() < deadline and articles < 2:
            time.sleep(0.1)
            with tidings.open_archive(db) as archive:
                articles = archive.stats().articles
        assert articles == 2
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err


def test_pause_and_resume(tmp_path):
    db = tmp_path / "db.sqlite3"
    feed = tmp_path / "local.xml"
    write_feed(feed, ["第一条"])
    run(db, "add", str(feed), "--site", "本地")
    code, out, _ = run(db, "pause", "1")
    assert code == 0 and "paused" in out
    code, out, _ = run(db, "update", "--all", "--json")
    assert json.loads(out)["feeds"] == 0  # a paused feed is not fetched
    code, out, _ = run(db, "update", "--json")
    assert json.loads(out)["feeds"] == 0
    code, out, _ = run(db, "resume", feed.as_uri())
    assert code == 0 and "active" in out
    code, out, _ = run(db, "update", "--json")  # due at once
    assert json.loads(out)["new_articles"] == 1
    code, _, err = run(db, "pause", "99")
    assert code != 0 and "99" in err
