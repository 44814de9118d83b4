"""Many workers on one PostgreSQL archive: feeds leased, each fetched once, nothing lost
when a worker is killed with -9.

A loopback server serves a few hundred small feeds, each answer a little late so that a
pass takes a while, and counts the requests per feed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

import tidings
from tidings.cli import cli
from tidings.model import FeedOptions

from .loopback import LateHost

FEEDS = 240
ITEMS = 3
T0_WORKERS = __import__("datetime").datetime(2026, 3, 1, tzinfo=__import__("datetime").timezone.utc)


@pytest.fixture
def feeds_server() -> Iterator[LateHost]:
    server = LateHost("127.0.0.1", latency=0.05, items=ITEMS).start()
    yield server
    server.stop()


def feed_numbers(server: LateHost) -> list[int]:
    """The feeds the server was asked for (``/feed-N.xml``), by number, once each."""
    return sorted(int(path.strip("/").removesuffix(".xml").split("-")[1]) for path in server.hits)


@pytest.fixture
def shared(pg_url: str, feeds_server: LateHost) -> str:
    port = feeds_server.server_address[1]
    with tidings.open_archive(pg_url) as archive:
        with archive.store.transaction():
            for number in range(FEEDS):
                archive.store.add_feed(
                    f"http://127.0.0.1:{port}/feed-{number}.xml", f"Site {number % 7}", options=FeedOptions(full_text="never")
                )
    return pg_url


def workers(url: str, count: int, *args: str) -> list[subprocess.Popen[bytes]]:
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root / "src"))
    return [
        subprocess.Popen(
            [sys.executable, "-m", "tidings", "--db", url, "update", *args],
            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        for _ in range(count)
    ]


def counts(url: str) -> tuple[int, int, int]:
    with tidings.open_archive(url) as archive:
        stats = archive.stats()
        fetched = sum(1 for feed in archive.feeds() if feed.last_fetch is not None)
    return stats.articles, stats.revisions, fetched


def test_workers_started_at_once_fetch_every_feed_exactly_once(shared: str, feeds_server: LateHost) -> None:
    started = workers(shared, 4, "--all")
    for process in started:
        _out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err.decode()[-2000:]
    assert feed_numbers(feeds_server) == list(range(FEEDS))
    assert set(feeds_server.hits.values()) == {1}  # no feed twice
    assert counts(shared) == (FEEDS * ITEMS, FEEDS * ITEMS, FEEDS)
    result = CliRunner().invoke(cli, ["--db", shared, "workers", "--json"])
    assert result.exit_code == 0, result.output
    import json

    listed = json.loads(result.output)
    assert len(listed) == 4 and not any(worker["alive"] for worker in listed)
    assert sum(worker["last_pass"]["fetched"] for worker in listed) == FEEDS
    assert all(worker["leases"] == 0 for worker in listed)


def test_a_worker_killed_mid_pass_loses_nothing_and_its_feeds_are_done_next(shared: str, feeds_server: LateHost) -> None:
    feeds_server.latency = 0.1
    started = workers(shared, 3, "--all")
    deadline = time.monotonic() + 60
    while feeds_server.requests < FEEDS // 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    victim = started[0]
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    for process in started[1:]:
        _out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err.decode()[-2000:]
    # Run again at once: the feeds the killed worker held and never finished are free
    # (its session ended with it), so this pass does them; nothing is stored twice.
    feeds_server.latency = 0.0
    (again,) = workers(shared, 1)
    _out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err.decode()[-2000:]
    assert feed_numbers(feeds_server) == list(range(FEEDS))
    assert counts(shared) == (FEEDS * ITEMS, FEEDS * ITEMS, FEEDS)
    with tidings.open_archive(shared) as archive:
        assert all(feed.next_fetch is not None for feed in archive.feeds())


def test_a_lease_outlives_a_session_that_lives_on_only_until_it_expires(pg_url: str) -> None:
    from datetime import datetime, timedelta, timezone

    from tidings.store.postgres import PostgresStore

    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    holder, other = PostgresStore(pg_url), PostgresStore(pg_url)
    try:
        feed = holder.add_feed("http://127.0.0.1:9/feed.xml", "Site")
        assert [f.id for f in holder.lease_feeds(now, worker="a", lease_seconds=60)] == [feed.id]
        # Held by a live session: nobody else gets it, however often they ask.
        assert other.lease_feeds(now, worker="b", lease_seconds=60) == []
        assert other.lease_feeds(now + timedelta(seconds=59), worker="b", lease_seconds=60) == []
        # The holder is cut off but its session lives on: the lease ends when it expires.
        assert [f.id for f in other.lease_feeds(now + timedelta(seconds=61), worker="b", lease_seconds=60)] == [feed.id]
        other.release_feeds("b", [feed.id])
        # Released, and the holder's session ended: free at once.
        holder.close()
        assert [f.id for f in other.lease_feeds(now, worker="c", lease_seconds=60)] == [feed.id]
    finally:
        other.close()


@pytest.fixture
def outlets() -> Iterator[list[LateHost]]:
    # Each item links to an article page: a feed's host sees its feed request, then its page's.
    hosts = [LateHost(f"127.0.0.{n}", latency=0.2, pages=True).start() for n in range(1, 5)]
    yield hosts
    for host in hosts:
        host.stop()


def test_the_per_host_limit_and_a_hosts_back_off_hold_across_workers(pg_url: str, outlets: list[LateHost]) -> None:
    outlets[3].status = 429  # this one asks everybody to wait ten minutes
    with tidings.open_archive(pg_url) as archive, archive.store.transaction():
        for number, host in enumerate(outlets):
            address, port = host.server_address[:2]
            for n in range(30 if number < 3 else 60):
                archive.store.add_feed(f"http://{address}:{port}/feed-{n}.xml", f"Outlet {address}")
    started = workers(pg_url, 4, "--all")  # each would allow 6 requests per host on its own
    for process in started:
        process.communicate(timeout=300)
        assert process.returncode in (0, 1)  # 1: the waiting host's feeds failed
    assert [host.requests for host in outlets[:3]] == [30, 30, 30]
    assert [sorted(set(host.pages.values())) for host in outlets[:3]] == [[1]] * 3  # each page once
    assert [len(host.pages) for host in outlets[:3]] == [30, 30, 30]
    # Never more than the limit at once at any host (24 without the shared slots), and the
    # limit was reached: the workers did press on the hosts.
    assert all(host.most <= 6 for host in outlets[:3]), [host.most for host in outlets[:3]]
    assert max(host.most for host in outlets[:3]) == 6
    # After its first answers nobody asked again: only the requests already holding one of
    # its six slots reached it (60 without the shared back-off).
    assert outlets[3].requests <= 6, outlets[3].requests
    with tidings.open_archive(pg_url) as archive:
        waiting = [feed for feed in archive.feeds() if feed.url.startswith(f"http://{outlets[3].server_address[0]}")]
        assert len(waiting) == 60 and all(feed.error_kind == "http_429" for feed in waiting)


def test_workers_share_the_derive_stage(pg_url: str) -> None:
    from datetime import datetime, timezone

    from tidings.model import NewRevision, RevisionSource
    from tidings.store.postgres import PostgresStore

    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    one, two = PostgresStore(pg_url), PostgresStore(pg_url)
    try:
        with one.transaction():
            site = one.site("Site").id
            for n in range(30):
                article = one.add_article(site, f"k{n}", f"https://example.org/{n}", now, None)
                one.add_revision(article.id, NewRevision(now, f"T{n}", f"<p>{n}</p>", RevisionSource.FEED))
        first = [r.id for r in one.underived_revisions(10)]
        second = [r.id for r in two.underived_revisions(10)]
        assert len(first) == len(second) == 10 and not set(first) & set(second)  # claimed apart
        with one.transaction():
            one.save_derived([(rid, "<p>x</p>", "x") for rid in first])
        assert two.underived_count() == 20
        # What the first saved is no longer claimed; what the second claims stays its own
        # until it lets go (its session ending would do too).
        third = [r.id for r in one.underived_revisions(30)]
        assert set(third) == set(range(1, 31)) - set(first) - set(second)
        two.end_derive()
        one.end_derive()
        assert {r.id for r in one.underived_revisions(30)} == set(range(1, 31)) - set(first)
    finally:
        one.close()
        two.close()


def test_re_checks_and_images_are_shared_one_to_one_worker(pg_url: str) -> None:
    from tidings.store.postgres import PostgresStore

    one, two = PostgresStore(pg_url), PostgresStore(pg_url)
    try:
        first = one.claim("article", [1, 2, 3, 4])
        assert first == [1, 2, 3, 4]
        assert two.claim("article", [3, 4, 5, 6]) == [5, 6]
        assert two.claim("image", [3, 4]) == [3, 4]  # another kind, other ids
        one.release("article", [3])
        assert two.claim("article", [3, 4]) == [3]
    finally:
        one.close()
        two.close()


def test_processes_opening_a_new_database_at_once_migrate_it_once(pg_url: str) -> None:
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root / "src"))
    started = [
        subprocess.Popen([sys.executable, "-m", "tidings", "--db", pg_url, "stats", "--json"], cwd=root, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(6)
    ]
    for process in started:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()[-2000:]
    import psycopg

    from tidings.store.postgres_schema import MIGRATIONS

    with psycopg.connect(pg_url) as connection:
        versions = [row[0] for row in connection.execute("SELECT version FROM tidings_schema ORDER BY version")]
    assert versions == list(range(1, len(MIGRATIONS) + 1))


def test_workers_fetch_each_image_once(pg_url: str) -> None:
    import base64

    from tidings.model import NewRevision, RevisionSource

    gif = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
    hits: Counter[str] = Counter()
    lock = threading.Lock()

    class Images(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            with lock:
                hits[self.path] += 1
            time.sleep(0.05)
            body = gif + self.path.encode()  # a distinct file per image
            self.send_response(200)
            self.send_header("Content-Type", "image/gif")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Images)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    port = server.server_address[1]
    try:
        with tidings.open_archive(pg_url) as archive:
            feed = archive.store.add_feed(f"http://127.0.0.1:{port}/feed.xml", "Outlet")
            with archive.store.transaction():
                site = archive.store.site("Outlet").id
                for n in range(40):
                    article = archive.store.add_article(site, f"k{n}", f"http://127.0.0.1:{port}/a/{n}", T0_WORKERS, None, feed.id)
                    tags = "".join(f'<img src="http://127.0.0.1:{port}/img/{n}-{k}.gif">' for k in range(3))
                    archive.store.add_revision(article.id, NewRevision(T0_WORKERS, f"T{n}", f"<p>x</p>{tags}", RevisionSource.FEED))
            archive.derive()
        root = Path(__file__).resolve().parent.parent
        env = dict(os.environ, PYTHONPATH=str(root / "src"))
        started = [
            subprocess.Popen([sys.executable, "-m", "tidings", "--db", pg_url, "media", "fetch"], cwd=root, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for _ in range(3)
        ]
        for process in started:
            _out, err = process.communicate(timeout=300)
            assert process.returncode == 0, err.decode()[-2000:]
        with tidings.open_archive(pg_url) as archive:
            assert dict(archive.stats().images) == {"archived": 120}
        assert len(hits) == 120 and set(hits.values()) == {1}
    finally:
        server.shutdown()
        server.server_close()
