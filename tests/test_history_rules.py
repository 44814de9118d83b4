"""The pure decisions of history: what is an edit, what changed, what vanished."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tidings.clean import Cleaner
from tidings.history import changed_parts, fingerprint, image_addresses, link_targets, vanished, verdict
from tidings.model import Article, ArticleState, Revision, RevisionSource

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
CLEANER = Cleaner(site_rules=())


def clean_fingerprint(title: str, raw: str) -> str:
    return fingerprint(title, CLEANER.clean(raw, base_url="https://outlet.example/a").html)


BASE = '<p>The ferry returns on <a href="https://outlet.example/ferry">Monday</a>.</p><img src="https://cdn.example/f.jpg" alt="Ferry">'


def test_changes_that_are_not_edits_keep_the_fingerprint():
    same = clean_fingerprint("Ferry returns", BASE)
    variants = [
        BASE.replace("The ferry", "The   ferry\n"),  # whitespace
        BASE.replace("ferry\">", "ferry?utm_source=rss&utm_medium=feed\">"),  # tracking parameters
        BASE.replace("f.jpg", "f.jpg?v=1733"),  # a cache-busting query on an image
        BASE.replace('src="https://cdn.example/f.jpg" alt="Ferry"', 'alt="Ferry" src="https://cdn.example/f.jpg"'),
        BASE + '<div class="share"><a href="https://www.facebook.com/sharer/sharer.php?u=x">Facebook</a></div>',
        BASE + '<div>获取更多RSS：<br><a href="https://feedx.net">https://feedx.net</a></div>',
        BASE.replace("Monday", "&#77;onday"),  # entity spelling
    ]
    for variant in variants:
        assert clean_fingerprint("Ferry returns", variant) == same, variant
    assert clean_fingerprint(" Ferry  returns ", BASE) == same


def test_real_edits_change_the_fingerprint():
    same = clean_fingerprint("Ferry returns", BASE)
    edits = [
        (BASE.replace("Monday", "Tuesday"), "Ferry returns"),
        (BASE, "Ferry returns on Tuesday"),
        (BASE.replace("outlet.example/ferry", "outlet.example/boat"), "Ferry returns"),
        (BASE.replace("f.jpg", "g.jpg"), "Ferry returns"),
        ("<p>停火协议生效</p>", "Ferry returns"),
    ]
    for raw, title in edits:
        assert clean_fingerprint(title, raw) != same, (raw, title)


def revision(title: str, clean_html: str, text: str, author: str | None = None) -> Revision:
    return Revision(1, 1, T0, title, clean_html, "h", RevisionSource.FEED, author=author, clean_html=clean_html, text=text)


def test_changed_parts_name_what_differs():
    old = revision("Ferry", BASE, "The ferry returns on Monday.")
    assert changed_parts(None, title="x", text="y", clean_html="", author=None) == ()
    assert changed_parts(old, title="Ferry", text="The ferry returns on Monday.", clean_html=BASE, author=None) == ()
    assert changed_parts(
        old, title="Ferry!", text="The ferry returns on Tuesday.",
        clean_html=BASE.replace("ferry\"", "boat\"").replace("f.jpg", "g.jpg"), author="A. Writer",
    ) == ("title", "body", "author", "links", "images")
    assert link_targets(BASE) == {"https://outlet.example/ferry"}
    assert image_addresses(BASE.replace("f.jpg", "f.jpg?v=2")) == {"https://cdn.example/f.jpg"}


def article(key: str, hours: int, last_seen: datetime) -> Article:
    published = T0 + timedelta(hours=hours)
    return Article(hours, "Outlet", key, f"https://outlet.example/{key}", published, last_seen, published)


def test_an_item_taken_out_while_older_ones_remain_vanished_but_one_falling_off_the_end_did_not():
    fetched = T0 + timedelta(days=1)
    listed = [article(k, h, fetched) for k, h in (("a", 1), ("b", 2), ("c", 3), ("d", 4))]
    # The new document lists b and d (and a newer e): c was taken out (b is older and still
    # there); a fell off the end (nothing older than it remains).
    now_times = [T0 + timedelta(hours=h) for h in (2, 4, 5)]
    gone = vanished(listed, {"b", "d", "e"}, set(), now_times, previous_document=fetched)
    assert [a.key for a in gone] == ["c"]
    # An article not in the previous document either is not judged again.
    stale = [article("c", 3, fetched - timedelta(hours=1))]
    assert vanished(stale, {"b"}, set(), now_times, previous_document=fetched) == []
    # Listed again under another key but the same link: not vanished.
    assert vanished(listed[2:3], {"x"}, {"https://outlet.example/c"}, now_times, previous_document=fetched) == []
    # No dates in the document: nothing is judged.
    assert vanished(listed, set(), set(), [None, None], previous_document=fetched) == []


def test_what_the_check_of_a_missing_article_shows():
    url = "https://outlet.example/news/1"
    assert verdict(url, 404, url)[0] is ArticleState.DELETED
    assert verdict(url, 410, url)[0] is ArticleState.DELETED
    assert verdict(url, 200, "https://outlet.example/")[0] is ArticleState.DELETED
    assert verdict(url, 200, "https://outlet.example/news/other")[0] is ArticleState.DELETED
    assert verdict(url, 200, url)[0] is ArticleState.MISSING
    assert verdict(url, 200, url + "/")[0] is ArticleState.MISSING
    assert verdict(url, 200, "https://www.outlet.example/news/1")[0] is ArticleState.MISSING
    assert verdict(url, 503, url)[0] is ArticleState.MISSING
