"""The web app and `tidings serve` under attack: server files, token guessing, slow clients, hostile site names.

The app tests drive the real app (Starlette's TestClient) over a real SQLite
archive; the server tests start a real `tidings serve` on a free loopback port
and talk to it over real sockets.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest

import tidings
from tidings.model import NewRevision, RevisionSource

warnings.filterwarnings("ignore", message=".*httpx.*", category=DeprecationWarning)
from starlette.testclient import TestClient  # noqa: E402

from tidings.web import create_app  # noqa: E402
from tidings.web.access import Throttle, TooManyAttempts  # noqa: E402

T0 = datetime(2025, 11, 20, 8, tzinfo=timezone.utc)
TOKEN = "sekrit"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SECRET = "root:x:0:0:the-secret-first-line"
HOSTILE_SITE = "../../etc/passwd"
HOSTILE_SEGMENT = "..%2F..%2Fetc%2Fpasswd"


def empty_archive(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    db = tmp_path / "web.sqlite3"
    tidings.open_archive(db).close()
    return db


def local_feed(tmp_path: Path) -> Path:
    """A local file in feed format whose one article carries the secret."""
    path = tmp_path / "local-feed.xml"
    path.write_text(
        '<rss version="2.0"><channel><title>Local</title><link>https://local.example/</link>'
        f"<item><title>{SECRET}</title><link>https://local.example/1</link><guid>1</guid>"
        f"<description>{SECRET}</description></item></channel></rss>",
        encoding="utf-8",
    )
    return path


def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "passwd"
    path.write_text(SECRET + "\ndaemon:x:1:1::/usr/sbin\n", encoding="utf-8")
    return path


def signed_in(client: TestClient) -> str:
    """Sign in through the form; the CSRF token the home page then carries."""
    assert client.post("/login", data={"token": TOKEN}, follow_redirects=False).status_code == 303
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/").text)
    assert found
    return found.group(1)


# 1. The token must not read the server's files.


def test_the_api_adds_only_http_feeds_and_never_reads_local_files(tmp_path):
    db = empty_archive(tmp_path)
    client = TestClient(create_app(db, token=TOKEN), raise_server_exceptions=False)
    secret, feed = secret_file(tmp_path), local_feed(tmp_path)
    for url in [secret.as_uri(), str(secret), feed.as_uri(), str(feed), "FILE://" + str(feed), "file:" + str(feed)]:
        answer = client.post("/api/feeds", json={"url": url}, headers=AUTH)
        assert answer.status_code == 400, url
        assert "http(s)" in answer.json()["error"] and SECRET not in answer.text, url
    assert client.get("/api/feeds").json() == []
    assert SECRET not in client.get("/api/articles").text
    # Feeds on the web still can be added.
    made = client.post("/api/feeds", json={"url": "https://feeds.example/rss"}, headers=AUTH)
    assert made.status_code == 201 and made.json()["url"] == "https://feeds.example/rss"


def test_the_home_page_form_adds_only_http_feeds(tmp_path):
    db = empty_archive(tmp_path)
    client = TestClient(create_app(db, token=TOKEN), raise_server_exceptions=False)
    csrf = signed_in(client)
    feed = local_feed(tmp_path)
    refused = client.post("/feeds/add", data={"csrf": csrf, "url": feed.as_uri(), "site": "local"})
    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("text/html") and "http(s)" in refused.text
    assert "content-security-policy" in refused.headers
    assert client.get("/api/feeds").json() == []
    added = client.post("/feeds/add", data={"csrf": csrf, "url": "https://feeds.example/rss"}, follow_redirects=False)
    assert added.status_code == 303 and [f["url"] for f in client.get("/api/feeds").json()] == ["https://feeds.example/rss"]


def test_a_local_feed_subscribed_on_the_command_line_is_not_fetched_through_the_web(tmp_path):
    db = empty_archive(tmp_path)
    feed = local_feed(tmp_path)
    with tidings.open_archive(db) as archive:
        subscribed = archive.add_feed(str(feed), site="local")  # the CLI may
    client = TestClient(create_app(db, token=TOKEN), raise_server_exceptions=False)
    answer = client.post(f"/api/feeds/{subscribed.id}/update", headers=AUTH)
    assert answer.status_code == 403 and "local file" in answer.json()["error"]
    csrf = signed_in(client)
    form = client.post(f"/feeds/{subscribed.id}/update", data={"csrf": csrf})
    assert form.status_code == 403 and "local file" in form.text
    (listed,) = client.get("/api/feeds").json()
    assert listed["last_fetch"] is None and listed["articles"] == 0
    assert SECRET not in client.get("/api/articles").text
    # Pausing, resuming and removing read nothing and stay allowed.
    assert client.post(f"/api/feeds/{subscribed.id}/pause", headers=AUTH).json()["state"] == "paused"
    assert client.delete(f"/api/feeds/{subscribed.id}", headers=AUTH).status_code == 200


def test_allow_local_feeds_lets_the_web_add_and_fetch_them(tmp_path):
    db = empty_archive(tmp_path)
    feed = local_feed(tmp_path)
    client = TestClient(create_app(db, token=TOKEN, allow_local_feeds=True), raise_server_exceptions=False)
    made = client.post("/api/feeds", json={"url": feed.as_uri(), "site": "local"}, headers=AUTH)
    assert made.status_code == 201
    updated = client.post(f"/api/feeds/{made.json()['id']}/update", headers=AUTH).json()
    assert updated["new_articles"] == 1 and updated["error"] is None


# 2. Wrong tokens are throttled per client.


def test_wrong_bearer_tokens_are_throttled_per_client(tmp_path):
    app = create_app(empty_archive(tmp_path), token=TOKEN)
    guesser = TestClient(app, client=("192.0.2.7", 40000), raise_server_exceptions=False)
    other = TestClient(app, client=("198.51.100.9", 40000), raise_server_exceptions=False)
    body = {"url": "https://feeds.example/rss"}
    for n in range(5):
        assert guesser.post("/api/feeds", json=body, headers={"Authorization": f"Bearer guess{n}"}).status_code == 401
    throttled = guesser.post("/api/feeds", json=body, headers={"Authorization": "Bearer guess5"})
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) >= 1
    assert "try again" in throttled.json()["error"] and "content-security-policy" in throttled.headers
    # The right token from the throttled client is refused too (and not even checked),
    # and so are the other ways of presenting a token.
    assert guesser.post("/api/feeds", json=body, headers=AUTH).status_code == 429
    assert guesser.delete("/api/feeds/1", auth=("reader", TOKEN)).status_code == 429
    assert guesser.post("/login", data={"token": TOKEN}, follow_redirects=False).status_code == 429
    assert guesser.get("/api/feeds").json() == []  # reading needs no token and goes on
    # Another address is not affected.
    assert other.post("/api/feeds", json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert other.post("/api/feeds", json=body, headers=AUTH).status_code == 201


def test_wrong_sign_ins_are_throttled(tmp_path):
    app = create_app(empty_archive(tmp_path), token=TOKEN)
    guesser = TestClient(app, client=("192.0.2.8", 40000), raise_server_exceptions=False)
    for n in range(5):
        assert guesser.post("/login", data={"token": f"guess{n}"}, follow_redirects=False).status_code == 403
    throttled = guesser.post("/login", data={"token": TOKEN}, follow_redirects=False)
    assert throttled.status_code == 429 and throttled.headers["retry-after"].isdigit()
    assert throttled.headers["content-type"].startswith("text/html") and "try again" in throttled.text
    assert not guesser.cookies.get("session")
    assert guesser.post("/api/feeds", json={}, headers=AUTH).status_code == 429  # one count for every way in


def test_a_private_archive_throttles_wrong_passwords(tmp_path):
    app = create_app(empty_archive(tmp_path), token=TOKEN, private=True)
    reader = TestClient(app, client=("203.0.113.5", 40000), raise_server_exceptions=False)
    for n in range(5):
        assert reader.get("/feed.atom", auth=("reader", f"guess{n}")).status_code == 401
    throttled = reader.get("/feed.atom", auth=("reader", TOKEN))
    assert throttled.status_code == 429 and throttled.headers["retry-after"].isdigit()
    assert TestClient(app, client=("203.0.113.6", 1)).get("/feed.atom", auth=("reader", TOKEN)).status_code == 200


def test_ipv6_clients_are_counted_by_their_64(tmp_path):
    app = create_app(empty_archive(tmp_path), token=TOKEN)
    for n in range(5):
        roaming = TestClient(app, client=(f"2001:db8:1:2::{n + 1:x}", 1), raise_server_exceptions=False)
        assert roaming.post("/api/feeds", json={}, headers={"Authorization": "Bearer no"}).status_code == 401
    same_64 = TestClient(app, client=("2001:db8:1:2:ffff::1", 1), raise_server_exceptions=False)
    assert same_64.post("/api/feeds", json={}, headers=AUTH).status_code == 429
    next_64 = TestClient(app, client=("2001:db8:1:3::1", 1), raise_server_exceptions=False)
    assert next_64.post("/api/feeds", json={"url": "https://x.example/"}, headers=AUTH).status_code == 201


def test_the_back_off_doubles_is_capped_resets_on_success_and_remembers_few_clients():
    now = [1000.0]
    throttle = Throttle(allowed=5, first_wait=2, longest_wait=60, forget_after=3600, max_clients=3, clock=lambda: now[0])
    checked = []

    def wrong() -> bool:
        checked.append(now[0])
        return False

    for _ in range(4):
        assert throttle.attempt("a", wrong) is False and throttle.wait("a") == 0
    waits = []
    for _ in range(8):
        assert throttle.attempt("a", wrong) is False
        waits.append(throttle.wait("a"))
        with pytest.raises(TooManyAttempts) as refused:
            throttle.attempt("a", lambda: True)  # not checked at all while waiting
        assert refused.value.retry_after == waits[-1]
        now[0] += waits[-1]
    assert waits == [2, 4, 8, 16, 32, 60, 60, 60]
    assert len(checked) == 12
    assert throttle.attempt("a", lambda: True) is True  # a success forgets the failures
    for _ in range(4):
        assert throttle.attempt("a", wrong) is False and throttle.wait("a") == 0
    now[0] += 3601  # and so does an hour without one
    for _ in range(4):
        assert throttle.attempt("a", wrong) is False and throttle.wait("a") == 0
    for client in ("b", "c", "d", "e"):
        throttle.attempt(client, wrong)
    assert throttle.tracked() == 3  # the oldest are dropped


# 3. `tidings serve` closes slow connections and caps how many it keeps.


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request(port: int, method: str = "GET", path: str = "/", headers: dict[str, str] | None = None, body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@contextmanager
def serving(tmp_path: Path, *flags: str) -> Iterator[int]:
    """A real `tidings serve` on a free loopback port, stopped afterwards."""
    db = empty_archive(tmp_path)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tidings", "--db", str(db), "serve", "--port", str(port), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"tidings serve stopped: {process.stderr.read() if process.stderr else ''}")
            try:
                if request(port)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "tidings serve did not answer"
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def read_until_closed(sock: socket.socket, deadline: float) -> bytes | None:
    """What the server sent before closing ``sock``, or None if it was still open at ``deadline``."""
    received = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            return None
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def test_serve_closes_connections_whose_request_never_arrives(tmp_path):
    with serving(tmp_path, "--request-timeout", "1", "--max-connections", "80") as port:
        slow: list[socket.socket] = []
        try:
            started = time.monotonic()
            for n in range(50):
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                # Half send a piece of the request line, half stop inside the headers.
                sock.sendall(b"GET /site/" if n % 2 else b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                slow.append(sock)
            trickler = socket.create_connection(("127.0.0.1", port), timeout=5)
            slow.append(trickler)
            status, _, _ = request(port)  # the server still answers meanwhile
            assert status == 200
            for _ in range(10):  # later bytes of a request do not push its deadline back
                try:
                    trickler.sendall(b"G")
                except OSError:
                    break
                time.sleep(0.3)
            answers = [read_until_closed(sock, started + 8) for sock in slow]
            assert all(answer is not None for answer in answers), "a slow connection stayed open"
            assert time.monotonic() - started < 8
            assert sum(1 for answer in answers if answer and answer.startswith(b"HTTP/1.1 408")) >= 50
            assert request(port)[0] == 200
        finally:
            for sock in slow:
                sock.close()


def test_serve_refuses_connections_beyond_its_limit(tmp_path):
    with serving(tmp_path, "--max-connections", "5", "--request-timeout", "30") as port:
        holders = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(5)]
        try:
            time.sleep(0.5)  # the server has taken them all
            extra = socket.create_connection(("127.0.0.1", port), timeout=5)
            holders.append(extra)
            asked = time.monotonic()
            answer = read_until_closed(extra, asked + 5)
            assert answer is not None and answer.startswith(b"HTTP/1.1 503"), answer
            assert time.monotonic() - asked < 3  # at once, not when the holders time out
        finally:
            for sock in holders:
                sock.close()
        deadline = time.monotonic() + 5
        while True:  # with the holders gone the server answers again
            try:
                if request(port)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not recover"
            time.sleep(0.1)


def test_serve_throttles_wrong_tokens_whatever_x_forwarded_for_says(tmp_path):
    with serving(tmp_path, "--token", TOKEN) as port:
        body = json.dumps({"url": "https://feeds.example/rss"}).encode()
        statuses = []
        for n in range(8):
            headers = {"Authorization": f"Bearer guess{n}", "Content-Type": "application/json",
                       "X-Forwarded-For": f"192.0.2.{n + 1}"}
            statuses.append(request(port, "POST", "/api/feeds", headers, body)[0])
        assert statuses == [401] * 5 + [429] * 3
        status, headers, _ = request(port, "POST", "/api/feeds", {**AUTH, "Content-Type": "application/json"}, body)
        assert status == 429 and headers["retry-after"].isdigit()
    # Behind a proxy (--base-url says so) the proxy's X-Forwarded-For names each client.
    with serving(tmp_path / "proxied", "--token", TOKEN, "--base-url", "https://news.example/") as port:
        def status_from(client: str, token: str) -> int:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "X-Forwarded-For": client}
            return request(port, "POST", "/api/feeds", headers, body)[0]

        assert [status_from("192.0.2.1", "guess") for _ in range(6)] == [401] * 5 + [429]
        assert status_from("192.0.2.2", TOKEN) == 201


# 4. Site names are one percent-encoded path segment wherever a link is made.


def test_a_hostile_site_name_is_percent_encoded_in_every_link(tmp_path):
    db = tmp_path / "hostile.sqlite3"
    odd_site, odd_segment = "a?b#c%d e", "a%3Fb%23c%25d%20e"
    with tidings.open_archive(db) as archive:
        store = archive.store
        with store.transaction():
            ids = []
            for n, name in enumerate([HOSTILE_SITE, odd_site]):
                article = store.add_article(store.site(name).id, f"k{n}", f"https://evil.example/{n}", T0, T0)
                store.add_revision(article.id, NewRevision(T0, "停火 ceasefire", "<p>停火 ceasefire</p>", RevisionSource.FEED))
                ids.append(article.id)
        archive.derive()
        archive.add_feed("https://evil.example/rss", site=HOSTILE_SITE)
    client = TestClient(create_app(db, token=TOKEN), raise_server_exceptions=False)
    site = f"/site/{HOSTILE_SEGMENT}"
    pages = ["/", site, f"/site/{odd_segment}", "/day/2025-11-20", "/search?q=停火"]
    pages += [f"/article/{i}" for i in ids]
    feeds = ["/feed.atom", "/feed.json", f"{site}/feed.atom", f"{site}/feed.json", f"/site/{odd_segment}/feed.json"]
    found = 0
    for path in pages + feeds:
        answer = client.get(path)
        assert answer.status_code == 200, path
        text = answer.text.replace("\\/", "/")
        assert "/site/../" not in text and "etc/passwd/feed" not in text, path
        for link in re.findall(r"/site/([^\"'<>\s]*)", text):
            assert re.fullmatch(rf"({re.escape(HOSTILE_SEGMENT)}|{re.escape(odd_segment)})(/feed\.(atom|json)|/changes(\.(atom|json))?)?", link), (path, link)
            found += 1
    assert found >= 10  # home page (sites, feeds), timelines, article pages, site feeds
    atom = client.get(f"{site}/feed.atom").text
    assert f'rel="self" href="http://testserver{site}/feed.atom"' in atom
    assert f'rel="alternate" href="http://testserver{site}"' in atom
    feed = client.get(f"{site}/feed.json").json()
    assert feed["feed_url"] == f"http://testserver{site}/feed.json"
    assert feed["home_page_url"] == f"http://testserver{site}"
    behind = TestClient(create_app(db, base_url="https://news.example/"))
    assert behind.get(f"{site}/feed.json").json()["feed_url"] == f"https://news.example{site}/feed.json"
