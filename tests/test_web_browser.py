"""The web app in a real headless Chromium: reading, comparing, searching; hostile content stays inert."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.sync_api import sync_playwright

import tidings
from tidings.model import NewRevision, RevisionSource
from tidings.web import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
T0 = datetime(2025, 11, 20, 8, tzinfo=timezone.utc)
XSS = [
    '<script>alert("x")</script>',
    '<img src=x onerror="alert(1)">',
    '<svg onload="alert(2)"><circle r="1"/></svg>',
    '<a href="javascript:alert(3)">click</a>',
    '<iframe src="javascript:alert(4)"></iframe>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(5)></style></mglyph></table></mtext></math>',
    '<details open ontoggle="alert(6)">d</details>',
    '<img src="https://tracker.example/pixel.png">',
    '<object data="javascript:alert(7)"></object>',
    '"><script>alert(8)</script>',
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # type: ignore[no-untyped-def]
    db = tmp_path_factory.mktemp("browser") / "web.sqlite3"
    with tidings.open_archive(db) as archive:
        store = archive.store
        with store.transaction():
            site = store.site("法广").id
            article = store.add_article(site, "g7", "https://rfi.example/g7", T0, T0)
            store.add_revision(article.id, NewRevision(T0, "七国外长会议", "<p>外长会议呼吁停火。</p>", RevisionSource.FEED))
            store.add_revision(
                article.id,
                NewRevision(T0 + timedelta(hours=1), "七国外长会议一致主张加沙停火", "<p>外长会议一致呼吁加沙停火。</p>", RevisionSource.FEED),
            )
            evil = store.site('"><script>alert(9)</script>').id
            for n, payload in enumerate(XSS):
                hostile = store.add_article(evil, f"x{n}", f"javascript:alert({n})", T0, T0 - timedelta(hours=n + 1))
                store.add_revision(hostile.id, NewRevision(T0, f"停火 {payload}", f"<p>停火 {payload}</p>", RevisionSource.FEED))
        archive.derive()
    port = free_port()
    config = uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="error")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not instance.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert instance.started, "the web server did not start"
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        )
        yield launched
        launched.close()


def watched_page(browser, origin):  # type: ignore[no-untyped-def]
    """A page that records every dialog, console error and request leaving the origin."""
    page = browser.new_page()
    events: dict[str, list[str]] = {"dialogs": [], "errors": [], "outside": [], "failed": []}

    def on_dialog(dialog):  # type: ignore[no-untyped-def]
        events["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda message: message.type == "error" and events["errors"].append(message.text))
    host = urlsplit(origin).netloc

    def on_request(request):  # type: ignore[no-untyped-def]
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https") and parts.netloc != host:
            events["outside"].append(request.url)

    page.on("request", on_request)
    page.on("response", lambda response: response.status >= 400 and events["failed"].append(response.url))
    return page, events


def test_read_compare_and_search(server, browser):  # type: ignore[no-untyped-def]
    page, events = watched_page(browser, server)
    page.goto(server + "/?lang=zh")
    page.click("text=法广")
    page.click("text=七国外长会议一致主张加沙停火")
    assert "外长会议一致呼吁加沙停火" in page.inner_text("article")
    page.click("text=比较")
    inserted = [page.locator("ins").nth(i).inner_text() for i in range(page.locator("ins").count())]
    assert "一致" in inserted and "加沙" in inserted
    page.fill("input[type=search]", "加沙停火")
    page.press("input[type=search]", "Enter")
    page.wait_for_load_state()
    assert page.locator("mark").first.inner_text() == "加沙停火"
    assert events == {"dialogs": [], "errors": [], "outside": [], "failed": []}


def test_hostile_titles_bodies_links_and_site_names_stay_inert(server, browser):  # type: ignore[no-untyped-def]
    page, events = watched_page(browser, server)
    page.goto(server + "/search?q=停火")
    links = page.locator("a.title")
    assert links.count() >= len(XSS)
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    for href in hrefs:
        page.goto(server + href)
        page.wait_for_load_state()
    page.goto(server + "/")
    page.wait_for_load_state()
    assert events["dialogs"] == []
    assert events["outside"] == []
    # Images load through the server's proxy, which cannot reach the invented hosts (502);
    # no other request fails, and nothing else is reported.
    assert events["failed"] and all(urlsplit(url).path == "/image" for url in events["failed"])
    assert not [
        e for e in events["errors"] if "Content Security Policy" not in e and "Failed to load resource" not in e
    ]
