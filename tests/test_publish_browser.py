"""A published mirror in a real headless Chromium: every page from file:// with its title and
no console error, and search served by tidings serve --mirror (Pagefind) in both scripts."""

from __future__ import annotations

import shutil
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import sync_playwright

from tidings.publish import publish
from tidings.publish import search as search_module
from tidings.web.mirror import create_mirror_app

from .conftest import SAMPLE, write_repository
from .test_publish import T0, build
from .test_import_export import add_fetched_article
from .test_web_browser import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):  # type: ignore[no-untyped-def]
    import tidings

    root = tmp_path_factory.mktemp("published")
    write_repository(root / "repo", SAMPLE)
    with tidings.open_archive(root / "archive.sqlite3") as archive:
        build(archive, root / "repo")
        for n in range(30):
            add_fetched_article(
                archive, "Harbour Gazette", f"https://gazette.example/more/{n}", f"Harbour story {n}",
                f"<p>Story number {n} about the harbour pilots.</p>", T0 + timedelta(hours=n),
            )
        archive.derive()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(search_module, "SHARD", 10)  # several bundles, merged by the search page
            report = publish(archive, root / "mirror")
            assert report.search.startswith("search index: 4 of 4 bundles built"), report.search
            add_fetched_article(
                archive, "Harbour Gazette", "https://gazette.example/late", "Harbour story late",
                "<p>The latest about the harbour pilots.</p>", T0 + timedelta(days=9),
            )
            archive.derive()
            again = publish(archive, root / "mirror")
            assert again.search.startswith("search index: 1 of 4 bundles built"), again.search
            assert publish(archive, root / "mirror").search == "search index unchanged"
    return root / "mirror"


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def watch(page):  # type: ignore[no-untyped-def]
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else problems.append(f"left file://: {r.url}"))
    return problems


def test_every_page_reads_from_disk_with_no_console_error(mirror, browser):
    page = browser.new_page()
    problems = watch(page)
    pages = [p for p in sorted(mirror.rglob("*.html")) if "pagefind" not in p.parts]
    for path in pages:
        page.goto(path.as_uri())
        assert page.title().endswith("· tidings"), path
        assert page.inner_text("main").strip(), path
    page.goto((mirror / "search.html").as_uri() + "?q=停火")
    assert "web server" in page.inner_text("#search-status") or "服务器" in page.inner_text("#search-status")
    assert problems == []
    page.close()


@pytest.fixture(scope="module")
def served(mirror):  # type: ignore[no-untyped-def]
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_mirror_app(mirror), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


def search(browser, url: str) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    problems = watch_served(page)
    page.goto(url)
    for _ in range(200):
        status = page.inner_text("#search-status")
        if "…" not in status:
            break
        time.sleep(0.05)
    titles = [a.inner_text() for a in page.query_selector_all("#search-results a")]
    page.close()
    assert problems == []
    return status, titles


def watch_served(page):  # type: ignore[no-untyped-def]
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    return problems


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("停火", "加薩停火協議生效"),  # a Simplified query finds Traditional text
        ("停火協議", "加薩停火協議生效"),  # and a Traditional one too
        ("加沙停火", "七国外长会议一致主张加沙停火 多国呼吁重振巴以两国共存框架"),
        ("沙停", "七国外长会议一致主张加沙停火 多国呼吁重振巴以两国共存框架"),  # across word boundaries
        ("協議生", "加薩停火協議生效"),
        ("pilots", "Harbour story 29"),
        ("ferry", "Night ferry returns [update]"),
    ],
)
def test_search_finds_articles_that_contain_the_query(browser, served, query, expected):
    status, titles = search(browser, f"{served}/search.html?q={query}")
    assert expected in titles, (status, titles)


def test_search_under_a_subpath_links_to_the_articles(browser, served, mirror):
    page = browser.new_page()
    page.goto(f"{served}/search.html?q=ferry")
    for _ in range(200):
        if page.query_selector("#search-results a"):
            break
        time.sleep(0.05)
    page.click("#search-results a")
    page.wait_for_load_state()
    assert "Night ferry returns" in page.inner_text("h1")
    page.close()


def test_hidden_entries_of_the_mirror_are_not_served(served):
    import httpx

    assert httpx.get(f"{served}/.tidings/00.json").status_code == 404
    assert httpx.get(f"{served}/index.html").headers["content-security-policy"].startswith("default-src 'none'")


def test_every_hit_shown_contains_the_query_and_absent_strings_find_nothing(browser, served):
    page = browser.new_page()
    for query, folded in (("停火", "停火"), ("協議", "协议"), ("harbour", "harbour")):
        page.goto(f"{served}/search.html?q={query}")
        for _ in range(200):
            if "…" not in page.inner_text("#search-status"):
                break
            time.sleep(0.05)
        marks = [m.inner_text() for m in page.query_selector_all("#search-results mark")]
        items = page.query_selector_all("#search-results li")
        assert items and len(marks) == len(items)
        assert all(m.lower() in (query.lower(), folded) for m in marks), marks
    status, titles = search(browser, f"{served}/search.html?q=沙滩停火")
    assert titles == [] and ("没有结果" in status or "No results" in status)
    page.close()
