"""Search: text preparation, the query language, results, snippets, the index kept in step."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

import tidings
from tidings.cli import cli
from tidings.model import NewRevision, RevisionSource
from tidings.query import QueryError, parse_query
from tidings.snippet import make_snippet
from tidings.textindex import fold, prepare, term_expression

T0 = datetime(2025, 11, 1, tzinfo=timezone.utc)


def test_prepare_folds_and_bigrams():
    assert prepare("G7外长會議 Ceasefire").split() == ["g7", "外长", "长会", "会议", "议", "ceasefire"]
    assert prepare("火").split() == ["火"]
    assert fold("ＡＢＣ 臺灣") == "abc 台湾"


def test_term_expressions():
    assert term_expression("停火") == '"停火"'
    assert term_expression("加沙停火") == '"加沙 沙停 停火"'
    assert term_expression("火") == '"火" *'
    assert term_expression("Minist", prefix=True) == '"minist" *'
    assert term_expression("加沙停火 多国") == '"加沙 沙停 停火 火 多国"'
    assert term_expression("…") is None


def test_query_language():
    query = parse_query('停火 "加沙 外长" OR ceasefire -演习 site:法广 feed:3 lang:ZH since:2023-11-01 until:2023-11-30')
    assert query.match == '(("停火" AND "加沙 沙 外长") OR ("ceasefire")) NOT ("演习")'
    assert query.site == "法广" and query.feed == 3 and query.lang == "zh"
    assert query.since == datetime(2023, 11, 1, tzinfo=timezone.utc)
    assert query.until == datetime(2023, 12, 1, tzinfo=timezone.utc)
    assert "停火" in query.terms and "ceasefire" in query.terms
    assert "NOT" in query.match and "OR" in query.match


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"unclosed', "unmatched"),
        ("-only -negatives", "nothing to look for"),
        ("OR 停火", "OR needs"),
        ("停火 OR", "OR needs"),
        ("since:yesterday 停火", "since"),
        ("feed:abc 停火", "feed"),
        ("停火 sort:old", "sort: is relevance or new"),
        ("", "nothing to look for"),
    ],
)
def test_bad_queries_are_clear_errors(text, message):
    with pytest.raises(QueryError, match=message):
        parse_query(text)


def test_snippet_is_cut_from_the_original_text_with_marks():
    text = "七國外長會議一致主張加沙停火。\n\n美國國務卿布林肯出席會議。"
    snippet = make_snippet(text, (fold("停火"), fold("外长")))
    assert "<mark>外長</mark>" in snippet and "<mark>停火</mark>" in snippet
    english = make_snippet("A <b> tag & the CEASEFIRE holds.", ("ceasefire",))
    assert "<mark>CEASEFIRE</mark>" in english and "&lt;b&gt;" in english and "&amp;" in english


def add(archive: tidings.Archive, site: str, key: str, url: str, title: str, html: str, when: datetime, lang: str = "zh") -> int:
    store = archive.store
    with store.transaction():
        article = store.add_article(store.site(site).id, key, url, when, when)
        store.add_revision(article.id, NewRevision(when, title, html, RevisionSource.FEED, language=lang))
    return article.id


@pytest.fixture
def news(archive):
    ids = {
        "g7": add(archive, "法广", "1", "https://rfi.example/g7", "七国外长会议一致主张加沙停火", "<p>七国集团外长会议呼吁人道主义停火。</p>", T0),
        "g7_tw": add(archive, "中央社", "2", "https://cna.example/g7", "七國外長會議", "<p>外長們呼籲停火，並討論烏克蘭局勢。</p>", T0 + timedelta(days=1), "zh-TW"),
        "fire": add(archive, "法广", "3", "https://rfi.example/fire", "山火蔓延", "<p>加州山火仍在蔓延，火势难以控制。</p>", T0 + timedelta(days=2)),
        "en": add(archive, "Gazette", "4", "https://gazette.example/talks", "Ceasefire talks resume", "<p>Ministers met on Tuesday. The ministry said little.</p>", T0 + timedelta(days=3), "en"),
        "dup_a": add(archive, "路透", "5", "https://same.example/story", "港口吞吐量创新高", "<p>港口吞吐量十月创新高。</p>", T0 + timedelta(days=4)),
        "dup_b": add(archive, "美国之音", "6", "https://same.example/story", "港口吞吐量创新高", "<p>港口吞吐量十月创新高。</p>", T0 + timedelta(days=4)),
    }
    archive.derive()
    return ids


def ids_of(archive, query: str) -> list[int]:
    return [hit.article_id for hit in archive.search(query, limit=50).hits]


def test_cjk_substrings_of_any_length_in_either_script(archive, news):
    assert set(ids_of(archive, "停火")) == {news["g7"], news["g7_tw"]}
    assert set(ids_of(archive, "停火")) == set(ids_of(archive, "停火"))
    assert set(ids_of(archive, "外長")) == {news["g7"], news["g7_tw"]}  # Traditional finds Simplified
    assert ids_of(archive, "乌克兰") == [news["g7_tw"]]  # Simplified finds Traditional
    assert set(ids_of(archive, "火")) == {news["g7"], news["g7_tw"], news["fire"]}  # one character
    assert ids_of(archive, "火势") == [news["fire"]]
    assert ids_of(archive, "人道主义停火") == [news["g7"]]
    assert ids_of(archive, "停火蔓延") == []  # no false hit from bigrams in different places


def test_english_words_prefixes_phrases_or_and_exclusion(archive, news):
    assert ids_of(archive, "CEASEFIRE") == [news["en"]]
    assert ids_of(archive, "minist*") == [news["en"]]
    assert ids_of(archive, "minist") == []
    assert ids_of(archive, '"ministers met"') == [news["en"]]
    assert ids_of(archive, '"met ministers"') == []
    assert set(ids_of(archive, "ceasefire OR 山火")) == {news["en"], news["fire"]}
    assert set(ids_of(archive, "停火 -乌克兰")) == {news["g7"]}


def test_filters(archive, news):
    assert set(ids_of(archive, "停火 site:法广")) == {news["g7"]}
    assert ids_of(archive, "停火 lang:zh-tw") == [news["g7_tw"]]
    assert ids_of(archive, "停火 since:2025-11-02") == [news["g7_tw"]]
    assert ids_of(archive, "停火 until:2025-11-01") == [news["g7"]]


def test_title_weighs_more_and_one_hit_per_story(archive, news):
    # "停火" is in the g7 title and only in the (newer) other's body: the title match ranks first.
    hits = archive.search("停火").hits
    assert [h.article_id for h in hits] == [news["g7"], news["g7_tw"]]
    page = archive.search("港口")
    assert len(page.hits) == 1
    assert set(page.hits[0].sources) == {"路透", "美国之音"}


def paged(archive, query: str) -> list[int]:
    """Every hit of a query, a page of one at a time, following the cursors."""
    seen: list[int] = []
    cursor = None
    while True:
        page = archive.search(query, limit=1, cursor=cursor)
        seen.extend(hit.article_id for hit in page.hits)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def test_keyset_pages_cover_every_hit_once(archive, news):
    seen = paged(archive, "火 OR 港口 OR ceasefire")
    assert len(seen) == len(set(seen)) == 5
    with pytest.raises(tidings.InvalidInputError):
        archive.search("火", cursor="not-a-cursor")


def test_newest_first_walks_back_from_the_last_archived_with_filters_and_pages(archive, news):
    # Relevance puts the title match first; newest first puts the last archived first.
    assert ids_of(archive, "停火") == [news["g7"], news["g7_tw"]]
    assert ids_of(archive, "停火 sort:new") == [news["g7_tw"], news["g7"]]
    assert [h.article_id for h in archive.search("停火", sort="new").hits] == [news["g7_tw"], news["g7"]]
    assert [h.article_id for h in archive.search("停火 sort:new", sort="relevance").hits] == [news["g7"], news["g7_tw"]]
    assert ids_of(archive, "火 sort:new") == [news["fire"], news["g7_tw"], news["g7"]]
    assert ids_of(archive, "火 site:法广 sort:NEW") == [news["fire"], news["g7"]]
    assert ids_of(archive, "停火 -乌克兰 sort:new") == [news["g7"]]
    # One hit per story: the last archived of the two articles at the same link.
    page = archive.search("港口 sort:new")
    assert [h.article_id for h in page.hits] == [news["dup_b"]] and set(page.hits[0].sources) == {"路透", "美国之音"}
    # Keyset pages: every hit once, newest first, across pages of one.
    seen = paged(archive, "火 OR 港口 OR ceasefire sort:new")
    assert seen == [news["dup_b"], news["en"], news["fire"], news["g7_tw"], news["g7"]]
    with pytest.raises(QueryError, match="sort"):
        archive.search("火 sort:oldest")
    with pytest.raises(QueryError, match="sort"):
        archive.search("火", sort="oldest")


def test_relevance_ranks_a_window_of_matches_at_a_time_newest_window_first(archive, news, monkeypatch):
    from tidings.cursors import encode_cursor
    from tidings.store import search
    from tidings.store.sqlite import SQLiteStore

    # SQLite ranks windows of matches; PostgreSQL ranks all its matches at once (a GIN
    # bitmap has no order to cut windows by): the same hits, every one reachable, on both.
    windows = isinstance(archive.store, SQLiteStore)
    monkeypatch.setattr(search, "RANK_WINDOW", 1)
    newer_first = [news["g7_tw"], news["g7"]]  # each match its own window: the newer one first
    assert ids_of(archive, "停火") == (newer_first if windows else [news["g7"], news["g7_tw"]])
    monkeypatch.setattr(search, "RANK_WINDOW", 2)
    assert ids_of(archive, "停火") == [news["g7"], news["g7_tw"]]  # one window: the title match first
    # Windows of two, newest first: (dup_b, dup_a), (en, fire), (g7_tw, g7); pages of one cover
    # every story once, each window's before the next's, across page and window boundaries.
    seen = paged(archive, "火 OR 港口 OR ceasefire")
    assert len(seen) == len(set(seen)) == 5
    if windows:
        assert seen[0] in (news["dup_a"], news["dup_b"])
        assert set(seen[1:3]) == {news["en"], news["fire"]} and set(seen[3:]) == {news["g7"], news["g7_tw"]}
    else:  # PostgreSQL: windows of article ids, doubling as they go back: (5, 6], (3, 5], (-1, 3]
        from tidings.store import postgres

        monkeypatch.setattr(postgres, "WINDOW_IDS", 1)
        seen = paged(archive, "火 OR 港口 OR ceasefire")
        assert seen[:2] == [news["dup_b"], news["en"]] and set(seen[2:]) == {news["g7"], news["g7_tw"], news["fire"]}
        assert len(seen) == 5  # dup_a: the same story as dup_b, shown once
        monkeypatch.setattr(postgres, "WINDOW_IDS", 20_000)
    # Windows are cut among the matches the filters keep: an old day's are in the first window.
    monkeypatch.setattr(search, "RANK_WINDOW", 1)
    assert set(ids_of(archive, "火 OR 港口 until:2025-11-02")) == {news["g7_tw"], news["g7"]}
    assert ids_of(archive, "火 OR 港口 until:2025-11-01") == [news["g7"]]
    monkeypatch.setattr(search, "RANK_WINDOW", 2)
    by_site = ids_of(archive, "火 site:法广")
    assert set(by_site) == {news["fire"], news["g7"]} and (by_site[0] == news["fire"] or not windows)
    # A cursor from nowhere (a window far past the last) ends the list rather than searching on.
    assert archive.search("火", cursor=encode_cursor(1e300, 0, 5)).hits == ()
    assert [h.article_id for h in archive.search("火", cursor=encode_cursor(-1e300, 0, 10**9)).hits]


def test_index_follows_new_revisions_and_rebuilds(archive, news):
    store = archive.store
    with store.transaction():
        store.add_revision(news["fire"], NewRevision(T0 + timedelta(days=5), "山火已被扑灭", "<p>消防员扑灭了山火。</p>", RevisionSource.FEED))
    archive.derive()
    assert ids_of(archive, "扑灭") == [news["fire"]]
    assert ids_of(archive, "蔓延") == []  # the old text is no longer searched
    assert archive.reindex() == 6
    assert ids_of(archive, "扑灭") == [news["fire"]]
    assert ids_of(archive, "蔓延") == []
    assert archive.reclean() >= 7
    assert ids_of(archive, "扑灭") == [news["fire"]]


def test_a_new_feed_revision_keeps_the_extracted_full_text_as_the_indexed_body(archive, news):
    store = archive.store
    page = "<p>记者在现场看到消防飞机洒水。</p>"
    with store.transaction():
        store.add_revision(news["fire"], NewRevision(T0 + timedelta(days=1), "山火", page, RevisionSource.EXTRACTED), current=False)
    archive.derive()
    assert ids_of(archive, "消防飞机") == [news["fire"]]
    with store.transaction():  # the feed's new title and summary: derived in a batch without the page
        store.add_revision(news["fire"], NewRevision(T0 + timedelta(days=2), "山火仍在燃烧", "<p>简讯。</p>", RevisionSource.FEED))
    archive.derive()
    assert ids_of(archive, "消防飞机") == [news["fire"]]  # the body is still the page's full text
    assert ids_of(archive, "仍在燃烧") == [news["fire"]] and ids_of(archive, "简讯") == []
    assert archive.reindex() == 6 and ids_of(archive, "消防飞机") == [news["fire"]]


def test_search_command(tmp_path: Path, archive, news):
    db = archive.store.path
    archive.close()
    result = CliRunner().invoke(cli, ["--db", str(db), "search", "停火", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    hit = document["hits"][0]
    assert set(hit) >= {"id", "site", "title", "link", "published", "snippet", "score"}
    assert "<mark>" in hit["snippet"]
    result = CliRunner().invoke(cli, ["--db", str(db), "search", "外長", "--limit", "1"])
    assert result.exit_code == 0 and "【" in result.stdout and "--cursor" in result.stdout
    result = CliRunner().invoke(cli, ["--db", str(db), "search", '"broken'])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    result = CliRunner().invoke(cli, ["--db", str(db), "reindex"])
    assert result.exit_code == 0 and "6 articles indexed" in result.stdout


def test_update_makes_new_articles_searchable(tmp_path: Path):
    feed = tmp_path / "feed.xml"
    feed.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<channel><title>源</title><language>zh-cn</language>"
        "<item><title>台风逼近</title><link>https://x.example/1</link>"
        "<content:encoded><![CDATA[<p>气象台发布台风橙色预警。</p>]]></content:encoded></item>"
        "</channel></rss>",
        "utf-8",
    )
    with tidings.open_archive(tmp_path / "db.sqlite3") as archive:
        archive.add_feed(str(feed))
        summary = archive.update()
        assert summary.derived == 1
        assert [h.title for h in archive.search("颱風").hits] == ["台风逼近"]


def test_an_archive_from_before_the_character_columns_gets_them_and_is_searchable_after_the_next_derive(tmp_path: Path):
    import sqlite3

    path = tmp_path / "old.sqlite3"
    with tidings.open_archive(path) as archive:
        add(archive, "法广", "1", "https://rfi.example/g7", "七国外长会议", "<p>农民呼吁停火。</p>", T0)
        archive.derive()
    # As the archive was before migration 13: one-character prefixes of every token.
    db = sqlite3.connect(path)
    db.executescript(
        "DROP TABLE search; CREATE VIRTUAL TABLE search USING fts5(title, body, content='', detail=full,"
        " tokenize='unicode61 remove_diacritics 2', prefix='1'); PRAGMA user_version = 12;"
    )
    db.close()
    result = CliRunner().invoke(cli, ["--db", str(path), "search", "农"])
    assert result.exit_code == 0 and "no results" in result.stdout and "tidings reindex" in result.stderr
    from starlette.testclient import TestClient

    from tidings.web import create_app

    with TestClient(create_app(path)) as client:
        assert "tidings reindex" in client.get("/search", params={"q": "农"}).text
    with tidings.open_archive(path) as archive:
        assert archive.search("农").hits == ()  # the new index is empty until the derive stage
        assert archive.store.index_missing()
        archive.derive()
        assert not archive.store.index_missing()
        assert [h.title for h in archive.search("农").hits] == ["七国外长会议"]
        assert [h.title for h in archive.search("外长会议").hits] == ["七国外长会议"]
    db = sqlite3.connect(path)
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'search'").fetchone()[0]
    db.close()
    assert "title_chars" in sql and "prefix" not in sql
    result = CliRunner().invoke(cli, ["--db", str(path), "search", "农"])
    assert result.exit_code == 0 and "七国外长会议" in result.stdout and result.stderr == ""
    with TestClient(create_app(path)) as client:
        page = client.get("/search", params={"q": "农"}).text
        assert "七国外长会议" in page and "tidings reindex" not in page


def test_a_single_chinese_character_is_found_in_titles_and_bodies_titles_first(archive):
    body_only = add(archive, "法广", "1", "https://rfi.example/1", "港口吞吐量", "<p>农民呼吁停火，农业减产。</p>", T0)
    title_only = add(archive, "法广", "2", "https://rfi.example/2", "農業新聞", "<p>港口吞吐量创新高。</p>", T0 - timedelta(hours=1))
    run_end = add(archive, "法广", "3", "https://rfi.example/3", "其他", "<p>今年的收成不如农</p>", T0 - timedelta(hours=2))
    neither = add(archive, "法广", "4", "https://rfi.example/4", "其他", "<p>港口吞吐量创新高。</p>", T0 - timedelta(hours=3))
    archive.derive()
    found = ids_of(archive, "农")
    assert found[0] == title_only and set(found) == {body_only, title_only, run_end}
    assert set(ids_of(archive, "港 OR 农")) == {body_only, title_only, run_end, neither}
    assert set(ids_of(archive, "农 -港")) == {run_end}
    assert set(ids_of(archive, "農 吞")) == {body_only, title_only}
    assert [h.article_id for h in archive.search("农", sort="new").hits] == [run_end, title_only, body_only]  # last archived first


def test_the_derive_stage_in_worker_processes_stores_what_one_process_stores(archive, monkeypatch, tmp_path):
    from tidings import derive
    from tidings.store.packing import MARK_AGAINST, pack
    from tidings.store.sqlite import SQLiteStore

    body = "<p>" + "七国外长会议呼吁停火，港口吞吐量创新高。" * 30 + "</p><script>x()</script>"
    ids = [
        add(archive, "法广", str(n), f"https://rfi.example/{n}", f"第{n}号 外长会议", body + f"<p>编号{n}</p>", T0 + timedelta(hours=n))
        for n in range(12)
    ]
    monkeypatch.setattr(derive, "PARALLEL_FROM", 4)  # worker processes even for a dozen
    assert archive.derive(workers=2) == 12
    with tidings.open_archive(tmp_path / "one.sqlite3") as alone:
        for n in range(12):
            add(alone, "法广", str(n), f"https://rfi.example/{n}", f"第{n}号 外长会议", body + f"<p>编号{n}</p>", T0 + timedelta(hours=n))
        assert alone.derive(workers=1) == 12
        expected = [(r.clean_html, r.text) for n in range(1, 13) for r in alone.store.revisions(n)]
    got = [(r.clean_html, r.text) for article_id in ids for r in archive.store.revisions(article_id)]
    assert got == expected and "script" not in got[0][0] and "编号11" in got[-1][1]
    assert set(ids_of(archive, "编号7")) == {ids[7]} and len(ids_of(archive, "外长会议")) == 12
    if isinstance(archive.store, SQLiteStore):  # stored packed, read back exactly
        import sqlite3

        direct = sqlite3.connect(archive.store.path).execute("SELECT clean_html, text FROM revisions LIMIT 1").fetchone()
        assert all(isinstance(value, bytes) and value.startswith(MARK_AGAINST) for value in direct)
        # Packed against the HTML they repeat: far smaller than packed alone.
        assert all(len(value) < len(pack(plain)) for value, plain in zip(direct, got[0])), [len(v) for v in direct]


def test_compact_packs_what_an_older_tidings_stored_as_text_and_reads_the_same(tmp_path: Path, pg_url):
    import sqlite3

    from tidings.store.packing import MARK_AGAINST, pack

    path = tmp_path / "old.sqlite3"
    body = "<p>" + "七国外长会议呼吁停火，港口吞吐量创新高。" * 40 + "</p>"
    with tidings.open_archive(path) as archive:
        ids = [add(archive, "法广", str(n), f"https://rfi.example/{n}", f"第{n}号", body + f"<p>{n}</p>", T0) for n in range(30)]
        archive.derive()
        before = [(r.content_html, r.clean_html, r.text) for i in ids for r in archive.store.revisions(i)]
    # As an older tidings wrote them: every long text stored as text.
    db = sqlite3.connect(path)
    for row_id, in db.execute("SELECT id FROM revisions").fetchall():
        content, clean, text = before[row_id - 1]
        db.execute("UPDATE revisions SET content_html = ?, clean_html = ?, text = ? WHERE id = ?", (content, clean, text, row_id))
    db.commit()
    db.close()
    with tidings.open_archive(path) as archive:
        packed, size_before, size_after = archive.compact()
        assert packed == 90 and size_after < size_before
        assert [(r.content_html, r.clean_html, r.text) for i in ids for r in archive.store.revisions(i)] == before
        assert len(archive.search("外长会议").hits) == 20
    result = CliRunner().invoke(cli, ["--db", str(path), "compact"])
    assert result.exit_code == 0 and result.stdout.startswith("0 texts packed"), result.output  # nothing left
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM revisions WHERE typeof(content_html) = 'text'").fetchone()[0] == 0
    # As the first packing tidings wrote them: clean HTML and text packed alone.
    for row_id in range(1, 11):
        _content, clean, text = before[row_id - 1]
        db.execute("UPDATE revisions SET clean_html = ?, text = ? WHERE id = ?", (pack(clean), pack(text), row_id))
    db.commit()
    db.close()
    with tidings.open_archive(path) as archive:
        assert archive.compact()[0] == 20
        assert [(r.content_html, r.clean_html, r.text) for i in ids for r in archive.store.revisions(i)] == before
    db = sqlite3.connect(path)
    assert {bytes(v[:4]) for row in db.execute("SELECT clean_html, text FROM revisions") for v in row} == {MARK_AGAINST}
    db.close()
    result = CliRunner().invoke(cli, ["--db", pg_url, "compact"])
    assert result.exit_code == 0 and "PostgreSQL compresses" in result.stdout


# --------------------------------------------------------------------------- preparation against plain references

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_MIXED = st.text(
    alphabet=st.sampled_from(list("ab Z9 ,.\n\t\u3000。，ｱｂ") + ["中", "文", "字", "臺", "灣", "あ", "ア", "한", "𠀀", "𠀁", "ﬁ", "\ue000"]),
    max_size=60,
)


def _prepare_reference(text: str) -> str:
    """The module docstring's rule, written plainly: each folded CJK run as overlapping
    bigrams and its last character, spaces around."""
    import re

    from tidings.textindex import _CJK_CLASS

    def bigrams(match: re.Match[str]) -> str:
        run = match.group(0)
        grams = [run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]]
        return " " + " ".join(grams if len(run) > 1 else [run]) + " "

    return re.sub(f"[{_CJK_CLASS}]+", bigrams, fold(text)) if text else ""


@settings(max_examples=1000, deadline=None)
@given(_MIXED)
def test_prepare_is_the_plain_bigram_rule(text):
    assert prepare(text) == _prepare_reference(text)


def _characters_reference(text: str) -> str:
    import re

    from tidings.textindex import _CJK_CLASS

    return " ".join(sorted(set(re.findall(f"[{_CJK_CLASS}]", text))))


@settings(max_examples=1000, deadline=None)
@given(_MIXED)
def test_cjk_characters_of_prepared_and_of_any_text(text):
    from tidings.textindex import cjk_characters

    assert cjk_characters(prepare(text)) == _characters_reference(prepare(text))
    # not only prepared texts: stretches that are not a run's bigrams are read whole
    assert cjk_characters(text) == _characters_reference(text)
    squeezed = " ".join(text.split())
    assert cjk_characters(squeezed) == _characters_reference(squeezed)
