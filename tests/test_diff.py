"""Inline differences between revisions: character level for CJK, word level otherwise, well nested."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from lxml import html as lxml_html

from tidings.diff import inline_diff


def test_chinese_is_compared_character_by_character():
    assert inline_diff("外长会议呼吁停火", "外长会议一致呼吁加沙停火") == "<p>外长会议<ins>一致</ins>呼吁<ins>加沙</ins>停火</p>"


def test_english_is_compared_word_by_word():
    assert inline_diff("the talks failed", "the talks resumed") == "<p>the talks <del>failed</del><ins>resumed</ins></p>"


def test_a_new_paragraph_is_marked_inside_its_own_paragraph():
    assert inline_diff("甲。\n\n乙。", "甲。\n\n乙。\n\n丙。") == "<p>甲。</p><p>乙。</p><p><ins>丙。</ins></p>"
    assert inline_diff("a\n\nb\n\nc", "a\n\nc") == "<p>a</p><p><del>b</del></p><p>c</p>"


def test_text_is_escaped():
    assert "<script>" not in inline_diff("x", "<script>alert(1)</script>")


paragraphs = st.lists(st.text(alphabet="ab 甲乙<&", min_size=1, max_size=8), min_size=1, max_size=4)


@given(paragraphs, paragraphs)
def test_markup_always_nests_and_keeps_both_texts(old, new):
    result = inline_diff("\n\n".join(old), "\n\n".join(new))
    if not result:
        return
    tree = lxml_html.fragment_fromstring(f"<div>{result}</div>")
    assert all(p.tag == "p" for p in tree)  # no ins/del across paragraph boundaries
    for p in tree:
        assert all(child.tag in ("ins", "del") and not len(child) for child in p)
    kept_new = "".join("".join(t for t in p.itertext() if t) for p in tree)
    without_del = "".join(
        (p.text or "") + "".join((c.text or "") * (c.tag == "ins") + (c.tail or "") for c in p) for p in tree
    )
    assert without_del.replace(" ", "") == "".join(new).replace(" ", "") or not "".join(new).strip()
    assert kept_new
