"""The contract every :class:`tidings.store.Store` backend must pass.

Contract tests use the Store protocol only. To check a new backend, add its
factory to ``STORE_FACTORIES``: a function of the test's ``tmp_path`` that
opens a store on that test's database; calling it again must open a second
store (a new connection) on the same database.

Tests specific to one backend are at the end of the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tidings.errors import ArticleNotFoundError, SchemaVersionError, StorageError
from tidings.model import (
    Article,
    DocumentFile,
    FetchRecord,
    NewRevision,
    RevisionSource,
    Stats,
)
from tidings.store import IndexRow, Store
from tidings.store.sqlite import MIGRATIONS, SQLiteStore

UTC = timezone.utc
T0 = datetime(2023, 11, 8, 9, 15, 2, tzinfo=UTC)


def sqlite_store(tmp_path: Path) -> Store:
    return SQLiteStore(tmp_path / "db.sqlite3")


def postgres_store(url: str) -> Store:
    from tidings.store.postgres import PostgresStore

    return PostgresStore(url)


STORE_FACTORIES = [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres")]

OpenStore = Callable[[], Store]


@pytest.fixture(params=STORE_FACTORIES)
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    """Opens a store on this test's database; each call is a new connection."""
    opened: list[Store] = []
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
        factory: Callable[[], Store] = lambda: postgres_store(url)  # noqa: E731
    else:
        factory = lambda: sqlite_store(tmp_path)  # noqa: E731

    def open_() -> Store:
        opened.append(factory())
        return opened[-1]

    yield open_
    for store in reversed(opened):
        store.close()


@pytest.fixture
def store(open_store: OpenStore) -> Store:
    return open_store()


def at(seconds: float) -> datetime:
    """A time ``seconds`` after T0."""
    return T0 + timedelta(seconds=seconds)


def revision(html: str, title: str = "标题", seen: datetime = T0, **extra: Any) -> NewRevision:
    """A revision from a feed."""
    return NewRevision(seen, title, html, RevisionSource.FEED, **extra)


def article(store: Store, key: str = "guid-1", site: str = "法广", seen: datetime = T0) -> Article:
    """A new article of ``site``, published an hour before it was seen."""
    site_id = store.site(site).id
    return store.add_article(site_id, key, f"https://e.com/{key}", seen, seen - timedelta(hours=1))


def fetch(feed_id: int, started: datetime, status: int | None = 200) -> FetchRecord:
    return FetchRecord(feed_id=feed_id, started=started, status=status, bytes=1024, duration_ms=87)


# --------------------------------------------------------------------------- sites


def test_site_is_created_once(store: Store) -> None:
    first = store.site("法广")
    again = store.site("法广")
    other = store.site("BBC")

    assert first == again
    assert first.name == "法广"
    assert other.id != first.id
    assert store.sites() == sorted([first, other], key=lambda s: s.name)


# --------------------------------------------------------------------------- articles


def test_feed_options_are_read_alone(store: Store) -> None:
    from tidings.model import FeedOptions

    kept = store.add_feed("https://a.example/feed.xml", "甲", options=FeedOptions(keep_responses=True, images="none"))
    plain = store.add_feed("https://b.example/feed.xml", "乙")
    options = store.feed_options()
    assert options == {kept.id: kept.options, plain.id: FeedOptions()}
    assert options[kept.id].keep_responses is True and options[plain.id].keep_responses is None


def test_an_error_found_only_at_commit_rolls_everything_back_and_leaves_no_transaction_open(store: Store) -> None:
    # On PostgreSQL a transaction's statements are pipelined: one whose rows nobody reads
    # fails only when the transaction commits. Nothing of it may stay, and the store goes on.
    first = store.add_feed("https://a.example/feed.xml", "甲")
    with pytest.raises(StorageError):
        with store.transaction():
            store.add_feed("https://c.example/feed.xml", "丙")
            store.record_fetch(FetchRecord(first.id, T0, 200, 10, 5))
            # Nothing reads its result: a fetch of a feed that does not exist, refused by
            # the database (a foreign key) when it runs.
            store.record_fetch(FetchRecord(first.id + 1000, T0, 200, 10, 5))
    assert [feed.url for feed in store.feeds()] == [first.url]  # rolled back, all of it
    assert store.fetch_log(first.id) == []
    with store.transaction():  # usable again
        store.add_feed("https://c.example/feed.xml", "丙")
        store.record_fetch(FetchRecord(first.id, T0, 200, 10, 5))
    assert len(store.feeds()) == 2 and len(store.fetch_log(first.id)) == 1


def test_add_find_and_get_article(store: Store) -> None:
    site = store.site("法广")
    published = at(-3600)

    added = store.add_article(site.id, "guid-1", "https://e.com/1", T0, published)

    assert (added.site, added.key, added.url) == ("法广", "guid-1", "https://e.com/1")
    assert (added.first_seen, added.last_seen, added.published) == (T0, T0, published)
    assert added.feed_id is None
    assert store.get_article(added.id) == added
    assert store.find_article(site.id, "guid-1") == added
    assert store.find_article(site.id, "guid-2") is None
    assert store.find_article(store.site("BBC").id, "guid-1") is None


def test_article_without_publication_time(store: Store) -> None:
    added = store.add_article(store.site("法广").id, "k", "https://e.com/k", T0, None)

    assert store.get_article(added.id).published is None


def test_get_unknown_article(store: Store) -> None:
    known = article(store)

    with pytest.raises(ArticleNotFoundError):
        store.get_article(known.id + 1000)


def test_site_and_key_are_unique(store: Store) -> None:
    first = article(store, "guid-1", site="法广")

    with pytest.raises(StorageError):
        article(store, "guid-1", site="法广", seen=at(60))

    elsewhere = article(store, "guid-1", site="BBC")
    assert elsewhere.id != first.id
    assert store.get_article(first.id) == first
    assert [a.id for a in store.iter_articles("法广")] == [first.id]


def test_article_of_a_feed(store: Store) -> None:
    feed = store.add_feed("https://feedx.net/rss/rfi.xml", "法广")

    added = store.add_article(store.site("法广").id, "k", "https://e.com/k", T0, None, feed.id)

    assert store.get_article(added.id).feed_id == feed.id


def test_touch_article_only_moves_last_seen_forward(store: Store) -> None:
    added = article(store)

    store.touch_article(added.id, at(3600))
    assert store.get_article(added.id).last_seen == at(3600)

    store.touch_article(added.id, at(60))
    touched = store.get_article(added.id)
    assert touched.last_seen == at(3600)
    assert touched.first_seen == T0


def test_iter_articles(store: Store) -> None:
    a = article(store, "a", site="法广")
    b = article(store, "b", site="BBC")
    c = article(store, "c", site="法广")

    assert list(store.iter_articles()) == [a, b, c]
    assert list(store.iter_articles("法广")) == [a, c]
    assert list(store.iter_articles("BBC")) == [b]
    assert list(store.iter_articles("nobody")) == []


# --------------------------------------------------------------------------- revisions


def test_first_revision_is_created(store: Store) -> None:
    added = article(store)
    new = revision(
        "<p>正文</p>",
        author="记者",
        summary="摘要",
        enclosures=({"url": "https://e.com/a.jpg", "type": "image/jpeg"},),
        language="zh-CN",
    )

    stored, created = store.add_revision(added.id, new)

    assert created is True
    assert stored.article_id == added.id
    assert stored.content_hash == new.content_hash
    assert (stored.title, stored.content_html, stored.source) == (
        "标题",
        "<p>正文</p>",
        RevisionSource.FEED,
    )
    assert (stored.author, stored.summary, stored.language) == ("记者", "摘要", "zh-CN")
    assert stored.enclosures == new.enclosures
    assert stored.seen == T0
    assert store.revisions(added.id) == [stored]


def test_identical_content_is_not_a_new_revision(store: Store) -> None:
    added = article(store)
    first, _ = store.add_revision(added.id, revision("<p>x</p>"))

    again, created = store.add_revision(added.id, revision("<p>x</p>", seen=at(3600)))

    assert created is False
    assert again.id == first.id
    assert again == first  # the stored revision, seen when first stored
    assert store.revisions(added.id) == [first]


def test_title_whitespace_alone_is_not_a_change(store: Store) -> None:
    added = article(store)
    first, _ = store.add_revision(added.id, revision("<p>x</p>", title="外长  会议"))

    again, created = store.add_revision(added.id, revision("<p>x</p>", title=" 外长 会议\n"))

    assert created is False
    assert again.id == first.id


def test_changed_content_is_a_new_revision(store: Store) -> None:
    added = article(store)
    first, _ = store.add_revision(added.id, revision("<p>v1</p>"))

    second, created = store.add_revision(added.id, revision("<p>v2</p>", seen=at(60)))
    third, created_again = store.add_revision(
        added.id, revision("<p>v2</p>", title="新标题", seen=at(120))
    )

    assert created is True and created_again is True
    assert len({first.id, second.id, third.id}) == 3
    assert store.revisions(added.id) == [first, second, third]


def test_same_content_in_two_articles_is_two_revisions(store: Store) -> None:
    a, b = article(store, "a"), article(store, "b")

    ra, _ = store.add_revision(a.id, revision("<p>same</p>"))
    rb, created = store.add_revision(b.id, revision("<p>same</p>"))

    assert created is True
    assert ra.id != rb.id
    assert store.revisions(b.id) == [rb]


@pytest.mark.parametrize(
    "html",
    [
        pytest.param("<p>第一行</p>\r\n<p>第二行</p>\r\n", id="crlf"),
        pytest.param("\r\n  <p>a\rb\nc</p>\t \n", id="mixed-line-ends-and-edges"),
        pytest.param(
            "\ufeff<p>\u200b\u2028\u2029\x85\U0001f600 e\u0301 \ufffd \x01\x7f &#10;</p>",
            id="odd-unicode",
        ),
        pytest.param("<p>" + "新闻内容。" * 70_000 + "</p>", id="1MB"),
    ],
)
def test_content_html_is_kept_exactly(store: Store, html: str) -> None:
    added = article(store)

    stored, _ = store.add_revision(added.id, revision(html, title="\t标题 \r\n"))

    (kept,) = store.revisions(added.id)
    assert kept.content_html == html
    assert kept.title == "\t标题 \r\n"
    assert kept == stored


def test_iter_revisions(store: Store) -> None:
    a = article(store, "a", site="法广")
    b = article(store, "b", site="BBC")
    a1, _ = store.add_revision(a.id, revision("<p>a1</p>"))
    b1, _ = store.add_revision(b.id, revision("<p>b1</p>"))
    a2, _ = store.add_revision(a.id, revision("<p>a2</p>", seen=at(60)))
    a3, _ = store.add_revision(a.id, revision("<p>a3</p>", seen=at(120)))

    assert list(store.iter_revisions()) == [a1, a2, a3, b1]
    assert list(store.iter_revisions("法广")) == [a1, a2, a3]
    assert list(store.iter_revisions(latest_only=True)) == [a3, b1]
    assert list(store.iter_revisions("BBC", latest_only=True)) == [b1]
    assert list(store.iter_revisions("nobody")) == []


def test_content_that_returns_to_an_earlier_version_is_current_again(store: Store) -> None:
    added = article(store)
    a, _ = store.add_revision(added.id, revision("<p>A</p>"))
    b, _ = store.add_revision(added.id, revision("<p>B</p>", seen=at(60)))
    again, created = store.add_revision(added.id, revision("<p>A</p>", seen=at(120)))

    assert (again.id, created) == (a.id, False)
    assert [r.content_html for r in store.revisions(added.id)] == ["<p>A</p>", "<p>B</p>"]
    assert list(store.iter_revisions(latest_only=True)) == [a]
    assert b.id != a.id


# --------------------------------------------------------------------------- document files


def test_document_file_round_trip_and_replace(store: Store) -> None:
    added = article(store)
    r1, _ = store.add_revision(added.id, revision("<p>v1</p>"))
    r2, _ = store.add_revision(added.id, revision("<p>v2</p>", seen=at(60)))
    site = store.site("法广")
    name = "1048575_七国外长会议.md"
    record = DocumentFile(
        site="法广",
        file_name=name,
        file_id=1048575,
        article_id=added.id,
        revision_id=r1.id,
        head="---\nlayout: post\n---\r\n<!--NaN-->\r\n[t](u)\r\n------\r\n\r\n",
        tail="\r\n",
        bom=True,
    )

    assert store.document_file(site.id, name) is None
    store.put_document_file(record)
    assert store.document_file(site.id, name) == record

    replacement = DocumentFile("法广", name, 1048575, added.id, r2.id)  # canonical framing
    store.put_document_file(replacement)
    assert store.document_file(site.id, name) == replacement
    assert store.document_files() == [replacement]


def test_document_files_of_a_site(store: Store) -> None:
    a = article(store, "a", site="法广")
    b = article(store, "b", site="BBC")
    ra, _ = store.add_revision(a.id, revision("<p>a</p>"))
    rb, _ = store.add_revision(b.id, revision("<p>b</p>"))
    fa = DocumentFile("法广", "1048575_a.md", 1048575, a.id, ra.id)
    fb = DocumentFile("BBC", "b.md", None, b.id, rb.id, head="<!--1-->\n[b](u)\n---\n", tail="\n")
    store.put_document_file(fa)
    store.put_document_file(fb)

    assert set(store.document_files()) == {fa, fb}
    assert store.document_files("法广") == [fa]
    assert store.document_files("BBC") == [fb]
    assert store.document_files("nobody") == []
    assert store.document_file(store.site("BBC").id, "1048575_a.md") is None


# --------------------------------------------------------------------------- feeds


def test_add_feed(store: Store) -> None:
    rfi = store.add_feed("https://feedx.net/rss/rfi.xml", "法广")
    bbc = store.add_feed("https://feedx.net/rss/bbc.xml", "BBC")

    assert (rfi.url, rfi.site) == ("https://feedx.net/rss/rfi.xml", "法广")
    assert (rfi.error_count, rfi.state, rfi.last_fetch) == (0, "active", None)
    assert rfi.id != bbc.id
    assert store.feeds() == [rfi, bbc]
    assert {s.name for s in store.sites()} == {"法广", "BBC"}


def test_fetch_log(store: Store) -> None:
    rfi = store.add_feed("https://feedx.net/rss/rfi.xml", "法广")
    bbc = store.add_feed("https://feedx.net/rss/bbc.xml", "BBC")
    later = FetchRecord(rfi.id, at(3600), 304, 0, 12)
    failed = FetchRecord(
        rfi.id, at(60), None, 0, 30_000, error_kind="timeout", error_message="read timed out"
    )
    first = FetchRecord(rfi.id, T0, 200, 52_311, 412, new_articles=20, changed_articles=1)

    for record in (later, failed, first, fetch(bbc.id, T0)):
        store.record_fetch(record)

    assert store.fetch_log(rfi.id) == [first, failed, later]
    assert store.fetch_log(bbc.id) == [fetch(bbc.id, T0)]


# --------------------------------------------------------------------------- stats


def test_stats(store: Store) -> None:
    empty = store.stats()
    assert (empty.sites, empty.feeds, empty.articles, empty.revisions) == (0, 0, 0, 0)

    feed = store.add_feed("https://feedx.net/rss/rfi.xml", "法广")
    a, b = article(store, "a"), article(store, "b", site="BBC")
    store.add_revision(a.id, revision("<p>1</p>"))
    store.add_revision(a.id, revision("<p>2</p>"))
    store.add_revision(a.id, revision("<p>2</p>"))
    store.add_revision(b.id, revision("<p>1</p>"))
    store.record_fetch(fetch(feed.id, T0))

    stats = store.stats()
    assert isinstance(stats, Stats)
    assert (stats.sites, stats.feeds, stats.articles, stats.revisions) == (2, 1, 2, 3)
    assert stats.database_bytes > 0


# --------------------------------------------------------------------------- transactions


def everything(store: Store) -> tuple[object, ...]:
    """All a store holds, as seen through the protocol."""
    return (
        store.sites(),
        store.feeds(),
        list(store.iter_articles()),
        list(store.iter_revisions()),
        store.document_files(),
        [store.fetch_log(feed.id) for feed in store.feeds()],
    )


def write_a_bit_of_everything(store: Store, key: str) -> None:
    feed = store.add_feed(f"https://e.com/{key}.xml", f"site-{key}")
    added = store.add_article(store.site(f"site-{key}").id, key, "https://e.com/", T0, None)
    stored, _ = store.add_revision(added.id, revision("<p>x</p>"))
    store.put_document_file(DocumentFile(f"site-{key}", f"{key}.md", None, added.id, stored.id))
    store.record_fetch(fetch(feed.id, T0))
    store.touch_article(added.id, at(60))


class Boom(Exception):
    pass


def test_transaction_rolls_back_everything_on_an_exception(store: Store) -> None:
    existing = article(store, "before")
    before = everything(store)

    with pytest.raises(Boom):
        with store.transaction():
            write_a_bit_of_everything(store, "x")
            store.touch_article(existing.id, at(3600))
            store.add_revision(existing.id, revision("<p>new</p>"))
            raise Boom

    assert everything(store) == before
    assert store.stats().sites == 1
    # The store is usable afterwards, and a site rolled back is created anew.
    write_a_bit_of_everything(store, "x")
    assert [s.name for s in store.sites()] == ["site-x", "法广"]


def test_transaction_commits_on_success(open_store: OpenStore) -> None:
    store = open_store()
    other = open_store()

    with store.transaction():
        write_a_bit_of_everything(store, "x")
        assert other.stats().articles == 0  # nothing committed yet

    assert everything(other) == everything(store)
    assert other.stats().articles == 1


def test_nested_transaction_is_part_of_the_outer(open_store: OpenStore) -> None:
    store = open_store()
    other = open_store()

    with pytest.raises(Boom):
        with store.transaction():
            with store.transaction():
                write_a_bit_of_everything(store, "inner")
            assert other.stats().articles == 0  # the inner block committed nothing
            raise Boom

    assert everything(store) == everything(other) == ([], [], [], [], [], [])


def test_exception_in_nested_transaction_rolls_back_the_outer(store: Store) -> None:
    with pytest.raises(Boom):
        with store.transaction():
            write_a_bit_of_everything(store, "outer")
            with store.transaction():
                write_a_bit_of_everything(store, "inner")
                raise Boom

    assert everything(store) == ([], [], [], [], [], [])


def test_nested_transactions_commit_with_the_outer(open_store: OpenStore) -> None:
    store = open_store()

    with store.transaction():
        write_a_bit_of_everything(store, "outer")
        with store.transaction():
            write_a_bit_of_everything(store, "inner")

    assert open_store().stats().articles == 2


# --------------------------------------------------------------------------- times

AWARE_TIMES = [
    pytest.param(T0, id="seed"),
    pytest.param(datetime(2023, 11, 8, 9, 15, 2, 123000, tzinfo=UTC), id="ms"),
    pytest.param(datetime(2024, 2, 29, 23, 59, 59, 999000, tzinfo=UTC), id="last-ms"),
    pytest.param(
        datetime(2023, 11, 8, 17, 55, tzinfo=timezone(timedelta(hours=8))), id="utc+8"
    ),
    pytest.param(datetime(1970, 1, 1, tzinfo=UTC), id="epoch"),
    pytest.param(datetime(1965, 9, 17, 18, 31, 6, 895000, tzinfo=UTC), id="before-epoch"),
    pytest.param(datetime(2038, 6, 16, 16, 31, 14, 509000, tzinfo=UTC), id="after-2038"),
]


@pytest.mark.parametrize("when", AWARE_TIMES)
def test_aware_times_come_back_equal_in_utc(store: Store, when: datetime) -> None:
    feed = store.add_feed("https://feedx.net/rss/rfi.xml", "法广")
    added = store.add_article(store.site("法广").id, "k", "https://e.com/k", when, when)
    store.add_revision(added.id, revision("<p>x</p>", seen=when))
    store.record_fetch(fetch(feed.id, when))

    got = store.get_article(added.id)
    times = [
        got.first_seen,
        got.last_seen,
        got.published,
        store.revisions(added.id)[0].seen,
        store.fetch_log(feed.id)[0].started,
    ]
    assert times == [when] * 5
    assert all(t is not None and t.utcoffset() == timedelta(0) for t in times)


NAIVE = datetime(2023, 11, 8, 9, 15, 2)


def naive_writes(store: Store, existing: Article) -> dict[str, Callable[[], object]]:
    """Each store method that takes a time, called with a naive one."""
    site_id = store.site(existing.site).id
    return {
        "seen": lambda: store.add_article(site_id, "new", "https://e.com/", NAIVE, None),
        "published": lambda: store.add_article(site_id, "new", "https://e.com/", T0, NAIVE),
        "touch": lambda: store.touch_article(existing.id, NAIVE),
        "revision": lambda: store.add_revision(existing.id, revision("<p>n</p>", seen=NAIVE)),
        "fetch": lambda: store.record_fetch(fetch(store.feeds()[0].id, NAIVE)),
    }


@pytest.mark.parametrize("what", ["seen", "published", "touch", "revision", "fetch"])
def test_naive_times_are_refused(store: Store, what: str) -> None:
    feed = store.add_feed("https://feedx.net/rss/rfi.xml", "法广")
    existing = store.add_article(store.site("法广").id, "k", "https://e.com/k", T0, None, feed.id)
    write = naive_writes(store, existing)[what]
    before = everything(store)

    with pytest.raises(ValueError):
        write()

    assert everything(store) == before


# --------------------------------------------------------------------------- SQLite only


def test_sqlite_reopens_with_data_kept(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = SQLiteStore(path)
    write_a_bit_of_everything(store, "x")
    before = everything(store)
    store.close()

    reopened = SQLiteStore(path)
    try:
        assert everything(reopened) == before
        assert reopened.schema_version == len(MIGRATIONS)
    finally:
        reopened.close()


def test_sqlite_keeps_long_texts_compressed_and_gives_them_back_exactly(tmp_path: Path) -> None:
    from tidings.store.packing import LONG, MARK

    path = tmp_path / "db.sqlite3"
    store = SQLiteStore(path)
    html = "<p>七国外长会议一致主张加沙停火 &amp; 🕊 \u2028 déjà</p>\r\n" * 40
    short = "<p>短</p>"
    with store.transaction():
        site = store.site("法广")
        long_one = store.add_article(site.id, "1", "https://x.example/1", T0, T0)
        store.add_revision(long_one.id, NewRevision(T0, "长", html, RevisionSource.FEED))
        short_one = store.add_article(site.id, "2", "https://x.example/2", T0, T0)
        store.add_revision(short_one.id, NewRevision(T0, "短", short, RevisionSource.FEED))
    [revision] = store.revisions(long_one.id)
    store.save_derived([(revision.id, html, "七国外长会议" * 100)])
    store.set_revision_history(revision.id, "fp", ())
    store.save_derived([(revision.id, html, "七国外长会议" * 100)])  # the same clean HTML: the fingerprint stays
    [again] = store.revisions(long_one.id)
    assert again.content_html == html and again.clean_html == html and again.text == "七国外长会议" * 100
    assert again.fingerprint == "fp"
    assert store.revisions(short_one.id)[0].content_html == short
    store.close()
    db = sqlite3.connect(path)
    stored = dict(db.execute("SELECT title, content_html FROM revisions").fetchall())
    assert isinstance(stored["长"], bytes) and stored["长"].startswith(MARK)
    assert len(stored["长"]) < len(html.encode()) / 10  # repetitive: compresses well
    assert stored["短"] == short and len(short) < LONG
    # A value written before texts were packed reads as it is.
    db.execute("UPDATE revisions SET content_html = ? WHERE title = '长'", (html,))
    db.commit()
    db.close()
    reopened = SQLiteStore(path)
    assert reopened.revisions(long_one.id)[0].content_html == html
    reopened.close()


def test_sqlite_packs_clean_html_and_text_against_their_html_and_every_reader_gets_them_back(tmp_path: Path) -> None:
    import random

    from tidings.store.packing import MARK, MARK_AGAINST, pack

    rng = random.Random(3)
    words = "七国外长会议一致主张加沙停火港口吞吐量创新高經濟與社會🕊déjà"
    text = "\n\n".join("".join(rng.choice(words) for _ in range(120)) for _ in range(12))
    html = "".join(f'<p class="x">{p}</p><script>track({n})</script>\r\n' for n, p in enumerate(text.split("\n\n")))
    clean = html.replace('<p class="x">', "<p>").replace("<script>", "").replace("</script>", "")
    path = tmp_path / "db.sqlite3"
    store = SQLiteStore(path)
    with store.transaction():
        site = store.site("法广")
        article = store.add_article(site.id, "1", "https://x.example/1", T0, T0)
        store.add_revision(article.id, NewRevision(T0, "长", html, RevisionSource.FEED))
        bare = store.add_article(site.id, "2", "https://x.example/2", T0, T0)
        store.add_revision(bare.id, NewRevision(T0, "空", "", RevisionSource.FEED))
        short = store.add_article(site.id, "3", "https://x.example/3", T0, T0)
        store.add_revision(short.id, NewRevision(T0, "短", "<p>短</p>", RevisionSource.FEED))
    ids = {a: store.revisions(a)[0].id for a in (article.id, bare.id, short.id)}
    with store.transaction():
        store.save_derived([(ids[article.id], clean, text), (ids[bare.id], clean, text), (ids[short.id], clean, text)])
        store.write_index([], [IndexRow(a, "t", "b", ids[a], ids[a]) for a in ids])
    # What a derive worker packs with the store's packer is kept as it is, the same bytes.
    packer = store.derived_packer()
    assert packer is not None
    with store.transaction():
        again = store.add_article(site.id, "4", "https://x.example/4", T0, T0)
        store.add_revision(again.id, NewRevision(T0, "再", html, RevisionSource.FEED))
    [fresh] = store.revisions(again.id)
    with store.transaction():
        store.save_derived([(fresh.id, packer(clean, html), packer(text, html))])
    assert store.revisions(again.id)[0].clean_html == clean and store.revisions(again.id)[0].text == text
    for article_id in ids:
        [revision] = store.revisions(article_id)
        assert (revision.clean_html, revision.text) == (clean, text)
        assert store.index_sources([article_id])[article_id][3] == text
        assert store.indexed_sources([article_id])[article_id][3] == text
    assert sorted(html for _rid, html, _e in store.unlisted_image_revisions(10)) == [clean] * 4
    store.close()
    db = sqlite3.connect(path)
    stored = {title: (c, t) for title, c, t in db.execute("SELECT title, clean_html, text FROM revisions")}
    db.close()
    assert stored["再"] == stored["长"]
    # Against the HTML they repeat: a fraction of what packing alone takes.
    assert all(v.startswith(MARK_AGAINST) for v in stored["长"])
    assert len(stored["长"][0]) * 4 < len(pack(clean)) and len(stored["长"][1]) * 4 < len(pack(text))
    assert all(v.startswith(MARK) for v in stored["空"])  # no HTML to pack against: alone
    assert all(v.startswith(MARK_AGAINST) for v in stored["短"])  # a short HTML still serves


def test_sqlite_gives_back_the_pages_a_derive_stage_freed(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = SQLiteStore(path)
    assert store._db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental
    with store.transaction():  # pages used, then freed (as merged index segments are)
        store._db.execute("CREATE TABLE scratch(x)")
        store._db.executemany("INSERT INTO scratch VALUES (randomblob(3000))", [()] * 2000)
    with store.transaction():
        store._db.execute("DROP TABLE scratch")
    assert store._db.execute("PRAGMA freelist_count").fetchone()[0] > 1500
    store.end_derive()
    assert store._db.execute("PRAGMA freelist_count").fetchone()[0] == 0
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert path.stat().st_size < 1_000_000
    store.close()
    # An archive made before: incremental once compacted.
    old = tmp_path / "old.sqlite3"
    db = sqlite3.connect(old)
    db.execute("CREATE TABLE t(x)")
    db.commit()
    db.close()
    store = SQLiteStore(old)
    assert store._db.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    store.compact()
    assert store._db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
    store.close()


def test_sqlite_database_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    SQLiteStore(path).close()

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sqlite_database_from_a_newer_tidings_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()

    with pytest.raises(SchemaVersionError, match="upgrade"):
        SQLiteStore(path)


def test_sqlite_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    content = "这不是数据库。\n".encode() * 200
    path.write_bytes(content)

    with pytest.raises(StorageError):
        SQLiteStore(path)

    assert path.read_bytes() == content


# --------------------------------------------------------------------------- history


def test_sightings_are_runs_per_source_and_a_revert_is_a_third_sighting(store: Store) -> None:
    feed = store.add_feed("https://e.com/feed.xml", "法广")
    item = article(store)
    a, created = store.add_revision(item.id, revision("<p>A</p>", seen=at(0)), feed_id=feed.id)
    assert created
    store.touch_articles([item.id], at(60), feed.id)  # the feed shows A again
    b, _ = store.add_revision(item.id, revision("<p>B</p>", seen=at(120)), feed_id=feed.id)
    back, created = store.add_revision(item.id, revision("<p>A</p>", seen=at(180)), feed_id=feed.id)
    assert not created and back.id == a.id
    assert store.get_article(item.id).current_revision_id == a.id
    runs = store.sightings(item.id)
    assert [(s.revision_id, s.source, s.times) for s in runs] == [(a.id, "feed", 2), (b.id, "feed", 1), (a.id, "feed", 1)]
    assert runs[0].first_seen == at(0) and runs[0].last_seen == at(60)
    assert len(store.revisions(item.id)) == 2


def test_a_raw_variant_is_kept_once_and_sightings_name_it(store: Store) -> None:
    item = article(store)
    a, _ = store.add_revision(item.id, revision("<p>A</p>", seen=at(0)))
    variant = revision("<p>A</p>\n<div class=share>share</div>", seen=at(60))
    store.see_revision(item.id, a.id, source="feed", seen=at(60), raw=variant, current=True)
    store.see_revision(item.id, a.id, source="feed", seen=at(120), raw=variant, current=True)
    runs = store.sightings(item.id)
    assert [(s.raw_id is None, s.times) for s in runs] == [(True, 1), (False, 2)]
    assert store.raw_content(runs[1].raw_id or 0) == (variant.title, variant.content_html)
    assert len(store.revisions(item.id)) == 1


def test_state_changes_are_events_with_evidence(store: Store) -> None:
    from tidings.model import ArticleState

    item = article(store)
    assert store.change_state(item.id, ArticleState.PRESENT, at(0), {}) is None  # no change, no event
    missing = store.change_state(item.id, ArticleState.MISSING, at(10), {"feed_fetch": "2023-11-08"})
    assert missing is not None and missing.old_state is ArticleState.PRESENT
    store.change_state(item.id, ArticleState.DELETED, at(20), {"status": 404})
    stored = store.get_article(item.id)
    assert stored.state is ArticleState.DELETED and stored.state_since == at(20)
    events = store.state_changes(item.id)
    assert [(e.old_state, e.new_state, e.evidence) for e in events] == [
        (ArticleState.PRESENT, ArticleState.MISSING, {"feed_fetch": "2023-11-08"}),
        (ArticleState.MISSING, ArticleState.DELETED, {"status": 404}),
    ]
    assert [e.id for e in store.state_changes()] == [events[1].id, events[0].id]  # newest first


def test_revisions_keep_fingerprint_and_changed_parts(store: Store) -> None:
    item = article(store)
    first, _ = store.add_revision(item.id, revision("<p>A</p>", fingerprint="f1"))
    second, _ = store.add_revision(item.id, revision("<p>B</p>", seen=at(5), fingerprint="f2", changed=("body",)))
    store.set_revision_history(first.id, "f1b", ())
    by_id = {r.id: r for r in store.revisions(item.id)}
    assert by_id[first.id].fingerprint == "f1b"
    assert by_id[second.id].fingerprint == "f2" and by_id[second.id].changed == ("body",)


def test_recent_changes_merge_edits_and_state_changes_newest_first(store: Store) -> None:
    from tidings.model import ArticleState

    feed = store.add_feed("https://e.com/feed.xml", "法广")
    item = article(store)
    other = article(store, "guid-2", site="Gazette")
    a, _ = store.add_revision(item.id, revision("<p>A</p>", seen=at(0)), feed_id=feed.id)
    b, _ = store.add_revision(item.id, revision("<p>B</p>", seen=at(10), changed=("body",)), feed_id=feed.id)
    store.add_revision(other.id, revision("<p>first</p>", seen=at(15)))  # a first revision is no edit
    page, _ = store.add_revision(
        item.id, NewRevision(at(20), "标题", "<p>page</p>", RevisionSource.EXTRACTED), current=False
    )  # the page's first full text is no edit of the feed's content
    store.add_revision(other.id, NewRevision(at(25), "t", "<p>imported</p>", RevisionSource.IMPORT))
    store.change_state(item.id, ArticleState.MISSING, at(30), {"reason": "gone from the feed"})
    store.change_state(other.id, ArticleState.DELETED, at(30), {"status": 410})
    c, _ = store.add_revision(item.id, revision("<p>C</p>", seen=at(30), changed=("body",)), feed_id=feed.id)

    changes = store.recent_changes(limit=10)
    assert [(x.kind, x.id) for x in changes] == [
        ("state", changes[0].id), ("state", changes[1].id), ("edit", c.id), ("edit", b.id)
    ]
    assert changes[0].site == "Gazette" and changes[0].new_state is ArticleState.DELETED
    assert changes[0].evidence == {"status": 410}
    assert changes[1].old_state is ArticleState.PRESENT and changes[1].title == "标题"
    assert (changes[3].previous_revision_id, changes[3].revision_id, changes[3].changed) == (a.id, b.id, ("body",))
    assert changes[2].previous_revision_id == b.id and changes[2].at == at(30) and changes[2].source == "feed"
    assert page.id not in [x.id for x in changes if x.kind == "edit"]

    # Paged by keyset: each page goes on exactly where the previous ended.
    first = store.recent_changes(limit=3)
    rest = store.recent_changes(limit=3, before=(int(first[-1].at.timestamp() * 1000), 0, first[-1].id))
    assert [(x.kind, x.id) for x in first + rest] == [(x.kind, x.id) for x in changes]
    after_state = store.recent_changes(limit=10, before=(int(at(30).timestamp() * 1000), 1, changes[1].id))
    assert [(x.kind, x.id) for x in after_state] == [("edit", c.id), ("edit", b.id)]

    assert [x.kind for x in store.recent_changes("Gazette")] == ["state"]
    assert [x.id for x in store.recent_changes("法广", limit=1)] == [changes[1].id]


def test_text_comes_back_exactly_even_with_nul_and_rare_characters(store: Store) -> None:
    title = "控制\x00字符\U0010ffff与\U0010ffff0结尾\x00"
    html = "<p>\x00a\U0010ffff1b</p>"
    with store.transaction():
        article = store.add_article(store.site("法广\x00").id, "k\x00", "https://rfi.example/\x00", T0, None)
        revision, _new = store.add_revision(article.id, NewRevision(T0, title, html, RevisionSource.FEED))
    (read,) = store.revisions(article.id)
    assert (read.title, read.content_html, read.content_hash) == (title, html, revision.content_hash)
    assert store.get_article(article.id).site == "法广\x00"


def test_sqlite_refuses_to_read_a_text_packed_against_its_html_without_the_html(tmp_path: Path) -> None:
    from tidings.store.packing import MARK_AGAINST, unpack_row

    html = "<p>" + "七国外长会议一致主张加沙停火。" * 40 + "</p>"
    store = SQLiteStore(tmp_path / "db.sqlite3")
    with store.transaction():
        article = store.add_article(store.site("法广").id, "1", "https://x.example/1", T0, T0)
        store.add_revision(article.id, NewRevision(T0, "长", html, RevisionSource.FEED))
    [revision] = store.revisions(article.id)
    store.save_derived([(revision.id, html, "七国外长会议" * 100)])
    with pytest.raises(ValueError, match="packed against"):  # never its frame taken for the text
        store._db.execute("SELECT text FROM revisions").fetchone()
    store._db.row_factory = None
    assert store._db.execute("SELECT text FROM revisions").fetchone()[0].startswith(MARK_AGAINST)
    store._db.row_factory = unpack_row
    assert store.revisions(article.id)[0].text == "七国外长会议" * 100
    store.close()
