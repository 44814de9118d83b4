"""Tests of the archive document format (tidings.document).

Every fixture is built here; nothing outside the repository is read.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tidings.document import (
    FIRST_FILE_ID,
    MAX_FILE_NAME_BYTES,
    Document,
    document_file_name,
    new_document,
    normalise_title,
    one_line_html,
    parse_document,
    parse_file_id,
    render_document,
    safe_path_component,
    serialise_url,
)
from tidings.errors import DocumentError

UTC = timezone.utc
BOM = "\ufeff".encode()

SEED_TS = 1699434902000
SEED_TITLE = "七国外长会议一致主张加沙停火  多国呼吁重振巴以两国共存框架"
SEED_URL = "https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/x"
SEED_HTML = "<div>08/11/2023</div><p>正文</p>"
SEED_TEXT = f"<!--{SEED_TS}-->\n[{SEED_TITLE}]({SEED_URL})\n------\n\n{SEED_HTML}\n"
SEED = SEED_TEXT.encode("utf-8")

#: Characters the original system wrote into file names but no file system takes.
UNSAFE_NAME_CHARS = set('/\\:*?"<>|')



def characters(exclude: str = "") -> st.SearchStrategy[str]:
    """Any character but lone surrogates (they cannot be written as UTF-8) and ``exclude``."""
    return st.characters(exclude_categories=["Cs"], exclude_characters=exclude)


TEXT = characters()
# One line of a file the reader accepts: no line break, and no NUL (binary).
LINE_TEXT = characters(exclude="\x00\r\n")


def assert_round_trip(data: bytes) -> Document:
    """Parse ``data``, check it renders back to the same bytes, return the document."""
    doc = parse_document(data)
    assert render_document(doc) == data
    return doc


def assert_safe_name(name: str) -> None:
    """A file or folder name valid on every common system."""
    assert not UNSAFE_NAME_CHARS & set(name), name
    assert all(unicodedata.category(c) != "Cc" for c in name), name
    assert name not in (".", "..")
    assert len(name.encode("utf-8")) <= MAX_FILE_NAME_BYTES


# --------------------------------------------------------------------------- reading


def test_parse_seed_document() -> None:
    doc = assert_round_trip(SEED)

    assert doc.ts == SEED_TS
    assert doc.title == SEED_TITLE  # the double space is kept
    assert doc.url == SEED_URL
    assert doc.html == SEED_HTML
    assert doc.tail == "\n"
    assert doc.bom is False
    assert doc.date is None
    assert doc.published == datetime(2023, 11, 8, 9, 15, 2, tzinfo=UTC)
    assert doc.published.utcoffset() == timedelta(0)


def test_multi_line_body_is_line_5_to_the_end() -> None:
    body = "<div>08/11/2023</div>\n<p>第一段</p>\n\n<p>第二段</p>"
    data = SEED_TEXT.replace(SEED_HTML, body).encode()

    doc = assert_round_trip(data)

    assert doc.html == body
    assert doc.title == SEED_TITLE


def test_crlf_line_ends() -> None:
    data = SEED_TEXT.replace("\n", "\r\n").encode()

    doc = assert_round_trip(data)

    assert (doc.ts, doc.title, doc.url, doc.html) == (SEED_TS, SEED_TITLE, SEED_URL, SEED_HTML)
    assert doc.tail == "\r\n"


def test_date_line_after_the_rule() -> None:
    data = SEED_TEXT.replace(
        "------\n", "------\n日期：Wed, 08 Nov 2023 09:55:00 +0800\n"
    ).encode()

    doc = assert_round_trip(data)

    assert doc.date == datetime(2023, 11, 8, 1, 55, tzinfo=UTC)
    assert doc.date.utcoffset() == timedelta(0)
    assert doc.html == SEED_HTML
    assert doc.ts == SEED_TS


def test_date_line_gives_published_when_timestamp_is_nan() -> None:
    data = SEED_TEXT.replace(str(SEED_TS), "NaN").replace(
        "------\n", "------\n日期：Wed, 08 Nov 2023 09:55:00 +0800\n"
    ).encode()

    doc = assert_round_trip(data)

    assert doc.ts is None
    assert doc.published == datetime(2023, 11, 8, 1, 55, tzinfo=UTC)


def test_nan_timestamp() -> None:
    doc = assert_round_trip(SEED_TEXT.replace(str(SEED_TS), "NaN").encode())

    assert doc.ts is None
    assert doc.published is None
    assert doc.title == SEED_TITLE


def test_yaml_front_matter() -> None:
    front = '---\nlayout: post\ntitle: "x"\n---\n'
    doc = assert_round_trip((front + SEED_TEXT).encode())

    assert (doc.ts, doc.title, doc.url, doc.html) == (SEED_TS, SEED_TITLE, SEED_URL, SEED_HTML)
    assert doc.head.startswith(front)


def test_utf8_byte_order_mark() -> None:
    doc = assert_round_trip(BOM + SEED)

    assert doc.bom is True
    assert doc.ts == SEED_TS
    assert doc.title == SEED_TITLE


def test_every_variant_at_once() -> None:
    text = '---\nlayout: post\ntitle: "x"\n---\n' + SEED_TEXT.replace(
        "------\n", "------\n日期：Wed, 08 Nov 2023 09:55:00 +0800\n"
    ).replace(SEED_HTML, "<p>a</p>\n<p>b</p>")
    data = BOM + text.replace("\n", "\r\n").encode()

    doc = assert_round_trip(data)

    assert doc.bom is True
    assert doc.title == SEED_TITLE
    assert doc.html == "<p>a</p>\r\n<p>b</p>"
    assert doc.date == datetime(2023, 11, 8, 1, 55, tzinfo=UTC)


@pytest.mark.parametrize(
    ("title", "url"),
    [
        ("[独家] 标题", "https://e.com/a"),
        ("标题 [图](片)", "https://e.com/a"),
        ("a]", "https://e.com/a"),
        ("[[x]]", "https://e.com/(1)"),
    ],
)
def test_unescaped_brackets_in_titles(title: str, url: str) -> None:
    data = SEED_TEXT.replace(f"[{SEED_TITLE}]({SEED_URL})", f"[{title}]({url})").encode()

    doc = assert_round_trip(data)

    assert doc.title == title
    assert doc.url == url


def test_body_starting_right_after_the_rule() -> None:
    doc = assert_round_trip(SEED_TEXT.replace("------\n\n", "------\n").encode())

    assert doc.html == SEED_HTML


def test_out_of_range_date_line_is_tolerated() -> None:
    # A date that cannot be expressed in UTC must not crash the reader: like
    # any other unreadable date, it is ignored.
    data = SEED_TEXT.replace(
        "------\n", "------\n日期：Fri, 31 Dec 9999 23:00:00 -0800\n"
    ).encode()

    doc = assert_round_trip(data)

    assert doc.date is None
    assert doc.ts == SEED_TS


# --------------------------------------------------------------------------- errors


def _cut_after(marker: str) -> bytes:
    return SEED[: SEED.index(marker.encode()) + len(marker.encode())]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b"", "empty", id="empty"),
        pytest.param(b"\x00\x01\x02\x89PNG\r\n\x1a\n\x00\x00", "binary", id="binary"),
        pytest.param(SEED.replace(b"\n\n<div>", b"\n\n<div>\x00"), "NUL", id="nul-in-body"),
        pytest.param(SEED_TEXT.encode("gbk"), "UTF-8", id="gbk"),
        pytest.param(SEED[:-10], "UTF-8", id="cut-mid-character"),
        pytest.param(_cut_after(f"<!--{SEED_TS}-->\n"), "truncated", id="after-line-1"),
        pytest.param(_cut_after(f"({SEED_URL})\n"), "truncated", id="after-line-2"),
        pytest.param(_cut_after("[七国外长"), "truncated", id="mid-title"),
        pytest.param(_cut_after("------\n"), "truncated", id="after-rule"),
        pytest.param(_cut_after("------\n\n"), "truncated", id="after-blank-line"),
        pytest.param(_cut_after("<p>正"), "truncated", id="mid-body"),
        pytest.param(SEED[:-1], "truncated", id="no-final-newline"),
        pytest.param(
            SEED.replace(f"[{SEED_TITLE}]({SEED_URL})\n".encode(), b""),
            "[title](url)",
            id="missing-link-line",
        ),
        pytest.param(SEED.replace(b"<!--", b"<!-"), "<!--timestamp-->", id="bad-timestamp"),
        pytest.param(SEED.replace(b"------", b"======"), "------", id="missing-rule"),
        pytest.param(SEED.replace(SEED_HTML.encode(), b"  \t"), "empty", id="blank-body"),
        pytest.param(b'---\ntitle: "x"\n', "front matter", id="unclosed-front-matter"),
    ],
)
def test_not_a_document(data: bytes, reason: str) -> None:
    with pytest.raises(DocumentError) as info:
        parse_document(data)

    error = info.value
    assert reason in error.reason
    assert error.path is None
    assert isinstance(error, ValueError)


# --------------------------------------------------------------------------- writing


def test_new_document_renders_the_seed_byte_exact() -> None:
    doc = new_document(
        SEED_TS, SEED_TITLE, "https://www.rfi.fr/cn/中国/x", "<div>08/11/2023</div><p>正文</p>"
    )

    assert render_document(doc) == SEED
    assert parse_document(SEED) == doc


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("a\tb", "a b"),
        ("a\nb", "a b"),
        ("a\r\nb", "a b"),
        ("a\rb", "a b"),
        ("a\u2028b", "a b"),
        ("  \t标题\n ", "标题"),
        (SEED_TITLE, SEED_TITLE),
        ("a  b", "a  b"),
        ("a\x00b\x1b[31m", "ab[31m"),
    ],
)
def test_normalise_title(raw: str, normalised: str) -> None:
    assert normalise_title(raw) == normalised
    assert new_document(1, raw, "https://e.com/", "<p>x</p>").title == normalised


@pytest.mark.parametrize(
    ("html", "one_line"),
    [
        ("<p>a\n  b</p>", "<p>a b</p>"),
        ("<p>a \t\r\n\r\n  b</p>", "<p>a b</p>"),
        ("<p>a</p>\n<p>b</p>\n", "<p>a</p> <p>b</p> "),
        ("<p>没有换行</p>", "<p>没有换行</p>"),
        ("<pre>a\nb\r\nc\rd</pre>", "<pre>a&#10;b&#10;c&#10;d</pre>"),
        ("<pre>  x\n  y</pre>", "<pre>  x&#10;  y</pre>"),
        ('<PRE class="c">a\nb</PRE>', '<PRE class="c">a&#10;b</PRE>'),
        ("<textarea>a\nb</textarea>", "<textarea>a&#10;b</textarea>"),
        ("a\n<pre>b\nc</pre>\nd", "a <pre>b&#10;c</pre> d"),
        ("<p>a\x00b</p>", "<p>a\ufffdb</p>"),
    ],
)
def test_one_line_html(html: str, one_line: str) -> None:
    assert one_line_html(html) == one_line
    assert new_document(1, "t", "https://e.com/", html).html == one_line


@pytest.mark.parametrize(
    ("html", "one_line"),
    [
        ('<pre\nclass="x">a\nb</pre>', '<pre class="x">a&#10;b</pre>'),
        ("<pre>a\nb</pre\n>", "<pre>a&#10;b</pre >"),
        ('<textarea\n  name="q">a\nb</textarea>', '<textarea name="q">a&#10;b</textarea>'),
    ],
)
def test_one_line_html_keeps_line_breaks_inside_pre_tags_as_spaces(
    html: str, one_line: str
) -> None:
    # A line break between a tag's name and its attributes is tag syntax, not
    # content: turned into "&#10;" it would become part of the tag name and the
    # element would no longer be a <pre>/<textarea>.
    assert one_line_html(html) == one_line


@pytest.mark.parametrize(
    ("url", "serialised"),
    [
        (SEED_URL, SEED_URL),
        ("https://www.rfi.fr/cn/中国/x", SEED_URL),
        ("  https://www.rfi.fr/cn/中国/x \n", SEED_URL),
        (
            "https://例子.测试/新闻?q=加沙",
            "https://xn--fsqu00a.xn--0zwm56d/%E6%96%B0%E9%97%BB?q=%E5%8A%A0%E6%B2%99",
        ),
        ("https://e.com/a](b", "https://e.com/a%5D(b"),
        ("not a url", "not a url"),
        ("not a\n url](x", "not a url%5D(x"),
    ],
)
def test_serialise_url(url: str, serialised: str) -> None:
    assert serialise_url(url) == serialised
    assert new_document(1, "t", url, "<p>x</p>").url == serialised


def test_nul_in_a_url_does_not_make_the_document_unreadable() -> None:
    # Titles and bodies lose their NULs when written; a link that is not a URL
    # must too, or tidings writes a file its own reader refuses as binary.
    doc = new_document(SEED_TS, SEED_TITLE, "not a url\x00", SEED_HTML)

    assert "\x00" not in doc.url
    assert parse_document(render_document(doc)) == doc


# --------------------------------------------------------------------------- properties

URL_TEXTS = st.one_of(
    st.text(TEXT),
    st.builds(
        "https://{}/{}".format,
        st.sampled_from(["www.rfi.fr", "例子.测试", "EXAMPLE.com"]),
        st.text(TEXT),
    ),
)

HTML_PIECES = [
    "<p>", "</p>", "<pre>", "</pre>", "<PRE class='c'>", "<textarea>", "</textarea>",
    "\n", "\r\n", "\r", " \n\t ", "\f", "中文", "word",
]  # fmt: skip


def html_texts(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """HTML-ish text: tags (pre and textarea among them), words and line breaks."""
    pieces = st.one_of(st.text(text, max_size=8), st.sampled_from(HTML_PIECES))
    return st.lists(pieces, max_size=20).map("".join)


@settings(max_examples=200, deadline=None)
@given(
    ts=st.integers(0, 2**41),
    title=st.text(TEXT),
    url=URL_TEXTS,
    html=html_texts(TEXT),
)
def test_written_documents_read_back(ts: int, title: str, url: str, html: str) -> None:
    # Refused on purpose: a document needs a non-blank body; an empty title
    # makes no article.
    assume(one_line_html(html).strip())
    assume(normalise_title(title))
    doc = new_document(ts, title, url, html)

    data = render_document(doc)
    parsed = parse_document(data)

    assert parsed.ts == ts
    assert parsed.title == normalise_title(title)
    assert parsed.url == serialise_url(url)
    assert parsed.html == one_line_html(html)
    assert parsed == doc
    assert data.count(b"\n") == 5


@settings(max_examples=200, deadline=None)
@given(html_texts(characters(exclude="\x00<&")))
def test_one_line_html_never_glues_words(html: str) -> None:
    out = one_line_html(html)

    assert "\n" not in out
    assert "\r" not in out
    # Mapping the &#10; of <pre>/<textarea> back to line breaks, the output
    # must hold exactly the same words: none glued together, none split.
    assert out.replace("&#10;", "\n").split() == html.split()


@st.composite
def document_files(draw: st.DrawFn) -> tuple[bytes, dict[str, object]]:
    """The bytes of a document in any framing the reader accepts, and its fields."""
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    lines: list[str] = []
    if draw(st.booleans()):
        front = draw(st.lists(st.text(LINE_TEXT).filter(lambda s: s.strip() != "---")))
        lines += ["---", *front, "---"]

    ts = draw(st.one_of(st.none(), st.integers(-(2**41), 2**41)))
    ts_text = "NaN" if ts is None else str(ts)
    lines.append(draw(st.sampled_from(["<!--{}-->", "<!-- {} -->"])).format(ts_text))

    title = draw(st.text(LINE_TEXT))
    url = draw(st.text(LINE_TEXT).filter(lambda s: "](" not in s))
    lines.append(f"[{title}]({url})")
    lines.append(draw(st.sampled_from(["------", "---", "------ "])))

    date = None
    if draw(st.booleans()):
        offset = timedelta(minutes=draw(st.integers(-14 * 60, 14 * 60)))
        date = draw(st.datetimes(datetime(1971, 1, 1), datetime(2100, 1, 1))).replace(
            microsecond=0, tzinfo=timezone(offset)
        )
        colon = draw(st.sampled_from(["：", ":"]))
        lines.append(f"日期{colon}{format_datetime(date)}")

    body = ["<p>" + draw(st.text(LINE_TEXT)), *draw(st.lists(st.text(LINE_TEXT), max_size=5))]
    if draw(st.booleans()):
        lines.append("")
    text = eol.join(lines + body) + eol

    bom = draw(st.booleans())
    data = (BOM if bom else b"") + text.encode("utf-8")
    fields: dict[str, object] = {
        "ts": ts, "title": title, "url": url, "html": eol.join(body),
        "tail": eol, "bom": bom, "date": date,
    }  # fmt: skip
    return data, fields


@settings(max_examples=200, deadline=None)
@given(document_files())
def test_every_accepted_framing_round_trips_byte_exact(
    case: tuple[bytes, dict[str, object]],
) -> None:
    data, fields = case

    doc = assert_round_trip(data)

    assert {name: getattr(doc, name) for name in fields} == fields


@st.composite
def damaged_document_files(draw: st.DrawFn) -> bytes:
    """A valid document cut short and/or with random bytes spliced in."""
    data, _ = draw(document_files())
    start = draw(st.integers(0, len(data)))
    end = draw(st.integers(start, len(data)))
    return data[:start] + draw(st.binary(max_size=8)) + data[end:]


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(), damaged_document_files()))
def test_any_bytes_give_a_document_or_a_document_error(data: bytes) -> None:
    try:
        doc = parse_document(data)
    except DocumentError as exc:
        assert exc.reason
    else:
        assert isinstance(doc, Document)
        assert render_document(doc) == data


# --------------------------------------------------------------------------- file names


def test_file_name_of_the_seed() -> None:
    assert document_file_name(FIRST_FILE_ID, SEED_TITLE) == f"1048575_{SEED_TITLE}.md"


def test_slash_in_title_becomes_double_dash_before_cleaning() -> None:
    assert document_file_name(7, "巴以/加沙") == "7_巴以--加沙.md"
    assert document_file_name(7, "a/:b") == "7_a--b.md"
    assert document_file_name(7, "../../etc/passwd") == "7_--..--etc--passwd.md"


def test_long_cjk_title_is_cut_on_a_character_boundary() -> None:
    title = "巴" * 300

    name = document_file_name(FIRST_FILE_ID, title)

    assert_safe_name(name)
    assert name.startswith("1048575_巴")
    assert name.endswith(".md")
    stem = name.removeprefix("1048575_").removesuffix(".md")
    assert title.startswith(stem)
    assert len(name.encode()) > MAX_FILE_NAME_BYTES - 3  # cut no shorter than needed


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("..", ""),
        (".", ""),
        (" ..hidden.. ", "hidden"),
        ('a/b\\c:d*e?f"g<h>i|j', "abcdefghij"),
        ("a\x00b\x1fc\x7fd\x85e\x9ff", "abcdef"),
        ("法广 RFI", "法广 RFI"),
    ],
)
def test_safe_path_component(name: str, safe: str) -> None:
    assert safe_path_component(name) == safe


@pytest.mark.parametrize("title", ["..", ".", "a\x00b\tc\x1b[31m", "/", "\x7f\x85", "a" * 400])
def test_file_names_of_awkward_titles_are_safe(title: str) -> None:
    name = document_file_name(3, title)

    assert_safe_name(name)
    assert parse_file_id(name) == 3


def test_file_name_of_title_with_lone_surrogate_is_valid_utf8() -> None:
    # Lone surrogates reach titles through JSON feeds ("\\ud800" is valid JSON);
    # a file name holding one cannot be created.
    name = document_file_name(3, "标题\ud800")

    name.encode("utf-8")
    assert_safe_name(name)


@settings(max_examples=200, deadline=None)
@given(name=st.text(TEXT), max_bytes=st.integers(4, 300))
def test_safe_path_component_properties(name: str, max_bytes: int) -> None:
    safe = safe_path_component(name, max_bytes=max_bytes)

    assert_safe_name(safe)
    assert len(safe.encode("utf-8")) <= max_bytes
    assert safe == safe.strip(" .")
    assert safe_path_component(safe, max_bytes=max_bytes) == safe


@settings(max_examples=200, deadline=None)
@given(file_id=st.integers(0, FIRST_FILE_ID), title=st.text(TEXT))
def test_document_file_name_properties(file_id: int, title: str) -> None:
    name = document_file_name(file_id, title)

    assert_safe_name(name)
    assert name.startswith(f"{file_id}_")
    assert name.endswith(".md")
    assert parse_file_id(name) == file_id


@pytest.mark.parametrize(
    ("file_name", "file_id"),
    [
        ("1048575_x.md", 1048575),
        (f"1048575_{SEED_TITLE}.md", 1048575),
        ("0_.md", 0),
        ("x_1048575.md", None),
        ("1048575.md", None),
        ("README.md", None),
    ],
)
def test_parse_file_id(file_name: str, file_id: int | None) -> None:
    assert parse_file_id(file_name) == file_id
