"""What the web app's pages say: site lists, the feeds table, China time, revision comparisons.

Each test builds a real SQLite archive (through the library, imports and feed
updates included) and reads the pages through the real app.
"""

from __future__ import annotations

import re
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import tidings
from tidings.model import NewRevision, RevisionSource

warnings.filterwarnings("ignore", message=".*httpx.*", category=DeprecationWarning)
from starlette.testclient import TestClient  # noqa: E402

from tidings.web import create_app  # noqa: E402

from .conftest import document_bytes  # noqa: E402

T0 = datetime(2025, 11, 20, 8, 15, tzinfo=timezone.utc)
IMPORTED_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
ONE_ARTICLES = re.compile(r"(?<![\d,])1 articles")


def app_client(db: Path) -> TestClient:
    return TestClient(create_app(db, token="sekrit"), raise_server_exceptions=False)


def add_article(store, site: str, key: str, when: datetime, title: str, *, language: str | None = None) -> int:
    article = store.add_article(store.site(site).id, key, f"https://{key}.example/", when, when)
    store.add_revision(
        article.id, NewRevision(when, title, f"<p>{title}</p>", RevisionSource.FEED, language=language)
    )
    return article.id


def row_of(page: str, text: str) -> str:
    """The table row of ``page`` that holds ``text``."""
    (row,) = [r for r in page.split("<tr>") if text in r]
    return row


def meta_line(page: str) -> str:
    """The text of the first ``<p class="meta">`` of a page, tags removed."""
    found = re.search(r'<p class="meta">(.*?)</p>', page, re.S)
    assert found, page
    return re.sub(r"<[^>]+>", "", found.group(1))


def test_site_names_link_to_their_timelines_and_say_how_many_articles(tmp_path):
    db = tmp_path / "sites.sqlite3"
    with tidings.open_archive(db) as archive:
        with archive.store.transaction():
            add_article(archive.store, "法广", "rfi", T0, "七国外长会议")
            for n in range(12):
                add_article(archive.store, "AC/DC News", f"acdc{n}", T0 - timedelta(hours=n), f"Tour date {n}")
        archive.add_feed("https://empty.example/rss", site="Empty Gazette")
    client = app_client(db)

    english = client.get("/?lang=en").text
    assert re.search(r'<a class="title" href="/site/AC%2FDC%20News">AC/DC News</a>\s*<span class="muted">12 articles</span>', english)
    assert re.search(r'href="/site/%E6%B3%95%E5%B9%BF">法广</a>\s*<span class="muted">1 article</span>', english)
    assert re.search(r">Empty Gazette</a>\s*<span class=\"muted\">0 articles</span>", english)
    chinese = client.get("/?lang=zh").text
    assert "12 篇文章" in chinese and "1 篇文章" in chinese and "articles" not in chinese

    timeline = client.get("/site/AC%2FDC%20News")  # the encoded slash reaches the site, not a sub-path
    assert timeline.status_code == 200 and "Tour date 11" in timeline.text
    article = client.get("/article/2?lang=en").text
    assert 'href="/site/AC%2FDC%20News"' in article
    for path in ["/", "/site/AC%2FDC%20News", "/site/法广", "/article/1", "/day/2025-11-20", "/search?q=Tour"]:
        page = client.get(path + ("&" if "?" in path else "?") + "lang=en")
        assert page.status_code == 200 and not ONE_ARTICLES.search(page.text), path


def write_feed(path: Path, title: str) -> str:
    path.write_text(
        f'<rss version="2.0"><channel><title>{title}</title><link>https://gazette.example/</link>'
        "<item><title>Harbour reopens</title><link>https://gazette.example/1</link><guid>1</guid>"
        "<description>&lt;p&gt;The harbour reopens.&lt;/p&gt;</description></item></channel></rss>",
        encoding="utf-8",
    )
    return path.as_uri()


def test_the_feeds_table_shows_each_feeds_own_title_its_site_and_never_fetched(tmp_path):
    db = tmp_path / "feeds.sqlite3"
    with tidings.open_archive(db) as archive:
        fetched = archive.add_feed(write_feed(tmp_path / "gazette.xml", "Harbour Gazette: Latest"), site="Gazette")
        archive.update(feeds=[fetched.id])
        archive.add_feed("https://never.example/rss.xml", site="AC/DC")
    client = app_client(db)

    english = client.get("/?lang=en").text
    assert re.search(r"<th>Feed</th><th>Site</th><th>Articles</th>", english)
    good = row_of(english, "Harbour Gazette: Latest")  # the title the feed gives itself
    assert '<td><a href="/site/Gazette">Gazette</a></td><td>1</td>' in good
    assert "active" in good and "never fetched" not in good
    never = row_of(english, "https://never.example/rss.xml")
    assert never.startswith("<td>https://never.example/rss.xml</td>")  # no title yet: the URL stands in
    assert '<td><a href="/site/AC%2FDC">AC/DC</a></td><td>0</td>' in never
    assert "never fetched" in never and "active" not in never
    chinese = client.get("/?lang=zh").text
    assert "从未抓取" in row_of(chinese, "https://never.example/rss.xml")
    assert "正常" in row_of(chinese, "Harbour Gazette: Latest")
    assert "<th>来源</th>" in chinese


def test_china_time_goes_with_chinese_content_not_with_chinese_site_names(tmp_path):
    db = tmp_path / "zones.sqlite3"
    with tidings.open_archive(db) as archive:
        with archive.store.transaction():
            rfi = add_article(archive.store, "RFI", "rfi", T0, "外长会议呼吁停火", language="zh-CN")
            add_article(archive.store, "RFI", "rfi2", T0 - timedelta(hours=1), "加沙停火谈判", language="zh-cn")
            english = add_article(archive.store, "法广", "rfi-en", T0, "Ministers call for a ceasefire", language="en")
            unknown = add_article(archive.store, "Gazette", "gazette", T0, "Harbour reopens")
            named = add_article(archive.store, "德国之声", "dw", T0, "外长会议")  # no language: the name decides
        archive.derive()
    client = app_client(db)
    china = "2025-11-20 16:15 (UTC+8) · 2025-11-20 08:15 UTC"

    assert china in client.get(f"/article/{rfi}").text  # a Latin site name with Chinese content
    assert china in client.get("/site/RFI").text  # the site's language, for lists without the revision
    assert china in client.get("/search", params={"q": "停火 site:RFI"}).text
    assert "(UTC+8)" not in client.get(f"/article/{english}").text  # an English article of a Chinese name
    assert "(UTC+8)" not in client.get(f"/article/{unknown}").text
    assert china in client.get(f"/article/{named}").text
    day = client.get("/day/2025-11-20").text
    assert day.count("(UTC+8)") == 3  # RFI twice and 德国之声; 法广 writes in English here, Gazette is unknown


def revised_archive(db: Path) -> tuple[int, int]:
    """An article of a site without Chinese in a feed version and an extracted one; one of one version."""
    with tidings.open_archive(db) as archive:
        with archive.store.transaction():
            store = archive.store
            article = store.add_article(store.site("Gazette").id, "ferry", "https://gazette.example/ferry", T0, T0)
            store.add_revision(article.id, NewRevision(T0, "Night ferry", "<p>The ferry sails.</p>", RevisionSource.FEED))
            store.add_revision(
                article.id,
                NewRevision(
                    T0 + timedelta(minutes=25), "Night ferry returns", "<p>The ferry sails on Monday.</p>",
                    RevisionSource.EXTRACTED,
                ),
            )
            single = add_article(store, "Gazette", "single", T0, "Only once")
        archive.derive()
    return article.id, single


def test_the_comparison_page_without_choices_shows_the_newest_change(tmp_path):
    revised, single = revised_archive(tmp_path / "diff.sqlite3")
    client = app_client(tmp_path / "diff.sqlite3")

    newest = client.get(f"/article/{revised}/diff")
    assert newest.status_code == 200
    assert "<del>sails.</del><ins>sails on Monday.</ins>" in newest.text  # from the feed to the extracted text
    first, second = (r["id"] for r in client.get(f"/api/articles/{revised}/revisions").json())
    chosen = client.get(f"/article/{revised}/diff", params={"from": first, "to": second})
    assert chosen.text == newest.text
    assert client.get(f"/article/{revised}/diff", params={"to": second}).text == newest.text

    for path in [f"/article/{single}/diff?lang=en", f"/article/{revised}/diff?to={first}&lang=en"]:
        alone = client.get(path)
        assert alone.status_code == 200, path
        assert "nothing to compare" in alone.text and "<ins>" not in alone.text
    assert "没有可以比较的" in client.get(f"/article/{single}/diff?lang=zh").text
    assert client.get(f"/article/{revised}/diff?from=999999").status_code == 404
    assert client.get(f"/article/{revised}/diff?to=999999").status_code == 404
    assert client.get("/article/999999/diff").status_code == 404


def test_the_comparison_names_each_side_by_its_source_and_time(tmp_path):
    db = tmp_path / "sides.sqlite3"
    revised, _ = revised_archive(db)
    client = app_client(db)
    header = meta_line(client.get(f"/article/{revised}/diff?lang=en").text)
    assert header == "feed, 2025-11-20 08:15 UTC → extracted, 2025-11-20 08:40 UTC"
    assert meta_line(client.get(f"/article/{revised}/diff?lang=zh").text) == (
        "订阅源，2025-11-20 08:15 UTC → 全文提取，2025-11-20 08:40 UTC"
    )


def test_an_imported_version_is_dated_by_its_document_not_by_the_import(tmp_path):
    folder = tmp_path / "documents"
    folder.mkdir()
    stated = datetime(2023, 11, 8, 1, 55, tzinfo=timezone.utc)
    (folder / "1048575_Night ferry.md").write_bytes(
        document_bytes(int(stated.timestamp() * 1000), "Night ferry", "https://gazette.example/ferry", "<p>The ferry sails.</p>")
    )
    db = tmp_path / "imported.sqlite3"
    with tidings.open_archive(db, clock=lambda: IMPORTED_AT) as archive:
        report = archive.import_documents(folder, site="Gazette")
        assert report.new_articles == 1
        (article,) = archive.articles()
        with archive.store.transaction():
            archive.store.add_revision(
                article.id, NewRevision(T0, "Night ferry returns", "<p>The ferry sails again.</p>", RevisionSource.FEED)
            )
        archive.derive()
    client = app_client(db)

    header = meta_line(client.get(f"/article/{article.id}/diff?lang=en").text)
    assert header == "imported document, 2023-11-08 01:55 UTC → feed, 2025-11-20 08:15 UTC"
    assert "2026-01-02" not in client.get(f"/article/{article.id}?lang=en").text.split("<h2>")[-1]
    assert "imported document, 2023-11-08 01:55 UTC" in client.get(f"/article/{article.id}?lang=en").text
