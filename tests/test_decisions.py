"""The pure decisions of an update: identity, keep/block rules, scheduling."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from tidings.errors import InvalidRuleError
from tidings.identity import canonical_url, entry_key, plan_entries
from tidings.model import ArticleRef, FeedOptions, ParsedEntry, content_hash
from tidings.rules import EMOJI, compile_rules, entry_allowed
from tidings.schedule import (
    MAX_BACKOFF,
    MIN_INTERVAL,
    adapt_interval,
    next_after_failure,
    next_after_success,
)

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def entry(**values: object) -> ParsedEntry:
    return ParsedEntry(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://www.dw.com/zh/a/a-1?utm_source=rss&utm_medium=feed#top", "https://www.dw.com/zh/a/a-1"),
        ("https://x.example/a?id=7&fbclid=abc", "https://x.example/a?id=7"),
        ("https://x.example/a?b=2&a=1", "https://x.example/a?b=2&a=1"),  # kept as it was
        ("HTTP://X.Example:80/中文", "http://x.example/%E4%B8%AD%E6%96%87"),
        ("not a link", None),
        (None, None),
    ],
)
def test_canonical_url(link, expected):
    assert canonical_url(link) == expected


def test_entry_key_prefers_guid_then_link_then_hash():
    assert entry_key(entry(id=" g1 ", link="https://x/1"), "https://x/1") == "g1"
    assert entry_key(entry(link="https://x/1"), "https://x/1") == "https://x/1"
    hashed = entry_key(entry(title="标题", published=NOW), None)
    assert hashed.startswith("hash:") and hashed == entry_key(entry(title="标题", published=NOW), None)
    assert hashed != entry_key(entry(title="另一个", published=NOW), None)


def ref(article_id: int, key: str, url: str, title: str, html: str) -> ArticleRef:
    return ArticleRef(article_id, key, url, content_hash(title, html))


def test_plan_new_changed_seen():
    existing = [
        ref(1, "g1", "https://x/1", "One", "<p>1</p>"),
        ref(2, "g2", "https://x/2", "Two", "<p>2</p>"),
    ]
    plan = plan_entries(
        [
            entry(id="g1", link="https://x/1", title="One", content="<p>1</p>"),
            entry(id="g2", link="https://x/2", title="Two", content="<p>2, edited</p>"),
            entry(id="g3", link="https://x/3", title="Three", summary="<p>3</p>"),
        ],
        existing,
    )
    assert [(p.action, p.article_id) for p in plan] == [("seen", 1), ("changed", 2), ("new", None)]


def test_a_guid_that_changes_with_the_title_keeps_the_article():
    existing = [ref(5, "DW-中国政策-1", "https://www.dw.com/zh/a-1", "中国政策", "<p>x</p>")]
    (planned,) = plan_entries(
        [entry(id="DW-中国新政策-1", link="https://www.dw.com/zh/a-1?utm_source=rss", title="中国新政策", content="<p>x</p>")],
        existing,
    )
    assert (planned.action, planned.article_id) == ("changed", 5)


def test_the_same_story_twice_in_one_document_is_taken_once():
    plan = plan_entries(
        [
            entry(id="a", link="https://x/1", title="T", content="c"),
            entry(id="b", link="https://x/1#comments", title="T", content="c"),
            entry(id="a", link="https://x/other", title="T", content="c"),
        ],
        [],
    )
    assert [p.key for p in plan] == ["a"]


def test_rules_keep_and_block():
    cdt = compile_rules(FeedOptions(keep_category=EMOJI))
    assert entry_allowed(entry(title="x", categories=("404文库", "📢 公告")), cdt)
    assert not entry_allowed(entry(title="x", categories=("404文库",)), cdt)
    assert not entry_allowed(entry(title="x"), cdt)
    rules = compile_rules(FeedOptions(keep_title="停火|ceasefire", block_author="^bot$"))
    assert entry_allowed(entry(title="加沙停火", author="记者"), rules)
    assert entry_allowed(entry(title="CEASEFIRE talks"), rules)  # case-insensitive
    assert not entry_allowed(entry(title="加沙停火", author="BOT"), rules)
    assert not entry_allowed(entry(title="天气"), rules)
    assert entry_allowed(entry(title="anything"), compile_rules(FeedOptions()))


def test_invalid_rule_is_refused():
    with pytest.raises(InvalidRuleError, match="keep-title"):
        compile_rules(FeedOptions(keep_title="(unclosed"))


def test_adapt_interval_stays_in_bounds():
    assert adapt_interval(3600, 3600, had_new=True) == 1800
    assert adapt_interval(3600, 3600, had_new=False) == 5400
    assert adapt_interval(3600, 900, had_new=True) == 900  # a quarter of the configured
    assert adapt_interval(3600, 14400, had_new=False) == 14400  # four times
    assert adapt_interval(600, 600, had_new=True) == MIN_INTERVAL
    assert adapt_interval(86400, 86400 * 3, had_new=False) == 86400  # never past a day


def test_next_after_success_jitters_and_only_postpones_for_hints():
    rng = random.Random(1)
    delays = set()
    for _ in range(50):
        when, interval = next_after_success(NOW, configured=3600, current=3600, had_new=False, rng=rng)
        delay = (when - NOW).total_seconds()
        assert interval == 5400 and 5400 * 0.9 <= delay <= 5400 * 1.1
        delays.add(round(delay))
    assert len(delays) > 10  # feeds drift apart
    early, _ = next_after_success(NOW, configured=3600, current=3600, had_new=False, fresh_for=60, rng=rng)
    assert (early - NOW).total_seconds() >= 5400 * 0.9  # a short max-age never brings it forward
    later, _ = next_after_success(NOW, configured=3600, current=3600, had_new=False, ttl_minutes=240, rng=rng)
    assert (later - NOW).total_seconds() >= 240 * 60
    capped, _ = next_after_success(NOW, configured=3600, current=3600, had_new=False, fresh_for=10**7, rng=rng)
    assert (capped - NOW) <= timedelta(days=1)


def test_next_after_failure_backs_off_exponentially_and_honours_retry_after():
    rng = random.Random(2)
    delays = [(next_after_failure(NOW, failures=n, rng=rng) - NOW).total_seconds() for n in range(1, 12)]
    assert delays[0] == pytest.approx(300, rel=0.11)
    assert delays[1] == pytest.approx(600, rel=0.11)
    assert all(d <= MAX_BACKOFF * 1.1 for d in delays) and delays[-1] >= MAX_BACKOFF * 0.9
    waited = next_after_failure(NOW, failures=1, retry_after=7200, rng=rng)
    assert (waited - NOW).total_seconds() >= 7200
    week = next_after_failure(NOW, failures=1, retry_after=10**9, rng=rng)
    assert (week - NOW) <= timedelta(days=7)
