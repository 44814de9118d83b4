"""A kill -9 in the middle of `tidings update` loses nothing that was committed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import tidings

FEEDS = 60
ITEMS = 40


def feed_body(index: int) -> bytes:
    items = "".join(
        f"<item><title>第{index}号源 第{n}条 新闻</title><link>https://crash.example/{index}/{n}</link>"
        f"<guid>crash-{index}-{n}</guid><pubDate>Wed, 08 Nov 2023 09:{n % 60:02d}:00 +0800</pubDate>"
        f"<description><![CDATA[<p>{'正文' * 200}</p>]]></description></item>"
        for n in range(ITEMS)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>源{index}</title>'
        f"<language>zh-cn</language>{items}</channel></rss>"
    ).encode()


class SlowFeeds(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        time.sleep(0.05)
        index = int(self.path.strip("/").split(".")[0])
        body = feed_body(index)
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def count(db: Path, sql: str) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_kill_during_update_keeps_committed_feeds_and_the_next_update_completes(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowFeeds)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    db = tmp_path / "db.sqlite3"
    try:
        with tidings.open_archive(db) as archive:
            for index in range(FEEDS):
                archive.add_feed(
                    f"{base}/{index}.xml",
                    site=f"源{index % 5}",
                    options=tidings.FeedOptions(full_text="never"),
                )
        env = dict(os.environ, PYTHONPATH=str(Path(tidings.__file__).parent.parent))
        process = subprocess.Popen(
            [sys.executable, "-m", "tidings", "--db", str(db), "update", "--all"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        seen = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            seen = count(db, "SELECT count(*) FROM articles")
            if seen >= ITEMS * 5:
                break
            time.sleep(0.01)
        assert process.poll() is None, "the update finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        kept = count(db, "SELECT count(*) FROM articles")
        assert seen <= kept < FEEDS * ITEMS
        # Whole feeds only: every feed has all of its items or none.
        partial = count(
            db,
            f"SELECT count(*) FROM (SELECT feed_id, count(*) AS n FROM articles GROUP BY feed_id"
            f" HAVING n != {ITEMS})",
        )
        assert partial == 0

        with tidings.open_archive(db) as archive:
            summary = archive.update(due_only=False)
            assert summary.failed == 0
            assert summary.new_articles == FEEDS * ITEMS - kept
            stats = archive.stats()
            assert (stats.articles, stats.revisions) == (FEEDS * ITEMS, FEEDS * ITEMS)
        assert count(db, "SELECT count(DISTINCT key) FROM articles") == FEEDS * ITEMS
    finally:
        server.shutdown()
