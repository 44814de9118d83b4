"""Full text (:mod:`tidings.extract`) and its use: extraction from article pages in
any encoding, site body selectors, full text in updates against a real HTTP server on
127.0.0.1, and the commands that show and re-derive clean text (``inspect --clean``,
``inspect --article``, ``reclean``, ``import``).

Every page, feed and repository is built here; nothing is read from outside.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner

import tidings
from tidings.cli import cli
from tidings.extract import Extracted, extract_article
from tidings.fetch import Limits
from tidings.model import FeedOptions, RevisionSource
from tidings.siterules import RULES_ENV, parse_site_rules

from .loopback import serving

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
FAST = Limits(connect_timeout=2, read_timeout=2, total_timeout=5, max_bytes=2_000_000)


@pytest.fixture(autouse=True)
def _no_user_rules(tmp_path_factory, monkeypatch):
    """Only the shipped site rules (whatever the machine's config folder holds)."""
    monkeypatch.setenv(RULES_ENV, str(tmp_path_factory.mktemp("no-user-rules")))
    monkeypatch.delenv("TIDINGS_DB", raising=False)


# --------------------------------------------------------------------------- pages

NEWS = [
    "The city council voted on Tuesday to approve a new budget for the harbour district, ending months of "
    "debate among residents and officials about how the waterfront should change.",
    "Under the plan, the old ferry terminal will be restored and turned into a public market, with space for "
    "fishmongers, bakers and small grocers who lost their stalls after the fire of 2019.",
    "Mayor Elena Ruiz said the decision marked a turning point. “We listened to the people who live and work "
    "here, and this budget reflects what they asked for,” she told reporters after the vote.",
    "Critics argued that the cost, estimated at 48 million dollars over five years, would force cuts elsewhere, "
    "particularly in road maintenance and the library service in the northern suburbs.",
    "The council’s finance committee will publish a detailed breakdown of the spending next month, and a public "
    "consultation on the market’s design is expected to open in the spring.",
    "Construction is scheduled to begin early next year, and officials hope the first traders can move into the "
    "restored terminal before the summer tourist season of the following year.",
]
FURNITURE = [
    "We use cookies to improve your experience on our site",
    "Accept all cookies",
    "News section link",
    "Sport section link",
    "Opinion section link",
    "Sidebar: Lottery winner found after ten years",
    "Sidebar: Seal spotted in city fountain",
    "Advertisement: buy cheap boats now",
    "Related: Ferry strike enters third week",
    "Related: Fishmongers protest new rules",
    "Commenter Bob wrote",
    "Commenter Alice wrote",
    "Copyright 2024 Harbour Gazette Media Group",
    "Privacy policy footer link",
    "Contact us footer link",
]


def news_page(paragraphs: list[str] = NEWS, *, title: str = "Council approves harbour budget", charset: str = "utf-8") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="{charset}"><title>{title} - Harbour Gazette</title>
<meta property="og:title" content="{title}"></head><body>
<div id="cookie-banner" class="cookie-consent"><p>We use cookies to improve your experience on our site. By continuing you
accept our cookie policy.</p><button>Accept all cookies</button></div>
<header class="site-header"><a href="/">Harbour Gazette</a><nav class="main-nav"><ul><li><a href="/news">News section link</a></li>
<li><a href="/sport">Sport section link</a></li><li><a href="/opinion">Opinion section link</a></li></ul></nav></header>
<div class="layout"><main><article><h1>{title}</h1><p class="byline">By Jane Doe, 12 March 2024</p>
{body}
</article>
<section class="related"><h2>Related stories</h2><ul><li><a href="/a">Related: Ferry strike enters third week</a></li>
<li><a href="/b">Related: Fishmongers protest new rules</a></li></ul></section>
<section id="comments" class="comments"><h2>Comments</h2>
<div class="comment"><p>Commenter Bob wrote: this budget is a total waste of taxpayer money and I will vote them out.</p></div>
<div class="comment"><p>Commenter Alice wrote: finally some good news for the waterfront after all these years.</p></div></section>
</main><aside class="sidebar"><h3>Most read</h3><ul><li><a href="/x">Sidebar: Lottery winner found after ten years</a></li>
<li><a href="/y">Sidebar: Seal spotted in city fountain</a></li></ul><div class="ad">Advertisement: buy cheap boats now</div></aside></div>
<footer class="site-footer"><p>Copyright 2024 Harbour Gazette Media Group. All rights reserved.</p>
<ul><li><a href="/privacy">Privacy policy footer link</a></li><li><a href="/contact">Contact us footer link</a></li></ul></footer>
</body></html>"""


def test_realistic_news_page_gives_the_body_and_nothing_else():
    found = extract_article(
        news_page().encode("utf-8"),
        url="https://gazette.example/news/harbour-budget",
        content_type="text/html; charset=utf-8",
        site_rules=(),
    )
    assert isinstance(found, Extracted)
    for paragraph in NEWS:
        assert paragraph in found.text
    for furniture in FURNITURE:
        assert furniture not in found.text, furniture
    assert found.title == "Council approves harbour budget"
    assert "<p>" in found.html and "<nav" not in found.html


def test_str_page_is_accepted():
    found = extract_article(news_page(), url="https://gazette.example/n", site_rules=())
    assert found is not None and NEWS[0] in found.text


# --------------------------------------------------------------------------- encodings

SIMPLIFIED = [
    "朱镕基曾任国务院总理，他在任期间推动了多项经济改革，对中国的发展产生了深远影响，这段文字用于测试编码。",
    "张喆是一位年轻的记者，他在报道中详细记录了当地居民对新政策的看法，以及他们对未来生活的期待与担忧。",
    "据报道，此次会议讨论了环境保护、教育投入和医疗改革等议题，与会代表纷纷发表意见，会议持续了整整两天。",
    "专家指出，这些措施如果能够落实，将有助于缓解城市交通拥堵问题，同时也能改善空气质量和居民的生活环境。",
]
TRADITIONAL = [
    "朱鎔基曾任國務院總理，他在任期間推動了多項經濟改革，對中國的發展產生了深遠影響，這段文字用於測試編碼。",
    "台灣的記者在報導中詳細記錄了當地居民對新政策的看法，以及他們對未來生活的期待與擔憂，內容十分豐富。",
    "據報導，此次會議討論了環境保護、教育投入和醫療改革等議題，與會代表紛紛發表意見，會議持續了整整兩天。",
]


def chinese_page(head: str, paragraphs: list[str], title: str, home: str, rights: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head>{head}<title>{title}</title></head><body>"
        f'<div class="nav"><a href="/">{home}</a></div><article><h1>{title}</h1>{body}</article>'
        f'<div class="footer">{rights}</div></body></html>'
    )


def assert_no_mojibake(found: Extracted | None, expected: list[str]) -> None:
    assert found is not None
    for paragraph in expected:
        assert paragraph in found.text
    assert "\ufffd" not in found.text
    assert not any(marker in found.text for marker in ("Ã", "â€", "å", "ä¸", "é"))


def test_gbk_page_labelled_gb2312_in_meta():
    data = chinese_page('<meta charset="gb2312">', SIMPLIFIED, "新闻标题", "首页", "版权所有").encode("gbk")
    with pytest.raises(UnicodeEncodeError):
        "喆镕".encode("gb2312")  # the page really needs more than GB2312
    for content_type in ("text/html", None):
        found = extract_article(data, url="https://zh.example/a", content_type=content_type, site_rules=())
        assert_no_mojibake(found, SIMPLIFIED)
        assert found.title == "新闻标题"


def test_big5_page_labelled_by_http_equiv_meta():
    head = '<meta http-equiv="Content-Type" content="text/html; charset=big5">'
    data = chinese_page(head, TRADITIONAL, "繁體新聞", "首頁", "版權所有").encode("big5")
    found = extract_article(data, url="https://tw.example/a", content_type="text/html", site_rules=())
    assert_no_mojibake(found, TRADITIONAL)
    assert found.title == "繁體新聞"


def test_http_charset_wins_over_meta():
    data = chinese_page('<meta charset="utf-8">', SIMPLIFIED, "新闻标题", "首页", "版权所有").encode("gbk")
    found = extract_article(
        data, url="https://zh.example/a", content_type="text/html; charset=gb2312", site_rules=()
    )
    assert_no_mojibake(found, SIMPLIFIED)


def test_utf8_page_without_any_label():
    data = chinese_page("", SIMPLIFIED, "新闻标题", "首页", "版权所有").encode("utf-8")
    assert_no_mojibake(extract_article(data, url="https://zh.example/a", site_rules=()), SIMPLIFIED)


# --------------------------------------------------------------------------- site rules

STORY = [
    "Story paragraph one: the river authority confirmed on Monday that the northern dam will be inspected after "
    "heavy rains raised concerns among farmers downstream.",
    "Story paragraph two: engineers will spend three weeks examining the spillway, and the authority said water "
    "levels would be lowered gradually to allow the work.",
    "Story paragraph three: farmers welcomed the decision but asked for compensation if irrigation is interrupted "
    "during the planting season this spring.",
]
PROMO = [
    "Editor's picks from across our network, hand-selected by our editors every morning for readers like you who "
    "love great journalism and long reads.",
    "Support independent journalism today. Become a member for just a few dollars a month and help us keep "
    "reporting the news that matters to you.",
]


def river_page(teaser: str = PROMO[0], story: list[str] = STORY) -> bytes:
    return (
        "<html><head><title>Dam inspection</title></head><body><article>"
        f'<div class="promo"><p>{teaser}</p></div>'
        f'<div class="story">{"".join(f"<p>{p}</p>" for p in story)}</div>'
        f'<div class="support"><p>{PROMO[1]}</p></div>'
        "</article></body></html>"
    ).encode("utf-8")


RIVER_RULE = parse_site_rules('name = "River"\ndomains = ["river.example"]\nbody = "div.story"\n', "river.toml")


def test_heuristic_alone_takes_the_promotions_too():
    """The page is one where the heuristic gets it wrong (what the rule is for)."""
    found = extract_article(river_page(), url="https://www.river.example/dam", site_rules=())
    assert found is not None and found.method != "selector"
    assert any(promo in found.text for promo in PROMO)


def test_site_body_selector_takes_precedence():
    found = extract_article(river_page(), url="https://www.river.example/dam", site_rules=(RIVER_RULE,))
    assert found is not None
    assert found.method == "selector"
    assert found.text.split("\n\n") == STORY
    for promo in PROMO:
        assert promo not in found.text and promo not in found.html
    assert found.title == "Dam inspection"


def test_site_body_selector_only_for_its_domain():
    found = extract_article(river_page(), url="https://other.example/dam", site_rules=(RIVER_RULE,))
    assert found is not None and found.method != "selector"


def test_selector_with_too_little_text_falls_back_to_the_heuristic():
    short = parse_site_rules('domains = ["river.example"]\nbody = "div.promo"\n', "short.toml")
    found = extract_article(river_page(teaser="Short teaser."), url="https://river.example/dam", site_rules=(short,))
    assert found is not None
    assert found.method != "selector"
    for paragraph in STORY:
        assert paragraph in found.text


def test_selector_that_matches_nothing_falls_back_to_the_heuristic():
    nothing = parse_site_rules('domains = ["river.example"]\nbody = "div.nothing-here"\n', "none.toml")
    found = extract_article(river_page(), url="https://river.example/dam", site_rules=(nothing,))
    assert found is not None and found.method != "selector"
    assert STORY[0] in found.text


def test_selected_body_with_a_stray_control_character_still_extracts():
    """A form feed pasted into an article must not make extraction raise."""
    story = [STORY[0] + "\x0c", *STORY[1:]]
    try:
        found = extract_article(river_page(story=story), url="https://river.example/dam", site_rules=(RIVER_RULE,))
    except ValueError as exc:  # what it must not do: a page either has an article or gives None
        pytest.fail(f"extract_article raised {exc!r}")
    assert found is not None
    for paragraph in STORY[1:]:
        assert paragraph in found.text


# --------------------------------------------------------------------------- no article

BARE_LOGIN = (
    b"<html><head><title>Sign in</title></head><body><form action='/login' method='post'>"
    b"<label>Email <input name='email'></label><label>Password <input type='password' name='pw'></label>"
    b"<button>Sign in</button></form></body></html>"
)
SITE_LOGIN = b"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Sign in | Harbour Gazette</title></head><body>
<header><a href="/">Harbour Gazette</a><nav><a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
<main><h1>Sign in to your account</h1><form action="/login" method="post"><label for="e">Email address</label>
<input id="e" name="email" type="email"><label for="p">Password</label><input id="p" type="password" name="pw">
<label><input type="checkbox"> Remember me</label><button type="submit">Sign in</button></form>
<p><a href="/forgot">Forgot your password?</a></p><p>New here? <a href="/register">Create an account</a></p></main>
<footer><p>Copyright 2024 Harbour Gazette</p></footer></body></html>"""


@pytest.mark.parametrize(
    "page",
    [
        BARE_LOGIN,
        b"<html><head><title>Empty</title></head><body></body></html>",
        b"<html><head><title>Nav</title></head><body><div class='nav'><a href='/a'>A</a> <a href='/b'>B</a></div></body></html>",
        b"",
        b"   \n\t ",
        b"\x00\x01\x02\x03 binary",
    ],
    ids=["bare-login", "empty-body", "links-only", "empty", "blank", "binary"],
)
def test_page_without_an_article_gives_none(page):
    assert extract_article(page, url="https://gazette.example/x", site_rules=()) is None


def test_site_login_page_gives_none():
    """A newspaper's sign-in page (header, a form, two help links, a footer) holds no article."""
    found = extract_article(SITE_LOGIN, url="https://gazette.example/login", site_rules=())
    assert found is None, found


# --------------------------------------------------------------------------- the server


@dataclass
class Served:
    status: int
    body: bytes
    content_type: str


@dataclass
class Site:
    port: int = 0
    routes: dict[str, Served] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, body: bytes | str, content_type: str = "text/html; charset=utf-8", status: int = 200) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Served(status, data, content_type)
        return self.url(path)

    def count(self, path: str) -> int:
        with self.lock:
            return self.hits.count(path)

    def count_prefix(self, prefix: str) -> int:
        with self.lock:
            return sum(1 for hit in self.hits if hit.startswith(prefix))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        site: Site = self.server.site  # type: ignore[attr-defined]
        path = urlsplit(self.path).path
        with site.lock:
            site.hits.append(path)
        served = site.routes.get(path) or Served(404, b"<html><body><h1>Not found</h1></body></html>", "text/html")
        self.send_response(served.status)
        self.send_header("Content-Type", served.content_type)
        self.send_header("Content-Length", str(len(served.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(served.body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def site() -> Iterator[Site]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    state = Site(port=httpd.server_address[1])
    httpd.site = state  # type: ignore[attr-defined]
    with serving(httpd):
        yield state


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[tidings.Archive]:
    with tidings.open_archive(tmp_path / "archive.sqlite3", clock=lambda: NOW) as opened:
        yield opened


@dataclass(frozen=True)
class Item:
    title: str
    link: str
    summary: str
    content: str | None = None


def rss(items: list[Item]) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<channel><title>Harbour Gazette</title><link>https://gazette.example/</link>"
    ]
    for number, item in enumerate(items):
        parts.append(f"<item><title>{escape(item.title)}</title><link>{escape(item.link)}</link>")
        parts.append(f'<guid isPermaLink="false">item-{number}-{escape(item.link)}</guid>')
        parts.append(f"<pubDate>Tue, 0{number + 1} Jan 2026 08:00:00 GMT</pubDate>")
        parts.append(f"<description><![CDATA[{item.summary}]]></description>")
        if item.content is not None:
            parts.append(f"<content:encoded><![CDATA[{item.content}]]></content:encoded>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


SECOND = [
    "Dockworkers at the container terminal began a two-day strike on Wednesday, halting the loading of ships "
    "and leaving dozens of lorries queuing along the coast road for several kilometres.",
    "The union said the action was a response to new shift patterns introduced without consultation, and that "
    "further stoppages would follow if management refused to return to the negotiating table.",
    "The port authority urged both sides to resume talks and warned that a prolonged dispute could cost the "
    "regional economy millions of dollars in delayed exports and perishable goods.",
]
GBK_STORY = [
    "港口管理局周三宣布，新的渡轮航线将于下月开通，连接市中心与北部岛屿，预计每天可运送乘客三千人次。",
    "张喆代表居民委员会表示欢迎，并希望票价能够保持在普通家庭可以承受的水平，同时增加夜间班次。",
    "朱镕基纪念图书馆馆长也指出，新航线将方便学生和游客前往岛上的图书馆与博物馆参观学习。",
]


def summaries_feed(site: Site) -> tuple[str, dict[str, list[str]]]:
    """A feed of three short summaries, each linking to an article page on the same server."""
    pages = {
        "/news/budget": NEWS,
        "/news/strike": SECOND,
        "/news/ferry": GBK_STORY,
    }
    site.serve("/news/budget", news_page())
    site.serve("/news/strike", news_page(SECOND, title="Dockworkers strike"))
    site.serve(
        "/news/ferry",
        chinese_page("", GBK_STORY, "渡轮新航线", "首页", "版权所有").encode("gbk"),
        content_type="text/html; charset=gbk",
    )
    items = [
        Item("Council approves harbour budget", site.url("/news/budget"), "<p>The council approved the budget.</p>"),
        Item("Dockworkers strike", site.url("/news/strike"), "<p>Dockworkers walked out.</p>"),
        Item("渡轮新航线", site.url("/news/ferry"), "<p>新航线下月开通。</p>"),
    ]
    feed_url = site.serve("/feed.xml", rss(items), content_type="application/rss+xml; charset=utf-8")
    return feed_url, {site.url(path): body for path, body in pages.items()}


def current_revisions(archive: tidings.Archive) -> dict[int, object]:
    return {r.article_id: r for r in archive.store.iter_revisions(latest_only=True)}


def test_auto_full_text_adds_an_extracted_revision_beside_the_feed_one(site, archive):
    feed_url, bodies = summaries_feed(site)
    archive.add_feed(feed_url, site="Gazette", options=FeedOptions(full_text="auto"))
    summary = archive.update(due_only=False, limits=FAST)
    assert summary.failed == 0 and summary.new_articles == 3
    assert summary.extracted == 3
    articles = {a.url: a for a in archive.articles("Gazette")}
    assert set(articles) == set(bodies)
    current = current_revisions(archive)
    for url, paragraphs in bodies.items():
        article = articles[url]
        revisions = archive.revisions(article.id)
        assert [r.source for r in revisions] == [RevisionSource.FEED, RevisionSource.EXTRACTED]
        feed_revision, extracted = revisions
        assert extracted.title == feed_revision.title
        assert extracted.text is not None and extracted.clean_html is not None
        for paragraph in paragraphs:
            assert paragraph in extracted.text, (url, paragraph)
        assert "\ufffd" not in extracted.text
        for furniture in FURNITURE:
            assert furniture not in extracted.text
        # The feed's revision stays the current one.
        assert current[article.id].id == feed_revision.id
        assert current[article.id].source == RevisionSource.FEED
        assert feed_revision.text is not None and len(feed_revision.text) < 100
    assert site.count("/news/budget") == 1 and site.count("/news/strike") == 1 and site.count("/news/ferry") == 1
    feed = archive.get_feed(feed_url)
    assert feed.error_count == 0 and feed.error_kind is None

    # The same feed again: nothing changed, no page fetched again.
    again = archive.update(due_only=False, limits=FAST)
    assert again.failed == 0
    assert again.new_articles == 0 and again.changed_articles == 0
    assert again.extracted == 0
    assert site.count_prefix("/news/") == 3
    assert site.count("/feed.xml") == 2
    for article in archive.articles("Gazette"):
        assert len(archive.revisions(article.id)) == 2
    assert current_revisions(archive) == current


def test_never_fetches_no_page(site, archive):
    feed_url, _bodies = summaries_feed(site)
    archive.add_feed(feed_url, site="Gazette", options=FeedOptions(full_text="never"))
    summary = archive.update(due_only=False, limits=FAST)
    assert summary.new_articles == 3 and summary.extracted == 0
    assert site.count_prefix("/news/") == 0
    for article in archive.articles("Gazette"):
        assert [r.source for r in archive.revisions(article.id)] == [RevisionSource.FEED]


LONG_CONTENT = "".join(f"<p>{p}</p>" for p in SECOND)  # well over the summary limit


def test_auto_does_not_fetch_items_with_full_content(site, archive):
    site.serve("/news/strike", news_page(SECOND, title="Dockworkers strike"))
    feed_url = site.serve(
        "/full.xml",
        rss([Item("Dockworkers strike", site.url("/news/strike"), "<p>Dockworkers walked out.</p>", LONG_CONTENT)]),
        content_type="application/rss+xml",
    )
    archive.add_feed(feed_url, site="Gazette", options=FeedOptions(full_text="auto"))
    summary = archive.update(due_only=False, limits=FAST)
    assert summary.new_articles == 1 and summary.extracted == 0
    assert site.count("/news/strike") == 0


def test_always_extracts_even_with_full_content(site, archive):
    site.serve("/news/strike", news_page(SECOND, title="Dockworkers strike"))
    feed_url = site.serve(
        "/full.xml",
        rss([Item("Dockworkers strike", site.url("/news/strike"), "<p>Dockworkers walked out.</p>", LONG_CONTENT)]),
        content_type="application/rss+xml",
    )
    archive.add_feed(feed_url, site="Gazette", options=FeedOptions(full_text="always"))
    summary = archive.update(due_only=False, limits=FAST)
    assert summary.new_articles == 1 and summary.extracted == 1
    assert site.count("/news/strike") == 1
    (article,) = archive.articles("Gazette")
    feed_revision, extracted = archive.revisions(article.id)
    assert feed_revision.source == RevisionSource.FEED and feed_revision.content_html == LONG_CONTENT
    assert extracted.source == RevisionSource.EXTRACTED
    for paragraph in SECOND:
        assert paragraph in extracted.text
    assert "Commenter Bob" not in extracted.text
    assert current_revisions(archive)[article.id].id == feed_revision.id


def _failing_pages_feed(site: Site, page_routes: dict[str, tuple[int, bytes]]) -> str:
    items = []
    for number, (path, (status, body)) in enumerate(page_routes.items()):
        if status != 404:
            site.serve(path, body, status=status)
        items.append(Item(f"Story {number}", site.url(path), f"<p>Short summary {number}.</p>"))
    return site.serve("/feed.xml", rss(items), content_type="application/rss+xml")


def test_missing_or_empty_pages_leave_only_the_feed_revision(site, archive):
    feed_url = _failing_pages_feed(
        site,
        {
            "/gone": (404, b""),
            "/server-error": (500, b"<html><body>oops</body></html>"),
            "/empty": (200, b"<html><head><title>Empty</title></head><body></body></html>"),
            "/form": (200, BARE_LOGIN),
            "/image": (200, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        },
    )
    archive.add_feed(feed_url, site="Gazette", options=FeedOptions(full_text="auto"))
    summary = archive.update(due_only=False, limits=FAST)
    assert summary.failed == 0
    assert summary.new_articles == 5 and summary.extracted == 0
    for path in ("/gone", "/server-error", "/empty", "/form", "/image"):
        assert site.count(path) == 1, path
    for article in archive.articles("Gazette"):
        revisions = archive.revisions(article.id)
        assert [r.source for r in revisions] == [RevisionSource.FEED]
        assert revisions[0].text is not None and revisions[0].text.startswith("Short summary")
    feed = archive.get_feed(feed_url)
    assert feed.error_count == 0 and feed.error_kind is None and feed.error_message is None


def test_login_page_behind_a_link_leaves_only_the_feed_revision(site, archive):
    feed_url = _failing_pages_feed(site, {"/login": (200, SITE_LOGIN)})
    archive.add_feed(feed_url, site="Gazette", options=FeedOptions(full_text="auto"))
    summary = archive.update(due_only=False, limits=FAST)
    assert summary.new_articles == 1
    (article,) = archive.articles("Gazette")
    assert [r.source for r in archive.revisions(article.id)] == [RevisionSource.FEED]
    assert summary.extracted == 0


# --------------------------------------------------------------------------- the CLI

FEED_ITEM_HTML = (
    "<p>第一段：法国总统周二会见了来访的外长。</p>"
    "<div><div>分享 :</div><div><a href=\"https://www.facebook.com/dialog/share?app_id=1\">Facebook</a>"
    "<a href=\"https://x.com/intent/tweet?url=x\"></a><span data-root-share></span></div></div>"
    "<p>Second paragraph, in English.</p>"
    "<br><hr><div>获取更多RSS：<br><a href=\"https://feedx.net\">https://feedx.net</a> <br>"
    "<a href=\"https://feedx.top\">https://feedx.top</a><br></div>"
)
FEED_ITEM_TEXT = ["第一段：法国总统周二会见了来访的外长。", "Second paragraph, in English."]


def local_feed(tmp_path: Path) -> Path:
    items = [
        Item("外长会谈", "https://www.rfi.fr/cn/20260101-talks", "<p>summary only</p>", FEED_ITEM_HTML),
        Item("Plain summary", "https://gazette.example/plain", "<p>Just a <b>summary</b> line.</p>"),
    ]
    path = tmp_path / "feed.xml"
    path.write_bytes(rss(items))
    return path


def test_inspect_clean_prints_clean_paragraphs(tmp_path):
    result = CliRunner().invoke(cli, ["inspect", str(local_feed(tmp_path)), "--clean"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for paragraph in FEED_ITEM_TEXT:
        assert f"    {paragraph}" in lines
    assert "    Just a summary line." in lines
    for gone in ("分享", "获取更多RSS", "feedx", "Facebook", "<p>"):
        assert gone not in result.output
    plain = CliRunner().invoke(cli, ["inspect", str(local_feed(tmp_path))])
    assert plain.exit_code == 0 and FEED_ITEM_TEXT[0] not in plain.output


def test_inspect_json_clean_adds_clean_html_and_text(tmp_path):
    result = CliRunner().invoke(cli, ["inspect", str(local_feed(tmp_path)), "--json", "--clean"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    first, second = document["entries"]
    assert first["text"].split("\n\n") == FEED_ITEM_TEXT
    assert first["content"] == FEED_ITEM_HTML  # the received HTML is untouched
    assert "获取更多RSS" not in first["clean_html"] and "分享" not in first["clean_html"]
    assert "<p>" in first["clean_html"]
    assert second["text"] == "Just a summary line."
    without = json.loads(CliRunner().invoke(cli, ["inspect", str(local_feed(tmp_path)), "--json"]).output)
    assert "text" not in without["entries"][0] and "clean_html" not in without["entries"][0]


def write_document(folder: Path, number: int, ts: int, title: str, url: str, html: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{number}_{title}.md"
    path.write_bytes(f"<!--{ts}-->\n[{title}]({url})\n------\n\n{html}\n".encode("utf-8"))
    return path


RECLEAN_HTML = (
    "<p>正文第一段：新的渡轮航线将于下月开通。</p>"
    "<p>订阅测试快讯：每天早上八点推送</p>"
    "<p>正文第二段：票价将保持不变。</p>"
    '<br><hr><div>获取更多RSS：<br><a href="https://feedx.net">https://feedx.net</a><br></div>'
)


def small_repository(root: Path) -> Path:
    write_document(
        root / "articles" / "测试站", 0xFFFFF, 1767225600000, "渡轮新航线", "https://reclean.example/ferry", RECLEAN_HTML
    )
    write_document(
        root / "articles" / "Gazette",
        0xFFFFF,
        1767225600000,
        "Harbour budget",
        "https://gazette.example/budget",
        '<p>The council approved the budget.</p><p><img src="/img/harbour.jpg" alt="The harbour"> <a href="/more?utm_source=x">More</a></p>',
    )
    return root


def _by_site(archive: tidings.Archive, name: str):
    (article,) = archive.articles(name)
    return article


def test_import_derives_clean_html_and_text(tmp_path):
    db = tmp_path / "cli.sqlite3"
    repo = small_repository(tmp_path / "repo")
    result = CliRunner().invoke(cli, ["--db", str(db), "import", str(repo)])
    assert result.exit_code == 0, result.output
    with tidings.open_archive(db) as archive:
        ferry = archive.revisions(_by_site(archive, "测试站").id)[-1]
        assert ferry.source == RevisionSource.IMPORT
        assert ferry.content_html == RECLEAN_HTML
        assert ferry.text.split("\n\n") == [
            "正文第一段：新的渡轮航线将于下月开通。",
            "订阅测试快讯：每天早上八点推送",
            "正文第二段：票价将保持不变。",
        ]
        assert "获取更多RSS" not in ferry.clean_html
        budget = archive.revisions(_by_site(archive, "Gazette").id)[-1]
        assert budget.text.split("\n\n") == ["The council approved the budget.", "The harbour More"]
        assert 'src="https://gazette.example/img/harbour.jpg"' in budget.clean_html
        assert 'href="https://gazette.example/more"' in budget.clean_html
        assert 'rel="noopener noreferrer nofollow"' in budget.clean_html


def test_inspect_article_prints_its_clean_text(tmp_path):
    db = tmp_path / "cli.sqlite3"
    repo = small_repository(tmp_path / "repo")
    assert CliRunner().invoke(cli, ["--db", str(db), "import", str(repo)]).exit_code == 0
    with tidings.open_archive(db) as archive:
        article_id = _by_site(archive, "测试站").id
    result = CliRunner().invoke(cli, ["--db", str(db), "inspect", "--article", str(article_id)])
    assert result.exit_code == 0, result.output
    assert "渡轮新航线" in result.output
    assert "正文第一段：新的渡轮航线将于下月开通。\n\n订阅测试快讯：每天早上八点推送\n\n正文第二段：票价将保持不变。" in result.output
    assert "获取更多RSS" not in result.output and "<p>" not in result.output
    as_json = CliRunner().invoke(cli, ["--db", str(db), "inspect", "--article", str(article_id), "--json"])
    assert as_json.exit_code == 0, as_json.output
    record = json.loads(as_json.output)
    assert record["id"] == article_id and record["url"] == "https://reclean.example/ferry"
    assert record["text"].startswith("正文第一段") and "<p>" in record["clean_html"]


def test_inspect_unknown_article_fails_cleanly(tmp_path):
    db = tmp_path / "cli.sqlite3"
    repo = small_repository(tmp_path / "repo")
    assert CliRunner().invoke(cli, ["--db", str(db), "import", str(repo)]).exit_code == 0
    result = CliRunner().invoke(cli, ["--db", str(db), "inspect", "--article", "999999"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_reclean_applies_a_new_drop_text_rule(tmp_path, monkeypatch):
    db = tmp_path / "cli.sqlite3"
    repo = small_repository(tmp_path / "repo")
    assert CliRunner().invoke(cli, ["--db", str(db), "import", str(repo)]).exit_code == 0
    with tidings.open_archive(db) as archive:
        article_id = _by_site(archive, "测试站").id
        before = archive.revisions(article_id)[-1]
        other_id = _by_site(archive, "Gazette").id
        other_before = archive.revisions(other_id)[-1]
    assert "订阅测试快讯" in before.text

    rules = tmp_path / "my-rules"
    rules.mkdir()
    (rules / "reclean.toml").write_text(
        'name = "Reclean test"\ndomains = ["reclean.example"]\ndrop_text = ["^订阅测试快讯"]\n', encoding="utf-8"
    )
    monkeypatch.setenv(RULES_ENV, str(rules))
    result = CliRunner().invoke(cli, ["--db", str(db), "reclean"])
    assert result.exit_code == 0, result.output
    assert "2 revisions" in result.output

    with tidings.open_archive(db) as archive:
        after = archive.revisions(article_id)[-1]
        assert after.id == before.id
        assert "订阅测试快讯" not in after.text and "订阅测试快讯" not in after.clean_html
        assert after.text.split("\n\n") == ["正文第一段：新的渡轮航线将于下月开通。", "正文第二段：票价将保持不变。"]
        assert after.content_html == before.content_html == RECLEAN_HTML
        other_after = archive.revisions(other_id)[-1]
        assert other_after.text == other_before.text and other_after.content_html == other_before.content_html
