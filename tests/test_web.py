"""The web app through HTTP: pages, the JSON API, security headers, hostile content."""

from __future__ import annotations

import re
import warnings
from datetime import datetime, timedelta, timezone

import pytest

import tidings
from tidings.model import NewRevision, RevisionSource

warnings.filterwarnings("ignore", message=".*httpx.*", category=DeprecationWarning)
from starlette.testclient import TestClient  # noqa: E402

from tidings.web import create_app  # noqa: E402

T0 = datetime(2025, 11, 20, 8, tzinfo=timezone.utc)
XSS_TITLE = '<script>alert("title")</script><img src=x onerror=alert(1)>停火'
XSS_BODY = (
    '<p>正文 停火 <a href="javascript:alert(1)">link</a></p><script>alert(2)</script>'
    '<img src="https://tracker.example/x.png" onerror="alert(3)"><iframe src="https://evil.example"></iframe>'
)


@pytest.fixture
def client(db):
    with tidings.open_archive(db) as archive:
        store = archive.store
        with store.transaction():
            site = store.site("法广").id
            first = store.add_article(site, "a", "https://rfi.example/a", T0, T0)
            store.add_revision(first.id, NewRevision(T0, "七国外长会议", "<p>外长会议呼吁停火。</p>", RevisionSource.FEED))
            store.add_revision(
                first.id,
                NewRevision(T0 + timedelta(hours=1), "七国外长会议一致主张加沙停火", "<p>外长会议一致呼吁加沙停火。</p>", RevisionSource.FEED),
            )
            hostile = store.add_article(store.site("<b>evil</b>").id, "x", "https://evil.example/x", T0, T0)
            store.add_revision(hostile.id, NewRevision(T0, XSS_TITLE, XSS_BODY, RevisionSource.FEED))
            for n in range(30):
                when = T0 - timedelta(hours=n + 1)
                article = store.add_article(site, f"old{n}", f"https://rfi.example/{n}", when, when)
                store.add_revision(article.id, NewRevision(when, f"旧闻 {n}", f"<p>第{n}条</p>", RevisionSource.FEED))
        archive.derive()
    return TestClient(create_app(db, token="sekrit"), raise_server_exceptions=False)


def one_article_archive(db, site: str, url: str, title: str):
    """An archive holding one article of ``site`` whose title and text are ``title``."""
    with tidings.open_archive(db) as archive:
        with archive.store.transaction():
            article = archive.store.add_article(archive.store.site(site).id, "k", url, T0, T0)
            archive.store.add_revision(article.id, NewRevision(T0, title, f"<p>{title}</p>", RevisionSource.FEED))
    return db


def test_every_response_has_strict_security_headers(client):
    for path in ["/", "/article/1", "/nope", "/api/feeds", "/static/style.css"]:
        response = client.get(path)
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        assert "'unsafe-inline'" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"


def test_pages(client):
    index = client.get("/")
    assert index.status_code == 200 and "法广" in index.text
    timeline = client.get("/site/法广")
    assert timeline.status_code == 200 and "七国外长会议一致主张加沙停火" in timeline.text
    assert "?cursor=" in timeline.text
    older = client.get("/site/法广?" + re.search(r"\?(cursor=[^\"]+)", timeline.text).group(1))
    assert older.status_code == 200 and "旧闻" in older.text
    article = client.get("/article/1")
    assert "外长会议一致呼吁加沙停火" in article.text
    assert "(UTC+8)" in article.text  # a Chinese site shows China time beside UTC
    diff_link = re.search(r'href="(/article/1/diff\?[^"]+)"', article.text).group(1).replace("&amp;", "&")
    diff = client.get(diff_link)
    assert diff.status_code == 200
    assert "<ins>一致主张加沙</ins>" in diff.text or "<ins>" in diff.text
    search = client.get("/search?q=停火")
    assert search.status_code == 200 and "<mark>停火</mark>" in search.text
    assert "sort=new" in search.text  # the switch to newest first
    newest = client.get("/search?q=停火&sort=new")
    assert newest.status_code == 200 and "<mark>停火</mark>" in newest.text and "<strong>Newest first</strong>" in newest.text
    assert client.get("/search?q=停火&sort=oldest").status_code == 400
    day = client.get("/day/2025-11-20")
    assert day.status_code == 200 and "七国外长会议" in day.text


def test_language_switch(client):
    english = client.get("/?lang=en")
    assert "Feeds" in english.text and english.cookies.get("lang") == "en"
    chinese = client.get("/?lang=zh")
    assert "订阅源" in chinese.text


TAG = re.compile(r"<[a-zA-Z][^>]*>")


def test_hostile_content_is_inert(client):
    api = client.get("/api/articles/2")
    # Raw text in JSON is data, never read as HTML (and the browser may not sniff it).
    assert api.headers["content-type"].startswith("application/json")
    assert api.headers["x-content-type-options"] == "nosniff"
    for path in ["/article/2", "/", "/search?q=停火", "/site/<b>evil</b>"]:
        body = client.get(path).text
        tags = TAG.findall(body)
        assert not [t for t in tags if re.search(r"\son\w+\s*=", t, re.I)]
        assert not [t for t in tags if re.search(r"(href|src)\s*=\s*[\"']?\s*javascript:", t, re.I)]
        assert not [t for t in tags if t.lower().startswith(("<script", "<iframe", "<object", "<embed"))]
        assert "<b>evil</b>" not in body
    # Outside images are not loaded unless configured: the policy keeps every request here.
    policy = client.get("/article/2").headers["content-security-policy"]
    assert re.search(r"img-src 'self' data:;", policy) and "https:" not in policy


def test_errors_are_pages_not_tracebacks(client):
    for path, status in [("/nope", 404), ("/article/999", 404), ("/article/abc", 404), ("/day/yesterday", 404), ("/search?q=%22x", 400)]:
        response = client.get(path)
        assert response.status_code == status
        assert "Traceback" not in response.text and "<h1>" in response.text
    api = client.get("/api/articles/999")
    assert api.status_code == 404 and "error" in api.json()


def test_json_api_and_openapi(client):
    feeds = client.get("/api/feeds").json()
    assert feeds == []
    articles = client.get("/api/articles?site=法广").json()
    assert articles["articles"][0]["title"] == "七国外长会议一致主张加沙停火" and articles["next_cursor"]
    article = client.get("/api/articles/1").json()
    assert article["revisions"] == 2 and "加沙停火" in article["clean_html"]
    revisions = client.get("/api/articles/1/revisions").json()
    assert [r["title"] for r in revisions] == ["七国外长会议", "七国外长会议一致主张加沙停火"]
    hits = client.get("/api/search", params={"q": "外長"}).json()["hits"]
    assert hits and hits[0]["id"] == 1
    newest = client.get("/api/search", params={"q": "外長 OR 旧闻", "sort": "new"}).json()["hits"]
    assert len(newest) >= 2 and [h["id"] for h in newest] == sorted((h["id"] for h in newest), reverse=True)
    assert client.get("/api/search", params={"q": "外長", "sort": "oldest"}).status_code == 400
    spec = client.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.") and "/api/search" in spec["paths"]


def test_changes_need_the_token(client):
    assert client.post("/api/feeds", json={"url": "https://feeds.example/rss"}).status_code == 401
    wrong = client.post("/api/feeds", json={"url": "https://feeds.example/rss"}, headers={"Authorization": "Bearer no"})
    assert wrong.status_code == 401
    made = client.post(
        "/api/feeds", json={"url": "https://feeds.example/rss", "site": "例"}, headers={"Authorization": "Bearer sekrit"}
    )
    assert made.status_code == 201 and made.json()["site"] == "例"
    bad = client.post("/api/feeds", content=b"not json", headers={"Authorization": "Bearer sekrit"})
    assert bad.status_code == 400


def test_the_archive_publishes_atom_and_json_feeds_with_full_content(client):
    from tidings.parse import parse_feed

    atom = client.get("/site/法广/feed.atom")
    assert atom.status_code == 200 and atom.headers["content-type"].startswith("application/atom+xml")
    parsed = parse_feed(atom.content, content_type=atom.headers["content-type"], url=str(atom.url))
    assert parsed.version.startswith("atom") and not parsed.recovered
    assert len(parsed.entries) == 31
    newest = parsed.entries[0]
    assert newest.title == "七国外长会议一致主张加沙停火"  # the current revision
    assert "外长会议一致呼吁加沙停火" in newest.content and newest.link == "https://rfi.example/a"
    assert newest.id == "http://testserver/article/1"  # stable across revisions
    assert newest.published == T0

    feed = client.get("/site/法广/feed.json")
    assert feed.headers["content-type"].startswith("application/feed+json")
    data = feed.json()
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert [i["id"] for i in data["items"]] == [e.id for e in parsed.entries]
    assert data["items"][0]["content_html"] == newest.content

    everything = client.get("/feed.atom")
    every = parse_feed(everything.content, content_type="application/atom+xml")
    assert {e.link for e in every.entries} >= {"https://rfi.example/a", "https://evil.example/x"}
    hostile = next(e for e in every.entries if e.link == "https://evil.example/x")
    assert "<script" not in hostile.content and "onerror" not in hostile.content  # clean HTML only
    assert hostile.title == XSS_TITLE  # titles are text, escaped by the XML writer
    assert client.get("/site/nobody/feed.atom").status_code == 404
    assert client.get("/feed.json").json()["items"]
    assert 'href="/site/%E6%B3%95%E5%B9%BF/feed.atom"' in client.get("/site/法广").text


def test_feed_actions_need_the_token_and_work_with_it(client, tmp_path):
    # A local feed file through the API needs serve --allow-local-feeds.
    client = TestClient(create_app(tmp_path / "web.sqlite3", token="sekrit", allow_local_feeds=True))
    feed_file = tmp_path / "feed.xml"
    feed_file.write_text(
        '<rss version="2.0"><channel><title>本地</title><link>https://local.example/</link>'
        "<item><title>新消息</title><link>https://local.example/1</link><guid>1</guid>"
        "<description>&lt;p&gt;正文&lt;/p&gt;</description></item></channel></rss>",
        encoding="utf-8",
    )
    auth = {"Authorization": "Bearer sekrit"}
    made = client.post("/api/feeds", json={"url": feed_file.as_uri(), "site": "本地"}, headers=auth).json()
    path = f"/api/feeds/{made['id']}"
    for method, suffix in [("POST", "/pause"), ("POST", "/resume"), ("POST", "/update"), ("DELETE", "")]:
        assert client.request(method, path + suffix).status_code == 401
        assert client.request(method, path + suffix, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/feeds").json()[-1]["state"] == "active"  # nothing changed without the token

    assert client.post(path + "/pause", headers=auth).json()["state"] == "paused"
    assert client.post(path + "/resume", headers=auth).json()["state"] == "active"
    updated = client.post(path + "/update", headers=auth).json()
    assert updated["fetched"] == 1 and updated["new_articles"] == 1 and updated["error"] is None
    assert updated["feed"]["articles"] == 1
    assert "新消息" in client.get("/site/本地").text
    assert client.delete(path, headers=auth).json()["id"] == made["id"]
    assert all(f["id"] != made["id"] for f in client.get("/api/feeds").json())
    assert client.delete(path, headers=auth).status_code == 404
    assert "新消息" in client.get("/site/本地").text  # the articles stay


def test_times_in_the_readers_time_zone(client):
    plain = client.get("/article/1").text
    assert "2025-11-20 16:00 (UTC+8) · 2025-11-20 08:00 UTC" in plain  # Chinese site, no zone chosen
    berlin = client.get("/article/1?tz=Europe/Berlin")
    assert "2025-11-20 09:00 (Europe/Berlin) · 2025-11-20 16:00 (UTC+8) · 2025-11-20 08:00 UTC" in berlin.text
    assert berlin.cookies.get("tz", "").strip('"') == "Europe/Berlin"
    remembered = client.get("/site/法广").text  # the cookie carries the choice
    assert "(Europe/Berlin)" in remembered
    shanghai = client.get("/article/1?tz=Asia/Shanghai").text  # China time is not repeated
    assert "2025-11-20 16:00 (Asia/Shanghai) · 2025-11-20 08:00 UTC" in shanghai
    bogus = client.get("/article/1?tz=../../etc/passwd")
    assert bogus.status_code == 200 and "passwd" not in bogus.cookies.get("tz", "")
    assert 'name="tz"' in plain  # the chooser works without script


def signed_in(client) -> str:
    """Sign in through the form; returns the CSRF token the home page then carries."""
    wrong = client.post("/login", data={"token": "nope"}, follow_redirects=False)
    assert wrong.status_code == 403 and client.cookies.get("session") is None
    elsewhere = client.post("/login", data={"token": "sekrit"}, headers={"Origin": "https://evil.example"})
    assert elsewhere.status_code == 403 and client.cookies.get("session") is None
    answer = client.post("/login", data={"token": "sekrit"}, follow_redirects=False)
    assert answer.status_code == 303 and client.cookies.get("session")
    return re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/").text).group(1)


def test_people_sign_in_and_change_feeds_with_csrf_protected_forms(client, tmp_path):
    # A local feed file through the form needs serve --allow-local-feeds.
    client = TestClient(create_app(tmp_path / "web.sqlite3", token="sekrit", allow_local_feeds=True))
    assert 'href="/login"' in client.get("/").text and "/feeds/add" not in client.get("/").text
    csrf = signed_in(client)
    feed = tmp_path / "f.xml"
    feed.write_text('<rss version="2.0"><channel><title>t</title><item><title>表单</title>'
                    "<link>https://form.example/1</link></item></channel></rss>", encoding="utf-8")
    added = client.post("/feeds/add", data={"csrf": csrf, "url": feed.as_uri(), "site": "表单"}, follow_redirects=False)
    assert added.status_code == 303
    (made,) = [f for f in client.get("/api/feeds").json() if f["site"] == "表单"]
    assert client.post(f"/feeds/{made['id']}/update", data={"csrf": csrf}).status_code == 200
    assert "表单" in client.get("/site/表单").text and made["id"]
    client.post(f"/feeds/{made['id']}/pause", data={"csrf": csrf})
    assert [f["state"] for f in client.get("/api/feeds").json() if f["id"] == made["id"]] == ["paused"]

    # Forged requests: no CSRF token, a wrong one, another origin, no session.
    assert client.post(f"/feeds/{made['id']}/resume", data={}).status_code == 403
    assert client.post(f"/feeds/{made['id']}/resume", data={"csrf": "0" * 40}).status_code == 403
    other = client.post(f"/feeds/{made['id']}/resume", data={"csrf": csrf}, headers={"Origin": "https://evil.example"})
    assert other.status_code == 403
    assert [f["state"] for f in client.get("/api/feeds").json() if f["id"] == made["id"]] == ["paused"]
    client.post(f"/feeds/{made['id']}/remove", data={"csrf": csrf})
    assert all(f["id"] != made["id"] for f in client.get("/api/feeds").json())

    client.post("/logout", data={"csrf": csrf})
    assert not client.cookies.get("session")
    assert client.post("/feeds/add", data={"csrf": csrf, "url": feed.as_uri()}).status_code == 403


def test_a_private_archive_needs_the_token_to_read(tmp_path):
    db = one_article_archive(tmp_path / "private.sqlite3", "私", "https://p.example/1", "秘密")
    with pytest.raises(ValueError):
        create_app(db, private=True)
    client = TestClient(create_app(db, token="sekrit", private=True))
    for path in ["/", "/article/1", "/search?q=秘密", "/site/私"]:
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/login", path
    for path in ["/api/articles", "/feed.atom", "/site/私/feed.json"]:
        answer = client.get(path)
        assert answer.status_code == 401 and "秘密" not in answer.text
    assert client.get("/static/style.css").status_code == 200
    assert "秘密" in client.get("/api/articles", headers={"Authorization": "Bearer sekrit"}).text
    assert "秘密" in client.get("/feed.atom", auth=("reader", "sekrit")).text
    assert client.get("/feed.atom", auth=("reader", "wrong")).status_code == 401
    signed_in(client)
    assert "秘密" in client.get("/article/1").text


def cursor_of(values) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def test_odd_input_gets_an_answer_never_a_server_error(client):
    for path in ["/?tz=America", "/?tz=Etc/__pycache__", "/?tz=" + "A" * 500, "/?tz=%00"]:
        answer = client.get(path)
        assert answer.status_code == 200 and "content-security-policy" in answer.headers, path
    assert client.get("/day/9999-12-31").status_code == 200
    assert client.get("/day/0001-01-01").status_code == 200
    for path in [
        "/api/articles?cursor=" + cursor_of([1e400, 1]),
        "/site/法广?cursor=" + cursor_of([1, 2**70]),
        "/api/search?q=停火&cursor=" + cursor_of([1, 1, 2**70]),
        "/api/search?q=停火&cursor=" + cursor_of([float("nan"), 1, 1]).replace("NaN", "NaN"),
        "/api/articles?cursor=" + cursor_of(["x", None]),
    ]:
        assert client.get(path).status_code == 400, path


def test_links_that_are_not_web_addresses_are_never_links(tmp_path):
    db = tmp_path / "links.sqlite3"
    with tidings.open_archive(db) as archive:
        with archive.store.transaction():
            site = archive.store.site("bad\x01site").id
            article = archive.store.add_article(site, "j", "javascript:alert(document.domain)", T0, T0)
            archive.store.add_revision(article.id, NewRevision(T0, "t\x02itle", "<p>x</p>", RevisionSource.FEED))
        archive.derive()
    client = TestClient(create_app(db), raise_server_exceptions=False)
    page = client.get("/article/1").text
    assert 'href="javascript:' not in page and "javascript:alert(document.domain)" in page  # shown as text
    from tidings.parse import parse_feed

    for path in ["/feed.atom", "/site/bad%01site/feed.atom"]:
        atom = client.get(path)
        assert atom.status_code == 200, path
        parsed = parse_feed(atom.content, content_type="application/atom+xml")
        assert not parsed.recovered and parsed.entries[0].link != "javascript:alert(document.domain)"
    assert client.get("/feed.json").json()["items"][0]["url"].startswith("http://testserver/article/")


def test_an_empty_token_lets_nobody_in(tmp_path):
    db = tmp_path / "empty.sqlite3"
    tidings.open_archive(db).close()
    client = TestClient(create_app(db, token=""), raise_server_exceptions=False)
    assert client.post("/api/feeds", json={"url": "https://x.example/"}, headers={"Authorization": "Bearer "}).status_code == 403
    assert client.post("/api/feeds", json={"url": "https://x.example/"}, auth=("a", "")).status_code == 403
    assert client.post("/login", data={"token": ""}).status_code == 404
    with pytest.raises(ValueError):
        create_app(db, token="", private=True)


def test_signing_out_ends_the_session_and_sessions_expire(tmp_path):
    from tidings.web.access import SESSION_SECONDS, Access

    db = tmp_path / "out.sqlite3"
    tidings.open_archive(db).close()
    client = TestClient(create_app(db, token="sekrit", private=True))
    csrf = signed_in(client)
    kept = client.cookies.get("session")
    client.post("/logout", data={"csrf": csrf})
    client.cookies.set("session", kept)  # a copy of the cookie kept after signing out
    assert client.get("/api/articles").status_code == 401

    now = [1_000_000.0]
    access = Access("sekrit", clock=lambda: now[0])
    cookie = access.new_session()

    class Fake:
        cookies = {"session": cookie}

    assert access.session(Fake) is not None  # type: ignore[arg-type]
    now[0] += SESSION_SECONDS + 1
    assert access.session(Fake) is None  # type: ignore[arg-type]
    Fake.cookies = {"session": cookie.replace(".1000000.", ".9999999999.")}
    now[0] = 1_000_000.0
    assert access.session(Fake) is None  # type: ignore[arg-type]  # the time is signed too


def test_forms_from_this_host_count_whatever_the_scheme_and_null_origins_do_not(client):
    csrf = signed_in(client)
    assert client.post("/feeds/1/pause", data={"csrf": csrf}, headers={"Origin": "null"}).status_code == 403
    behind_tls = client.post("/feeds/1/pause", data={"csrf": csrf}, headers={"Origin": "https://testserver"})
    assert behind_tls.status_code == 404  # accepted, and the feed does not exist
    assert client.post("/feeds/1/pause", data={"csrf": csrf}, headers={"Origin": "https://testserver.evil"}).status_code == 403


def test_archive_feeds_use_the_configured_address(tmp_path):
    db = one_article_archive(tmp_path / "base.sqlite3", "s", "https://s.example/1", "t")
    client = TestClient(create_app(db, base_url="https://news.example/archive"))
    data = client.get("/feed.json", headers={"Host": "attacker.example"}).json()
    assert data["feed_url"] == "https://news.example/archive/feed.json"
    assert data["items"][0]["id"] == "https://news.example/archive/article/1"
    with pytest.raises(ValueError):
        create_app(db, base_url="javascript:alert(1)")
