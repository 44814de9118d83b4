"""Feed parsing: formats, encodings, dates, links, the inspect command."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

import tidings
from tidings.cli import cli
from tidings.errors import FeedParseError, NotAFeedError
from tidings.parse import parse_feed
from tidings.parse.dates import parse_date

UTC = timezone.utc

RSS = """<?xml version="1.0" encoding="{encoding}"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">
<channel>
  <title>{title}</title>
  <link>https://news.example/</link>
  <language>{language}</language>
  <ttl>30</ttl>
  <item>
    <title>{item_title}</title>
    <link>/2023/11/08/g7.html</link>
    <guid isPermaLink="false">g7-2023</guid>
    <pubDate>{date}</pubDate>
    <dc:creator>记者甲</dc:creator>
    <category>国际</category>
    <category>🌍 中东</category>
    <description>摘要：停火</description>
    <content:encoded><![CDATA[<p>七国集团外长会议<b>呼吁</b>停火。</p><img src="/a.jpg">]]></content:encoded>
    <enclosure url="https://cdn.example/a.mp3" type="audio/mpeg" length="1234"/>
    <media:content url="https://cdn.example/b.jpg" type="image/jpeg" medium="image"/>
  </item>
  <item>
    <title>Second</title>
    <guid>https://news.example/second</guid>
    <description>Only a summary</description>
  </item>
</channel>
</rss>
"""


def rss(**values: str) -> str:
    defaults = {
        "encoding": "utf-8",
        "title": "新闻",
        "language": "zh-cn",
        "item_title": "七国外长会议一致主张加沙停火",
        "date": "Wed, 08 Nov 2023 09:55:00 +0800",
    }
    return RSS.format(**{**defaults, **values})


def test_rss_fields():
    feed = parse_feed(rss().encode(), url="https://news.example/feed.xml")
    assert (feed.version, feed.encoding, feed.recovered) == ("rss20", "utf-8", False)
    assert (feed.title, feed.link, feed.language, feed.ttl_minutes) == (
        "新闻",
        "https://news.example/",
        "zh-cn",
        30,
    )
    first, second = feed.entries
    assert first.title == "七国外长会议一致主张加沙停火"
    assert first.link == "https://news.example/2023/11/08/g7.html"  # resolved against the feed URL
    assert first.id == "g7-2023"
    assert first.published == datetime(2023, 11, 8, 1, 55, tzinfo=UTC)
    assert first.author == "记者甲"
    assert first.categories == ("国际", "🌍 中东")
    assert first.summary == "摘要：停火"
    assert first.content == '<p>七国集团外长会议<b>呼吁</b>停火。</p><img src="/a.jpg">'  # as received
    assert first.base == "https://news.example/feed.xml"
    assert [(e.url, e.type, e.length) for e in first.enclosures] == [
        ("https://cdn.example/a.mp3", "audio/mpeg", 1234),
        ("https://cdn.example/b.jpg", "image/jpeg", None),
    ]
    assert first.language == "zh-cn"
    # A permalink guid is the link when there is no <link>.
    assert second.link == "https://news.example/second"
    assert second.content is None and second.summary == "Only a summary"


def test_atom_with_xml_base_and_text_constructs():
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en" xml:base="https://blog.example/base/">
  <title type="html">Harbour &amp;lt;b&amp;gt;Gazette&amp;lt;/b&amp;gt;</title>
  <link href="/"/>
  <updated>2025-11-18T08:00:00Z</updated>
  <entry xml:base="posts/">
    <id>tag:blog.example,2025:1</id>
    <title type="text">Night ferry &lt;returns&gt;</title>
    <link rel="enclosure" href="ferry.mp3" type="audio/mpeg" length="99"/>
    <link rel="alternate" type="text/html" href="ferry.html"/>
    <published>2025-11-18T08:00:00+08:00</published>
    <updated>2025-11-18T09:00:00Z</updated>
    <author><name>Ana</name><email>ana@blog.example</email></author>
    <category term="transport"/>
    <summary type="text">Fares &amp; times</summary>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>The <b>night</b> ferry.</p></div></content>
  </entry>
</feed>"""
    feed = parse_feed(atom, url="https://blog.example/feed.atom")
    assert feed.version == "atom10"
    assert feed.title == "Harbour <b>Gazette</b>"  # plain text of an html title
    assert feed.link == "https://blog.example/"
    assert feed.updated == datetime(2025, 11, 18, 8, tzinfo=UTC)
    (entry,) = feed.entries
    assert entry.title == "Night ferry <returns>"
    assert entry.link == "https://blog.example/base/posts/ferry.html"
    assert entry.enclosures[0].url == "https://blog.example/base/posts/ferry.mp3"
    assert entry.published == datetime(2025, 11, 18, 0, tzinfo=UTC)
    assert entry.updated == datetime(2025, 11, 18, 9, tzinfo=UTC)
    assert entry.author == "Ana (ana@blog.example)"
    assert entry.summary == "Fares &amp; times"  # text construct, escaped into HTML
    assert entry.content == "<p>The <b>night</b> ferry.</p>"
    assert entry.language == "en"
    assert entry.categories == ("transport",)


def test_rdf_rss_1_0():
    rdf = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://rdf.example/"><title>RDF news</title><link>https://rdf.example/</link></channel>
  <item rdf:about="https://rdf.example/1"><title>One</title><link>https://rdf.example/1</link>
    <dc:date>2024-01-02T03:04:05+00:00</dc:date></item>
</rdf:RDF>"""
    feed = parse_feed(rdf)
    assert (feed.version, feed.title) == ("rss10", "RDF news")
    (entry,) = feed.entries
    assert (entry.id, entry.title) == ("https://rdf.example/1", "One")
    assert entry.published == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_json_feed():
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "简报",
        "home_page_url": "https://json.example/",
        "language": "zh-Hans",
        "items": [
            {
                "id": "1",
                "url": "/posts/1",
                "title": "加沙停火",
                "content_html": "<p>停火</p>",
                "date_published": "2023-11-08T09:55:00+08:00",
                "authors": [{"name": "编辑部"}],
                "tags": ["国际"],
                "attachments": [{"url": "https://json.example/a.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 5}],
            },
            {"id": 2, "content_text": "plain <text>"},
        ],
    }
    feed = parse_feed(json.dumps(document, ensure_ascii=False).encode(), url="https://json.example/feed.json")
    assert (feed.version, feed.title, feed.language) == ("json11", "简报", "zh-Hans")
    first, second = feed.entries
    assert first.link == "https://json.example/posts/1"
    assert first.published == datetime(2023, 11, 8, 1, 55, tzinfo=UTC)
    assert (first.author, first.categories, first.content) == ("编辑部", ("国际",), "<p>停火</p>")
    assert first.enclosures[0].length == 5
    assert second.id == "2" and second.content == "plain &lt;text&gt;"


@pytest.mark.parametrize(
    ("codec", "label", "expected"),
    [
        ("gbk", "gb2312", "gb18030"),  # GB2312 label, GBK bytes: read as GB18030
        ("gb18030", "gbk", "gb18030"),
        ("big5hkscs", "big5", "big5"),  # Big5 label, HKSCS bytes
        ("utf-8", "iso-8859-1", "utf-8"),  # undeclared UTF-8 in a Latin-1 feed
        ("cp1251", "windows-1251", "windows-1251"),
        ("utf-16", "utf-16", "utf-16le"),
    ],
)
def test_encodings_give_no_mojibake(codec, label, expected):
    title = "七國外長會議 香港𨋢" if codec == "big5hkscs" else "七国外长会议一致主张加沙停火"
    if codec == "cp1251":
        title = "Новости дня"
    data = rss(encoding=label, title=title, item_title=title).encode(codec, "xmlcharrefreplace")
    feed = parse_feed(data)
    assert feed.title == title
    assert feed.entries[0].title == title
    assert feed.encoding == expected


def test_http_charset_overrides_the_declaration():
    data = rss(encoding="iso-8859-1").encode("gbk", "xmlcharrefreplace")
    feed = parse_feed(data, content_type="application/rss+xml; charset=GB2312")
    assert feed.title == "新闻" and feed.encoding == "gb18030"


def test_mislabelled_gbk_feed_declared_utf8_is_read_as_gb18030():
    data = rss(encoding="utf-8", item_title="七国外长会议一致主张加沙停火并呼吁人道主义援助").encode("gbk", "xmlcharrefreplace")
    feed = parse_feed(data)
    assert feed.entries[0].title == "七国外长会议一致主张加沙停火并呼吁人道主义援助"
    assert feed.encoding == "gb18030"
    assert any("gb18030" in problem for problem in feed.problems)


@pytest.mark.parametrize(
    ("text", "chinese", "expected"),
    [
        ("Wed, 08 Nov 2023 09:55:00 +0800", False, datetime(2023, 11, 8, 1, 55)),
        ("Wed, 08 Nov 2023 09:55:00 GMT", False, datetime(2023, 11, 8, 9, 55)),
        ("8 Nov 2023 09:55 GMT", False, datetime(2023, 11, 8, 9, 55)),
        ("Wed,08 Nov 23 09:55:00 EST", False, datetime(2023, 11, 8, 14, 55)),
        ("Wednesday, 08 November 2023 09:55:00 +08:00", False, datetime(2023, 11, 8, 1, 55)),
        ("Wed, 08 Nov 2023 09:55:00 CST", True, datetime(2023, 11, 8, 1, 55)),
        ("Wed, 08 Nov 2023 09:55:00 CST", False, datetime(2023, 11, 8, 15, 55)),
        ("2023-11-08T09:55:00Z", False, datetime(2023, 11, 8, 9, 55)),
        ("2023-11-08T09:55:00.123+08:00", False, datetime(2023, 11, 8, 1, 55, 0, 123000)),
        ("2023-11-08 09:55:00", True, datetime(2023, 11, 8, 1, 55)),
        ("2023-11-08", False, datetime(2023, 11, 8)),
        ("2023年11月08日 09:55", True, datetime(2023, 11, 8, 1, 55)),
        ("2023年11月8日 下午3时05分", True, datetime(2023, 11, 8, 7, 5)),
        ("1699434902", False, datetime(2023, 11, 8, 9, 15, 2)),
        ("1699434902000", False, datetime(2023, 11, 8, 9, 15, 2)),
        ("Sun Jan  4 16:29:06 2004", False, datetime(2004, 1, 4, 16, 29, 6)),
        ("yesterday", False, None),
        ("Wed, 32 Nov 2023 09:55:00 GMT", False, None),
        ("2023-13-08T09:55:00Z", False, None),
        ("Wed, 08 Nov 2023 09:55:00 XYZ", False, None),
        ("", False, None),
    ],
)
def test_dates(text, chinese, expected):
    result = parse_date(text, chinese=chinese)
    if expected is None:
        assert result is None
    else:
        assert result == expected.replace(tzinfo=UTC)
        assert result.utcoffset() == timedelta(0)


def test_cst_in_a_chinese_feed_is_china_time():
    feed = parse_feed(rss(date="Wed, 08 Nov 2023 09:55:00 CST").encode())
    assert feed.entries[0].published == datetime(2023, 11, 8, 1, 55, tzinfo=UTC)
    english = parse_feed(rss(language="en-us", title="News", item_title="Talks", date="Wed, 08 Nov 2023 09:55:00 CST").encode())
    assert english.entries[0].published == datetime(2023, 11, 8, 15, 55, tzinfo=UTC)


def test_html_served_instead_of_a_feed():
    page = b"<!DOCTYPE html>\n<html><head><title>\xe7\x99\xbb\xe5\xbd\x95 Login</title></head><body></body></html>"
    with pytest.raises(NotAFeedError, match="HTML page.*Login"):
        parse_feed(page)


def test_other_xml_is_not_a_feed():
    with pytest.raises(NotAFeedError, match="<catalog>"):
        parse_feed(b"<?xml version='1.0'?><catalog><book/></catalog>")


def serve(body: bytes, content_type: str) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/feed.xml"


def test_inspect_json_from_a_loopback_server():
    server, url = serve(rss().encode("gbk", "xmlcharrefreplace").replace(b'encoding="utf-8"', b'encoding="gb2312"'), "text/xml")
    try:
        result = CliRunner().invoke(cli, ["inspect", url, "--json"])
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["feed"]["title"] == "新闻"
    assert document["feed"]["language"] == "zh-cn"
    entry = document["entries"][0]
    assert set(entry) >= {"id", "link", "title", "author", "published", "updated", "summary", "content", "enclosures", "categories", "language"}
    assert entry["title"] == "七国外长会议一致主张加沙停火"
    assert entry["link"] == url.rsplit("/", 1)[0] + "/2023/11/08/g7.html"
    assert entry["published"] == "2023-11-08T01:55:00Z"
    assert entry["updated"] is None
    assert entry["enclosures"][0]["url"] == "https://cdn.example/a.mp3"


def test_inspect_a_local_file_and_a_file_url(tmp_path: Path):
    path = tmp_path / "feed.xml"
    path.write_bytes(rss().encode())
    for source in (str(path), path.as_uri()):
        result = CliRunner().invoke(cli, ["inspect", source])
        assert result.exit_code == 0, result.output
        assert "七国外长会议一致主张加沙停火" in result.stdout
        assert "2 entries" in result.stdout


def test_inspect_exits_2_with_one_line_on_a_page(tmp_path: Path):
    path = tmp_path / "page.html"
    path.write_bytes(b"<html><head><title>Welcome</title></head><body>hi</body></html>")
    result = CliRunner().invoke(cli, ["inspect", str(path)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: received an HTML page")


def test_inspect_missing_file_is_exit_1(tmp_path: Path):
    result = CliRunner().invoke(cli, ["inspect", str(tmp_path / "nope.xml")])
    assert result.exit_code == 1 and "no such file" in result.stderr


def test_read_feed_is_public_api(tmp_path: Path):
    path = tmp_path / "feed.xml"
    path.write_bytes(rss().encode())
    feed = tidings.read_feed(str(path))
    assert isinstance(feed, tidings.ParsedFeed) and len(feed.entries) == 2
    with pytest.raises(FeedParseError):
        tidings.parse_feed(b"   ")
