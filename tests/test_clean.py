"""Cleaning (:mod:`tidings.clean`): boilerplate, site rules, URLs, plain text, and
the sanitiser's promise that nothing active survives.

Every fixture is built here. The inertness checks re-parse the clean HTML with
``lxml.html`` and look at every element and attribute against an allowlist kept in
this file (not imported from the module, so that widening the module's list by
mistake makes these tests fail).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import lxml.html
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tidings.clean import Cleaned, Cleaner
from tidings.siterules import RULES_ENV, SiteRules, load_site_rules, parse_site_rules, rules_for

# --------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def _no_user_rules(tmp_path_factory, monkeypatch):
    """Only the shipped site rules, whatever the machine's config folder holds (tests
    that want a user folder set the variable again)."""
    monkeypatch.setenv(RULES_ENV, str(tmp_path_factory.mktemp("no-user-rules")))


BASE = "https://news.example/world/2024/story.html"


def clean(html: str, *, base_url: str | None = BASE, site_url: str | None = None, rules=()) -> Cleaned:
    """Clean with the given rules only (never the shipped ones unless asked)."""
    return Cleaner(site_rules=list(rules)).clean(html, base_url=base_url, site_url=site_url)


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


_C0 = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def tree(html: str):
    """The clean HTML re-parsed as a browser-ish parser would, under one wrapper.

    (lxml refuses C0 control characters in str input; removing them can only join
    what they separated, so it makes the checks below stricter, never looser.)
    """
    return lxml.html.fragment_fromstring(_C0.sub("", html), create_parent="div")


def texts_of(html: str) -> str:
    return tree(html).text_content() if html.strip() else ""


#: What may appear in clean HTML (the documented allowlist, plus the wrapper used to re-parse).
SAFE_TAGS = {
    "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite", "code", "col",
    "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
    "picture", "pre", "q", "rp", "rt", "ruby", "s", "samp", "small", "source", "span", "strong",
    "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u",
    "ul", "var", "wbr", "audio", "video", "track", "section", "article", "aside", "header",
    "footer", "main", "address", "html", "body",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "cite", "data", "background",
                  "xlink:href", "dynsrc", "lowsrc", "longdesc", "codebase", "manifest", "icon"}  # fmt: skip
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")


def scheme(value: str) -> str:
    """The scheme a browser would see: whitespace and control characters removed, lower case."""
    squeezed = _INVISIBLE.sub("", value).lower()
    head = squeezed.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return head.split(":", 1)[0] if ":" in head else ""


def inertness_problems(html: str) -> list[str]:
    """Everything in clean HTML that could run code or load a document; [] when inert."""
    problems: list[str] = []
    if not html.strip():
        return problems
    root = tree(html)
    for element in root.iter():
        if not isinstance(element.tag, str):
            problems.append(f"non-element node {element.tag!r}")
            continue
        tag = element.tag.lower()
        if tag not in SAFE_TAGS:
            problems.append(f"element <{tag}>")
        for name, value in element.attrib.items():
            name = name.lower()
            if name.startswith("on"):
                problems.append(f"<{tag} {name}>")
            if name in ("style", "srcdoc", "formaction", "action", "http-equiv"):
                problems.append(f"<{tag} {name}>")
            if name in URL_ATTRIBUTES:
                found = scheme(value)
                if found in ("javascript", "vbscript", "livescript", "mocha", "file"):
                    problems.append(f"<{tag} {name}={value!r}>")
                if found == "data" and not (
                    tag == "img" and name == "src" and _INVISIBLE.sub("", value).lower().startswith("data:image/")
                ):
                    problems.append(f"data URL in <{tag} {name}={value[:40]!r}>")
    return problems


def assert_inert(result: Cleaned) -> None:
    assert isinstance(result.html, str) and isinstance(result.text, str)
    assert inertness_problems(result.html) == [], result.html


# --------------------------------------------------------------------------- boilerplate

ARTICLE = [
    "法国总统马克龙周二在巴黎会见了来访的中国外长，双方讨论了贸易与气候合作。",
    "The two ministers agreed to meet again before the summer summit in Geneva.",
    "分析人士认为，此次会谈为双边关系的缓和释放了积极信号。",
    "Officials said a joint statement would be published on Thursday.",
]

RFI_SHARE_BAR = (
    "<div><div>分享 :</div><div>"
    '<a href="https://www.facebook.com/dialog/share?app_id=1&amp;href=https%3A%2F%2Fwww.rfi.fr%2Fcn%2Fx">Facebook</a>'
    '<a href="https://web.whatsapp.com/send?text=https%3A%2F%2Fwww.rfi.fr%2Fcn%2Fx"><span></span></a>'
    '<a href="https://x.com/intent/tweet?url=https%3A%2F%2Fwww.rfi.fr%2Fcn%2Fx&amp;text=t"></a>'
    "<span data-root-share><share-button></share-button></span>"
    "</div></div>"
)


def test_rfi_share_bar_disappears_with_its_label():
    html = f"<p>{ARTICLE[0]}</p>{RFI_SHARE_BAR}<p>{ARTICLE[1]}</p>"
    for site in ("https://www.rfi.fr/cn/x", "https://unrelated.example/x"):  # a global rule, not RFI's
        result = clean(html, base_url=site, site_url=site)
        assert paragraphs(result.text) == ARTICLE[:2]
        for gone in ("分享", "facebook", "whatsapp", "x.com", "share-button", "data-root-share"):
            assert gone not in result.html
        assert "<div></div>" not in result.html


def test_share_bar_with_shipped_rules_for_rfi():
    site = "https://www.rfi.fr/cn/中国/20240101-x"
    result = Cleaner().clean(f"<p>{ARTICLE[0]}</p>{RFI_SHARE_BAR}<p>{ARTICLE[1]}</p>", base_url=site, site_url=site)
    assert paragraphs(result.text) == ARTICLE[:2]
    assert "分享" not in result.text


def test_self_promotion_blocks_removed():
    html = (
        f"<p>{ARTICLE[0]}</p>"
        '<div data-selfpromo-newsletter="daily"><h3>Sign up to our newsletter</h3><p>Every morning in your inbox.</p></div>'
        f"<p>{ARTICLE[1]}</p>"
        "<aside data-selfpromo-app><p>Download our app for breaking news alerts</p></aside>"
        f"<p>{ARTICLE[2]}</p>"
    )
    result = clean(html)
    assert paragraphs(result.text) == ARTICLE[:3]
    assert "newsletter" not in result.html.lower() and "app" not in result.text


@pytest.mark.parametrize("mirrors", [("feedx.net", "feedx.top"), ("feedx.xyz", "feedx.site"), ("feedx.best", "feedx.blog")])
def test_feedx_footer_removed_with_the_rule_before_it(mirrors):
    first, second = mirrors
    footer = (
        f'<br><hr><div>获取更多RSS：<br><a href="https://{first}">https://{first}</a> <br>'
        f'<a href="https://{second}">https://{second}</a><br></div>'
    )
    result = clean(f"<p>{ARTICLE[0]}</p><p>{ARTICLE[1]}</p>{footer}")
    assert paragraphs(result.text) == ARTICLE[:2]
    assert "获取更多RSS" not in result.html
    assert "<hr" not in result.html and "<br" not in result.html
    assert "feedx" not in result.html


def test_feedx_footer_after_trailing_text_keeps_the_text():
    html = f"<p>{ARTICLE[0]}</p>最后一句话。<br><hr><div>获取更多RSS：<br><a href=\"https://feedx.net\">https://feedx.net</a><br></div>"
    result = clean(html)
    assert paragraphs(result.text) == [ARTICLE[0], "最后一句话。"]
    assert "<hr" not in result.html


def test_appeared_first_on_paragraph_removed():
    html = (
        f"<p>{ARTICLE[1]}</p><p>{ARTICLE[3]}</p>"
        '<p>The post <a href="https://blog.example/p/1">Budget talks resume</a> appeared first on '
        '<a href="https://blog.example">Example Blog</a>.</p>'
    )
    result = clean(html)
    assert paragraphs(result.text) == [ARTICLE[1], ARTICLE[3]]
    assert "appeared first" not in result.html


def test_first_on_in_ordinary_prose_is_kept():
    prose = "The firefighters were the first on the scene, and the post office reopened later."
    assert clean(f"<p>{prose}</p>").text == prose


def test_tracking_pixels_and_feedburner_images_removed():
    html = (
        f'<p>{ARTICLE[0]}<img src="https://stats.example/p.gif" width="1" height="1"></p>'
        f'<p>{ARTICLE[1]}<img src="https://feeds.feedburner.com/~r/Example/~4/AbCdEf" alt=""></p>'
        '<p><img src="https://images.example/photo.jpg" alt="A ferry at dawn" width="640" height="480"></p>'
    )
    result = clean(html)
    assert "stats.example" not in result.html and "feedburner" not in result.html
    assert 'src="https://images.example/photo.jpg"' in result.html
    assert paragraphs(result.text) == [ARTICLE[0], ARTICLE[1], "A ferry at dawn"]


def test_tracking_parameters_stripped_other_parameters_kept():
    html = (
        '<p><a href="https://shop.example/item?id=42&amp;utm_source=rss&amp;utm_medium=feed'
        '&amp;fbclid=IwAR0abc&amp;lang=zh#top">item</a> and '
        '<a href="https://shop.example/plain?utm_campaign=spring">plain</a></p>'
    )
    result = clean(html)
    hrefs = [a.get("href") for a in tree(result.html).iter("a")]
    assert hrefs[0].startswith("https://shop.example/item?")
    assert "id=42" in hrefs[0] and "lang=zh" in hrefs[0] and hrefs[0].endswith("#top")
    assert "utm_" not in hrefs[0] and "fbclid" not in hrefs[0]
    assert hrefs[1] == "https://shop.example/plain"


def test_empty_anchors_and_containers_removed_without_gluing_words():
    html = (
        "<p>a<span> </span>b</p>"
        '<p>left<a href="https://news.example/x"> </a>right</p>'
        "<p>up<b><i> </i></b>down</p>"
        "<div><span></span></div>"
        '<p>alpha<a href="https://news.example/y"></a> beta</p>'
    )
    result = clean(html)
    assert paragraphs(result.text) == ["a b", "left right", "up down", "alpha beta"]
    assert "<span></span>" not in result.html and "<div></div>" not in result.html
    assert not any(len(a) == 0 and not (a.text or "").strip() for a in tree(result.html).iter("a"))


def test_dropped_share_link_holding_a_space_does_not_glue_words():
    """An empty share link between two words goes away; the words must stay apart."""
    html = '<p>alpha<a href="https://twitter.com/intent/tweet?url=x"> </a>beta</p>'
    assert clean(html).text == "alpha beta"


def test_dropped_boilerplate_with_spaces_around_its_text_does_not_glue_words():
    rules = [parse_site_rules('domains = ["ads.example"]\ndrop = [".ad"]\n', "ads")]
    html = '<p>alpha<span class="ad"> ADVERT </span>beta</p>'
    result = clean(html, site_url="https://ads.example/x", rules=rules)
    assert "ADVERT" not in result.text
    assert result.text == "alpha beta"


def test_everything_at_once_keeps_every_article_paragraph():
    html = (
        f"<p>{ARTICLE[0]}</p>{RFI_SHARE_BAR}"
        f'<p>{ARTICLE[1]}<img src="https://feeds.feedburner.com/~r/x/~4/1" width="1" height="1"></p>'
        '<div data-selfpromo-newsletter=""><p>Newsletter!</p></div>'
        f'<p>{ARTICLE[2]} <a href="https://e.example/a?utm_source=x&amp;k=v">link</a></p>'
        '<p>The post <a href="https://e.example/p">P</a> appeared first on <a href="https://e.example">E</a>.</p>'
        f"<p>{ARTICLE[3]}</p>"
        '<br><hr><div>获取更多RSS：<br><a href="https://feedx.net">https://feedx.net</a> <br>'
        '<a href="https://feedx.top">https://feedx.top</a><br></div>'
    )
    result = clean(html)
    text = result.text
    for paragraph in ARTICLE:
        assert paragraph in text
    for gone in ("分享", "Newsletter", "appeared first", "获取更多RSS", "utm_source", "feedburner"):
        assert gone not in result.html
    assert paragraphs(text)[-1] == ARTICLE[3]


# --------------------------------------------------------------------------- site rules

RULES_TOML = """
name = "Test Outlet"
domains = ["outlet.example"]
drop = [".promo", "aside.related"]
drop_text = ["^Subscribe to our daily briefing", "^订阅我们的每日新闻"]
"""
RULED = (
    "<p>Keep this first paragraph.</p>"
    '<div class="promo"><p>Promotional block text</p></div>'
    '<aside class="related"><p>Related aside text</p></aside>'
    "<p>Subscribe to our daily briefing for more stories.</p>"
    "<p>订阅我们的每日新闻快讯</p>"
    "<p>Keep this last paragraph.</p>"
)
KEPT = ["Keep this first paragraph.", "Keep this last paragraph."]


@pytest.mark.parametrize(
    "site_url",
    ["https://outlet.example/a", "https://www.outlet.example/a", "https://cn.news.outlet.example/a", "https://OUTLET.example/a"],
)
def test_site_rules_apply_to_the_domain_and_its_subdomains(site_url):
    rules = [parse_site_rules(RULES_TOML, "test")]
    assert clean(RULED, site_url=site_url, rules=rules).text == "\n\n".join(KEPT)


@pytest.mark.parametrize(
    "site_url",
    ["https://notoutlet.example/a", "https://outlet.example.evil.test/a", "https://example/a", None, "not a url"],
)
def test_site_rules_do_not_apply_elsewhere(site_url):
    rules = [parse_site_rules(RULES_TOML, "test")]
    result = clean(RULED, base_url=None, site_url=site_url, rules=rules)
    for text in ("Promotional block text", "Related aside text", "Subscribe to our daily briefing", "订阅我们的每日新闻快讯", *KEPT):
        assert text in result.text


def test_site_url_chooses_rules_not_base_url():
    rules = [parse_site_rules(RULES_TOML, "test")]
    chosen = clean(RULED, base_url="https://cdn.other.example/", site_url="https://outlet.example/a", rules=rules)
    assert chosen.text == "\n\n".join(KEPT)
    other = clean(RULED, base_url="https://outlet.example/", site_url="https://other.example/a", rules=rules)
    assert "Promotional block text" in other.text
    # Without a site_url, the base URL chooses.
    assert clean(RULED, base_url="https://outlet.example/a", rules=rules).text == "\n\n".join(KEPT)


def test_most_specific_domain_wins():
    broad = parse_site_rules('domains = ["outlet.example"]\ndrop = [".a"]\n', "broad")
    narrow = parse_site_rules('domains = ["cn.outlet.example"]\ndrop = [".b"]\n', "narrow")
    html = '<p class="a">AAA</p><p class="b">BBB</p><p>CCC</p>'
    assert clean(html, site_url="https://cn.outlet.example/x", rules=[broad, narrow]).text == "AAA\n\nCCC"
    assert clean(html, site_url="https://www.outlet.example/x", rules=[narrow, broad]).text == "BBB\n\nCCC"
    assert rules_for([broad, narrow], "https://cn.outlet.example/") is narrow


def test_drop_text_drops_only_the_matching_paragraph_not_its_container():
    """drop_text is for "whole paragraphs": an article wrapped in one <div> must keep
    its other paragraphs when one of them is boilerplate."""
    rules = [parse_site_rules(RULES_TOML, "test")]
    html = (
        '<div class="entry"><p>订阅我们的每日新闻快讯</p>'
        "<p>正文第一段：市政府宣布新的公交线路将于下月开通。</p>"
        "<p>正文第二段：市民对此表示欢迎。</p></div>"
    )
    result = clean(html, site_url="https://outlet.example/a", rules=rules)
    assert "订阅" not in result.text
    assert paragraphs(result.text) == ["正文第一段：市政府宣布新的公交线路将于下月开通。", "正文第二段：市民对此表示欢迎。"]


def test_shipped_cdt_footer_rule_keeps_a_wrapped_post():
    """The shipped CDT rule (an unanchored pattern) against a post wrapped in a div."""
    site = "https://chinadigitaltimes.net/chinese/2024/01/post"
    html = (
        '<div class="entry-content"><p>第一段：这是中国数字时代的一篇文章，讨论网络审查。</p>'
        "<p>第二段：作者引用了多位网友的评论。</p>"
        "<p>© 小明 for 中国数字时代 | Permalink | No comment | Add to del.icio.us</p></div>"
    )
    result = Cleaner().clean(html, base_url=site, site_url=site)
    assert "Permalink" not in result.text
    assert paragraphs(result.text) == ["第一段：这是中国数字时代的一篇文章，讨论网络审查。", "第二段：作者引用了多位网友的评论。"]


def test_parse_site_rules_reports_what_is_wrong():
    rules = parse_site_rules(RULES_TOML, "test.toml")
    assert isinstance(rules, SiteRules)
    assert rules.name == "Test Outlet" and rules.domains == ("outlet.example",)
    assert rules.matches("www.outlet.example") and not rules.matches("xoutlet.example")
    for bad, words in [
        ("domains = [", "TOML"),
        ('name = "x"', "domains"),
        ('domains = ["x.example"]\ndrop = ["p[["]', "selector"),
        ('domains = ["x.example"]\nbody = "::::"', "selector"),
        ('domains = ["x.example"]\ndrop_text = ["(unclosed"]', "regular expression"),
    ]:
        with pytest.raises(ValueError, match=words):
            parse_site_rules(bad, "bad.toml")


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_user_rules_folder_is_loaded(tmp_path, monkeypatch):
    folder = tmp_path / "rules"
    folder.mkdir()
    _write(folder, "mine.toml", RULES_TOML)
    monkeypatch.setenv(RULES_ENV, str(folder))
    loaded = load_site_rules()
    names = {r.name for r in loaded}
    assert "Test Outlet" in names
    assert "RFI 法广" in names  # the shipped ones are still there
    # A Cleaner built without explicit rules loads them too.
    result = Cleaner().clean(RULED, base_url="https://outlet.example/a", site_url="https://outlet.example/a")
    assert result.text == "\n\n".join(KEPT)


def test_user_file_with_a_shipped_name_replaces_the_shipped_rules(tmp_path, monkeypatch):
    folder = tmp_path / "rules"
    folder.mkdir()
    _write(folder, "rfi.toml", 'name = "My RFI"\ndomains = ["rfi.fr"]\ndrop = [".mine"]\n')
    monkeypatch.setenv(RULES_ENV, str(folder))
    loaded = load_site_rules()
    assert [r.name for r in loaded if "rfi.fr" in r.domains] == ["My RFI"]
    site = "https://www.rfi.fr/cn/x"
    html = '<p class="mine">MINE</p><p class="m-em-share">SHIPPED-ONLY</p><p>订阅我们的每日新闻</p><p>正文</p>'
    result = Cleaner().clean(html, base_url=site, site_url=site)
    assert "MINE" not in result.text
    assert "SHIPPED-ONLY" in result.text  # the shipped drop selector no longer applies
    assert "订阅我们的每日新闻" in result.text  # nor the shipped drop_text


def test_broken_user_files_are_skipped_not_fatal(tmp_path, monkeypatch, caplog):
    folder = tmp_path / "rules"
    folder.mkdir()
    _write(folder, "a_broken.toml", "domains = [\n")
    _write(folder, "b_selector.toml", 'domains = ["bad.example"]\ndrop = ["div[[["]\n')
    _write(folder, "c_regex.toml", 'domains = ["bad2.example"]\ndrop_text = ["(("]\n')
    (folder / "d_binary.toml").write_bytes(b"\xff\xfe\x00garbage")
    _write(folder, "e_good.toml", RULES_TOML)
    _write(folder, "notes.txt", "not a rules file")
    monkeypatch.setenv(RULES_ENV, str(folder))
    with caplog.at_level(logging.WARNING):
        loaded = load_site_rules()
    names = {r.name for r in loaded}
    assert "Test Outlet" in names
    assert not any("bad.example" in r.domains or "bad2.example" in r.domains for r in loaded)
    assert len(loaded) == 10  # nine shipped, one good user file
    assert caplog.text.count("skipping site rules") + caplog.text.count("cannot read site rules") >= 4
    result = Cleaner().clean(RULED, site_url="https://outlet.example/a")
    assert result.text == "\n\n".join(KEPT)


def test_missing_user_folder_is_fine(tmp_path, monkeypatch):
    monkeypatch.setenv(RULES_ENV, str(tmp_path / "does-not-exist"))
    assert len(load_site_rules()) == 9


def test_every_shipped_rules_file_loads(monkeypatch, tmp_path):
    monkeypatch.setenv(RULES_ENV, str(tmp_path))
    loaded = load_site_rules()
    assert len(loaded) == 9
    for rules in loaded:
        assert rules.domains and rules.body is not None, rules.source


# --------------------------------------------------------------------------- URLs


def test_relative_links_and_images_made_absolute():
    html = (
        '<p><a href="../other.html">up</a> <a href="/root">root</a> <a href="//cdn.example/x">proto</a> '
        '<a href="?q=1">query</a> <a href="#frag">frag</a> <a href="mailto:desk@news.example">mail</a></p>'
        '<p><img src="img/a.jpg" alt="A"> <img src="/b.png" alt="B"></p>'
        '<video src="clip.mp4" poster="/poster.jpg" controls></video>'
    )
    root = tree(clean(html).html)
    hrefs = [a.get("href") for a in root.iter("a")]
    assert hrefs == [
        "https://news.example/world/other.html",
        "https://news.example/root",
        "https://cdn.example/x",
        "https://news.example/world/2024/story.html?q=1",
        "#frag",
        "mailto:desk@news.example",
    ]
    assert [i.get("src") for i in root.iter("img")] == [
        "https://news.example/world/2024/img/a.jpg",
        "https://news.example/b.png",
    ]
    video = next(root.iter("video"))
    assert video.get("src") == "https://news.example/world/2024/clip.mp4"
    assert video.get("poster") == "https://news.example/poster.jpg"


def test_lazy_images_promoted():
    html = (
        '<img data-src="/lazy1.jpg" alt="one">'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-original="/lazy2.jpg" alt="two">'
        '<img src="/static/placeholder.png" data-src="/lazy3.jpg" alt="three">'
        '<img src="/img/blank.gif" data-lazy-src="/lazy4.jpg" alt="four">'
        '<img src="/real.jpg" data-src="/other.jpg" alt="five">'
    )
    sources = [i.get("src") for i in tree(clean(html).html).iter("img")]
    assert sources == [
        "https://news.example/lazy1.jpg",
        "https://news.example/lazy2.jpg",
        "https://news.example/lazy3.jpg",
        "https://news.example/lazy4.jpg",
        "https://news.example/real.jpg",
    ]


def test_srcset_entries_made_absolute():
    html = (
        '<img src="c.jpg" srcset="a.jpg 1x, /b.jpg 2x" alt="x">'
        '<picture><source srcset="s1.webp 480w, https://cdn.example/s2.webp 960w" type="image/webp"><img src="p.jpg" alt="p"></picture>'
        '<img src="d.jpg" data-srcset="d1.jpg 1x, d2.jpg 2x" alt="y">'
    )
    root = tree(clean(html).html)
    images = list(root.iter("img"))
    assert images[0].get("srcset") == "https://news.example/world/2024/a.jpg 1x, https://news.example/b.jpg 2x"
    assert next(root.iter("source")).get("srcset") == (
        "https://news.example/world/2024/s1.webp 480w, https://cdn.example/s2.webp 960w"
    )
    assert images[2].get("srcset") == "https://news.example/world/2024/d1.jpg 1x, https://news.example/world/2024/d2.jpg 2x"


def test_srcset_urls_containing_commas_are_kept_whole():
    """Image CDNs put commas in paths (Cloudinary: ``w_300,c_fill``); a srcset candidate's
    URL ends at whitespace, not at a comma (HTML's srcset parsing rules)."""
    one = "https://res.cloudinary.com/demo/image/upload/w_300,c_fill/sample.jpg"
    two = "https://res.cloudinary.com/demo/image/upload/w_600,c_fill/sample.jpg"
    html = f'<img src="{one}" srcset="{one} 300w, {two} 600w" alt="sample">'
    image = next(tree(clean(html).html).iter("img"))
    assert image.get("src") == one
    assert image.get("srcset") == f"{one} 300w, {two} 600w"


def test_every_link_gets_rel_noopener_noreferrer_nofollow():
    html = (
        '<p><a href="https://a.example/">a</a> <a href="/b" rel="author">b</a> '
        '<a href="https://c.example/" rel="opener" target="_blank">c</a> <a href="mailto:x@y.example">d</a></p>'
    )
    links = list(tree(clean(html).html).iter("a"))
    assert len(links) == 4
    for link in links:
        assert set(link.get("rel", "").split()) == {"noopener", "noreferrer", "nofollow"}


def test_no_base_url_leaves_relative_links_relative():
    result = clean('<p><a href="/x">x</a><img src="y.jpg" alt="y"></p>', base_url=None)
    root = tree(result.html)
    assert next(root.iter("a")).get("href") == "/x"
    assert next(root.iter("img")).get("src") == "y.jpg"


# --------------------------------------------------------------------------- text


def test_blocks_become_paragraphs():
    html = (
        "<h1>Heading one</h1><p>Paragraph two</p><div>Division three</div>"
        "<ul><li>Item four</li><li>Item five</li></ul><blockquote>Quote six</blockquote>"
        '<figure><img src="/x.jpg" alt="Alt seven"><figcaption>Caption eight</figcaption></figure>'
        "<table><tr><th>Head nine</th><td>Cell ten</td></tr><tr><td>Cell eleven</td><td>Cell twelve</td></tr></table>"
        "<h6>Heading thirteen</h6>"
    )
    assert paragraphs(clean(html).text) == [
        "Heading one", "Paragraph two", "Division three", "Item four", "Item five", "Quote six",
        "Alt seven", "Caption eight", "Head nine", "Cell ten", "Cell eleven", "Cell twelve", "Heading thirteen",
    ]  # fmt: skip


def test_br_is_a_line_break():
    assert clean("<p>line one<br>line two<br/>line three</p><p>next</p>").text == "line one\nline two\nline three\n\nnext"


def test_inline_elements_never_glue_words():
    html = (
        "<p>word <b>bold</b> <i>italic</i>\n<em>em</em>\t<a href='https://x.example/'>link</a>&nbsp;"
        "<span>span</span> <code>code</code><strong> strong</strong> <sup>sup</sup></p>"
    )
    assert clean(html).text == "word bold italic em link span code strong sup"
    # No whitespace in the source: none invented either.
    assert clean("<p>un<b>believ</b>able</p>").text == "unbelievable"


def test_whitespace_runs_collapse():
    assert clean("<p>  lots   of\n\n  white\tspace\r\n here  </p>").text == "lots of white space here"
    assert clean("<p>a</p>\n\n\n   <p>b</p>").text == "a\n\nb"
    assert clean("<p>a<br><br><br>b</p>").text == "a\nb"


def test_alt_text_and_captions_kept():
    html = '<p>Before <img src="/m.jpg" alt="Map of the harbour"> after</p><figure><img src="/f.jpg"><figcaption>图：港口夜景</figcaption></figure>'
    text = clean(html).text
    assert "Map of the harbour" in text and "图：港口夜景" in text
    assert "Before Map of the harbour after" in text


def test_chinese_text_untouched():
    chinese = "七国外长会议一致主张加沙停火，多国呼吁重振巴以两国共存框架。喆、镕、堃、昇、珺（「引号」『书名』）——省略号……"
    result = clean(f"<p>{chinese}</p><p>朱镕基<b>强调</b>改革。</p>")
    assert paragraphs(result.text) == [chinese, "朱镕基强调改革。"]
    assert chinese in result.html


def test_plain_text_input_and_empty_input():
    assert clean("just text, no markup") == Cleaned("just text, no markup", "just text, no markup")
    for empty in ("", "   \n\t", None):
        assert clean(empty) == Cleaned("", "")


def test_html_and_text_agree_on_characters():
    html = "<div><h2>Title</h2><p>One <a href='/x'>two</a> three.</p><ul><li>four</li></ul></div>"
    result = clean(html)
    assert paragraphs(result.text) == ["Title", "One two three.", "four"]
    assert "".join(texts_of(result.html).split()) == "".join(result.text.split())


def test_whole_page_keeps_only_its_body():
    """Feeds sometimes carry a whole HTML document as an entry's content: its head
    (title included) is not part of the article."""
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Page title</title><style>p{}</style></head>"
        "<body><p>Body text.</p></body></html>"
    )
    result = clean(page)
    assert "Body text." in result.text
    assert "Page title" not in result.text
    assert "Page title" not in result.html


def test_whole_page_body_is_kept():
    page = "<html><body><p>First.</p><div>Second.</div></body></html>"
    assert paragraphs(clean(page).text) == ["First.", "Second."]


def test_a_stray_control_character_does_not_wipe_the_article():
    """Pasted text brings form feeds, vertical tabs, escapes and backspaces; the
    article's other characters must survive (the stray one may go or stay)."""
    wiped = []
    for control in ("\x0c", "\x0b", "\x08", "\x1b", "\x1f", "\x01", "\ufffe"):
        result = clean(f"<p>First paragraph{control} of the story.</p><p>Second paragraph.</p>")
        if "Second paragraph." not in result.text or "of the story." not in result.text or "Second" not in result.html:
            wiped.append(control)
    assert wiped == []


def test_form_feed_between_paragraphs_is_whitespace():
    result = clean("<p>one</p>\x0c<p>two</p>")
    assert paragraphs(result.text) == ["one", "two"]


def test_nul_character_does_not_wipe_the_article():
    result = clean("<p>x\x00y</p><p>z</p>")
    assert paragraphs(result.text)[-1] == "z"
    assert "\x00" not in result.html and "\x00" not in result.text


# --------------------------------------------------------------------------- security

XSS_VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT>alert(1)</SCRIPT>",
    '<ScRiPt src="https://evil.example/x.js"></ScRiPt>',
    '<script/xss src="https://evil.example/x.js"></script>',
    "<script\n>alert(1)</script\n>",
    "<<script>alert(1)//<</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<script>/*</script><img src=x onerror=alert(1)>*/</script>",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "<img src=x onerror=alert(1)>",
    "<img src=x oNeRrOr='alert(1)'>",
    '<IMG SRC="javascript:alert(1)">',
    '<img """><script>alert(1)</script>">',
    '<img src="jav&#x09;ascript:alert(1)">',
    '<img dynsrc="javascript:alert(1)" lowsrc="javascript:alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)">x</a>',
    '<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="jav&#x0A;ascript:alert(1)">x</a>',
    '<a href="jav\tascript:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="&#x20;&#x0D;javascript:alert(1)">x</a>',
    '<a href="\x01javascript:alert(1)">x</a>',
    '<a href="java\x00script:alert(1)">x</a>',
    '<a href="&#14;  javascript:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="https://ok.example/" onclick="alert(1)" onmouseover=alert(1)>ok</a>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text y="20">x</text></a></svg>',
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;img src=1 onerror=alert(1)&gt;">',
    '<math><a xlink:href="javascript:alert(1)">x</a></math>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>',
    '<embed src="javascript:alert(1)">',
    '<embed src="data:text/html,<script>alert(1)</script>">',
    '<form action="javascript:alert(1)"><input type=submit value=go></form>',
    '<form><button formaction="javascript:alert(1)">x</button></form>',
    '<button formaction="javascript:alert(1)">x</button>',
    "<input onfocus=alert(1) autofocus>",
    "<select onfocus=alert(1) autofocus><option>x</option></select>",
    "<textarea onfocus=alert(1) autofocus>x</textarea>",
    "<keygen autofocus onfocus=alert(1)>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<link rel="import" href="https://evil.example/x.html">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    '<div style="background:url(javascript:alert(1))">styled</div>',
    '<p style="width:expression(alert(1))">expr</p>',
    '<span style="behavior:url(x.htc)">b</span>',
    '<style>@import "javascript:alert(1)";</style>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+" alt="svg">',
    '<img src="data:image/svg+xml,<svg onload=alert(1)>" alt="svg2">',
    "<details open ontoggle=alert(1)><summary>s</summary>d</details>",
    "<video><source onerror=alert(1)></video>",
    "<video src=x onerror=alert(1)></video>",
    '<video poster="javascript:alert(1)"></video>',
    "<audio src=x onerror=alert(1)></audio>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<template><img src=x onerror=alert(1)></template>",
    '<template shadowrootmode="open"><script>alert(1)</script></template>',
    "<div><slot name=x onclick=alert(1)>slotted</slot></div>",
    '<div is="x-foo" onclick=alert(1)>custom</div>',
    "<!--<img src=x onerror=alert(1)>-->",
    "<!-- --!><img src=x onerror=alert(1)>",
    "<!--><img src=x onerror=alert(1)>-->",
    '<! foo="><script>alert(1)</script>">',
    '<?xml-stylesheet href="javascript:alert(1)"?>',
    "<![CDATA[<script>alert(1)</script>]]>",
    "<title><img src=x onerror=alert(1)></title>",
    "<xmp><img src=x onerror=alert(1)></xmp>",
    "<textarea><script>alert(1)</script></textarea>",
    "<body onload=alert(1)>body</body>",
    "<html><head><script>alert(1)</script></head><body>b</body></html>",
    '<table background="javascript:alert(1)"><tr><td>cell</td></tr></table>',
    "<isindex action=javascript:alert(1) type=image>",
    "<marquee onstart=alert(1)>m</marquee>",
    "<frameset onload=alert(1)>",
    '<applet code="x.class"></applet>',
    '<blockquote cite="javascript:alert(1)">q</blockquote>',
    '<div onmouseenter="alert(1)">hover</div>',
    "<a href=\"javascript\\x3aalert(1)\">x</a>",
    '<img src=`x`onerror=alert(1)>',
    "<img/src=x/onerror=alert(1)>",
    '<a href="data:image/svg+xml,<svg onload=alert(1)>">x</a>',
    '<video><track src="javascript:alert(1)"></video>',
]


@pytest.mark.parametrize(
    "active",
    [
        "<script>alert(1)</script>",
        "<p><img src=x onerror=alert(1)></p>",
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<a href=" JAVASCRIPT:alert(1)">x</a>',
        '<a href="data:text/html,x">x</a>',
        '<video src="data:text/html,x"></video>',
        '<p style="color:red">x</p>',
        '<iframe srcdoc="x"></iframe>',
        '<button formaction="https://x.example/">x</button>',
        "<svg><circle/></svg>",
        '<blockquote cite="vbscript:x">q</blockquote>',
    ],
)
def test_the_inertness_check_itself_catches_active_markup(active):
    assert inertness_problems(active) != []


def test_the_inertness_check_accepts_ordinary_markup():
    ordinary = (
        '<p>a <a href="https://x.example/?a=1" rel="noopener noreferrer nofollow" title="t">b</a></p>'
        '<img src="data:image/png;base64,AAAA" alt="x"><img src="https://x.example/i.jpg" srcset="https://x.example/i2.jpg 2x">'
        '<video src="https://x.example/v.mp4" poster="https://x.example/p.jpg" controls></video><a href="mailto:a@b.example">m</a>'
    )
    assert inertness_problems(ordinary) == []


def test_corpus_is_large():
    assert len(XSS_VECTORS) >= 40
    assert len(set(XSS_VECTORS)) == len(XSS_VECTORS)


@pytest.mark.parametrize("vector", XSS_VECTORS, ids=[f"v{i:02d}" for i in range(len(XSS_VECTORS))])
def test_xss_vector_is_inert(vector):
    cleaner = Cleaner(site_rules=[])
    for html in (vector, f"<p>before</p>{vector}<p>after</p>", f"<div><p>{vector}</p></div>"):
        result = cleaner.clean(html, base_url="https://news.example/a/", site_url="https://news.example/a/")
        assert_inert(result)
        lowered = result.html.lower()
        assert "<script" not in lowered, result.html
        assert "javascript:" not in lowered, result.html
        assert "vbscript:" not in lowered, result.html
        assert "srcdoc" not in lowered and "formaction" not in lowered


@pytest.mark.parametrize("vector", XSS_VECTORS, ids=[f"v{i:02d}" for i in range(len(XSS_VECTORS))])
def test_xss_vector_does_not_eat_the_paragraph_before_it(vector):
    result = Cleaner(site_rules=[]).clean(f"<p>before</p>{vector}", base_url="https://news.example/a/")
    assert paragraphs(result.text)[0] == "before"


def test_data_image_allowed_on_img_only():
    result = clean(
        '<img src="data:image/png;base64,iVBORw0KGgo=" alt="dot">'
        '<a href="data:image/png;base64,iVBORw0KGgo=">link</a>'
        '<video src="data:video/mp4;base64,AAAA"></video>'
    )
    root = tree(result.html)
    assert next(root.iter("img")).get("src") == "data:image/png;base64,iVBORw0KGgo="
    svg = clean('<p>x</p><img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+" alt="s">')
    assert 'src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"' in svg.html  # inert inside <img>
    assert next(root.iter("a")).get("href") is None
    assert all(not (v.get("src") or "").startswith("data:") for v in root.iter("video"))


def test_attribute_values_stay_attribute_values():
    result = clean('<a href="https://x.example/" title="t&quot; onmouseover=&quot;alert(1)">x</a>')
    assert_inert(result)
    link = next(tree(result.html).iter("a"))
    assert link.get("title") == 't" onmouseover="alert(1)'
    assert set(link.attrib) <= {"href", "title", "rel"}


def test_srcset_cannot_carry_script_urls():
    """Only http(s) (and data: images) may be loaded: srcset candidates are URLs too."""
    for html in (
        '<img src="a.jpg" srcset="javascript:alert(1) 1x">',
        '<picture><source srcset="javascript:alert(1)"><img src="a.jpg"></picture>',
        '<img src="a.jpg" data-srcset="vbscript:msgbox(1) 2x">',
        '<img src="a.jpg" srcset="data:text/html;base64,PHNjcmlwdD4= 2x">',
    ):
        result = clean(html)
        lowered = result.html.lower()
        assert "javascript:" not in lowered and "vbscript:" not in lowered and "data:text" not in lowered, result.html


def test_data_links_refused_when_content_starts_with_the_feedx_footer():
    """Found by fuzzing: text that starts like the feedx footer must not switch off
    the URL rules (data: links, relative links)."""
    html = '获取更多RSS：<br><a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">x</a> <a href="/rel">rel</a>'
    result = clean(html, base_url="https://news.example/a/")
    hrefs = [a.get("href") for a in tree(result.html).iter("a")]
    assert not any(h and h.lower().startswith("data:") for h in hrefs), result.html
    assert inertness_problems(result.html) == []


def test_shipped_cdt_rules_keep_url_rules_working():
    """Every CDT post ends with its WordPress footer, which the shipped drop_text rule
    matches; the links of the post must still be made absolute, stripped of tracking
    parameters and refused when they are data: URLs."""
    site = "https://chinadigitaltimes.net/chinese/2024/01/post"
    html = (
        '<p>第一段 <a href="/chinese/other">相关文章</a> <a href="https://x.example/?utm_source=rss&amp;id=1">来源</a> '
        '<img data-src="/lazy.jpg" alt="配图"> <a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">d</a></p>'
        "<p>© 小明 for 中国数字时代 | Permalink | No comment | Add to del.icio.us</p>"
    )
    result = Cleaner().clean(html, base_url=site, site_url=site)
    assert "Permalink" not in result.text
    root = tree(result.html)
    hrefs = [a.get("href") for a in root.iter("a")]
    assert "https://chinadigitaltimes.net/chinese/other" in hrefs
    assert "https://x.example/?id=1" in hrefs
    assert not any(h and h.startswith("data:") for h in hrefs)
    assert [i.get("src") for i in root.iter("img")] == ["https://chinadigitaltimes.net/lazy.jpg"]


def test_embed_without_end_tag_keeps_the_rest_of_the_article():
    """<embed> is a void element: an old Flash embed must not take the paragraphs after it along."""
    html = (
        "<p>Paragraph before the video.</p>"
        '<embed src="https://video.example/player.swf" width="400" height="300">'
        "<p>Paragraph after the video.</p><p>Last paragraph.</p>"
    )
    result = clean(html)
    assert "embed" not in result.html
    assert paragraphs(result.text) == ["Paragraph before the video.", "Paragraph after the video.", "Last paragraph."]


# --------------------------------------------------------------------------- fuzzing

_TAGS = [
    "p", "div", "span", "a", "img", "b", "i", "em", "table", "tr", "td", "th", "ul", "li", "br", "hr",
    "h1", "h2", "blockquote", "figure", "figcaption", "pre", "code", "video", "audio", "source", "picture",
    "details", "summary", "script", "style", "svg", "math", "mtext", "mglyph", "iframe", "object",
    "embed", "form", "button", "input", "textarea", "select", "option", "noscript", "template", "slot",
    "title", "xmp", "meta", "link", "base", "frameset", "frame", "body", "html", "head", "animate",
    "foreignObject", "desc", "noembed", "noframes", "listing", "image", "isindex",
]  # fmt: skip
_ATTRS = [
    "href", "src", "alt", "title", "class", "id", "style", "onerror", "onload", "onclick", "ONMOUSEOVER",
    "srcdoc", "action", "formaction", "data", "poster", "cite", "data-src", "data-original", "xlink:href",
    "width", "height", "rel", "target", "http-equiv", "content", "background", "lang", "dir", "data-root-share",
    "data-selfpromo-app", "is", "open", "ontoggle", "type", "name",
]  # fmt: skip
_URLS = [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "jav\tascript:alert(1)",
    "jav&#x09;ascript:alert(1)", "&#106;avascript:alert(1)", "&#x6A;avascript&#x3A;alert(1)", "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>", "data:text/html;base64,PHNjcmlwdD4=", "data:image/png;base64,AAAA",
    "data:image/svg+xml,<svg onload=alert(1)>", "\x00javascript:alert(1)", "java\x00script:x", "\x0bjavascript:x",
    "https://ok.example/a?utm_source=x&b=1", "/relative/path", "//proto.example/x", "#frag", "mailto:x@y.example",
    "https://feeds.feedburner.com/~r/x", "https://www.facebook.com/sharer.php?u=x", "x", "",
]  # fmt: skip
_TEXTS = [
    "hello", "world", " ", "\n", "\t", "七国外长会议", "喆镕", "分享 :", "获取更多RSS：", "The post X appeared first on Y.",
    "<", ">", "&", "&amp;", "&lt;script&gt;", "&#0;", "\x00", "\x01\x02\x1f", "\x7f", "\ufffd", "\u2028", "\ud7ff",
    "--", "<!--", "-->", "]]>", "<![CDATA[", "</", "<?", "'", '"', "`", "=", "\u3000", "🙂", "a" * 5000,
]  # fmt: skip
XSS_FRAGMENTS = st.sampled_from(XSS_VECTORS)


def _attribute_value():
    return st.one_of(
        st.sampled_from(_URLS),
        st.sampled_from(_TEXTS),
        st.text(max_size=20),
        st.builds(lambda n: "x" * n, st.integers(min_value=1000, max_value=100_000)),
    )


def _quote(value: str, how: int) -> str:
    if how == 0:
        return '"' + value.replace('"', "&quot;") + '"'
    if how == 1:
        return "'" + value + "'"
    if how == 2:
        return value.replace(" ", "")  # unquoted
    return '"' + value  # never closed


@st.composite
def _start_tag(draw):
    tag = draw(st.sampled_from(_TAGS))
    if draw(st.booleans()):
        tag = tag.upper() if draw(st.booleans()) else tag.capitalize()
    attributes = []
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(_ATTRS))
        if draw(st.integers(0, 5)) == 0:
            attributes.append(name)
        else:
            attributes.append(f"{name}={_quote(draw(_attribute_value()), draw(st.integers(0, 3)))}")
    separator = draw(st.sampled_from([" ", "\n", "/", "\t"]))
    closer = draw(st.sampled_from([">", "/>", " >", ""]))
    return "<" + tag + (separator + separator.join(attributes) if attributes else "") + closer, tag


def _fragments():
    leaf = st.one_of(
        st.sampled_from(_TEXTS),
        st.text(max_size=30),
        XSS_FRAGMENTS,
        st.sampled_from(["</p>", "</div>", "</a>", "</table>", "</svg>", "</math>", "</script>", "</noscript>", "</template>", "<br>", "<hr>", "<!-- c -->", "<!DOCTYPE html>"]),
    )

    def extend(children):
        @st.composite
        def element(draw):
            start, tag = draw(_start_tag())
            inner = "".join(draw(st.lists(children, max_size=4)))
            end = draw(st.sampled_from([f"</{tag}>", "", f"</{tag.upper()}>", "</p>", "</div>"]))
            return start + inner + end

        return st.one_of(element(), st.lists(children, max_size=4).map("".join))

    return st.recursive(leaf, extend, max_leaves=25)


FUZZ_CLEANER = Cleaner(site_rules=[parse_site_rules(RULES_TOML, "fuzz")])


def _fuzz_check(html: str) -> None:
    for base in ("https://outlet.example/a/b.html", None):
        result = FUZZ_CLEANER.clean(html, base_url=base, site_url="https://outlet.example/a/b.html")
        assert isinstance(result, Cleaned)
        assert isinstance(result.html, str) and isinstance(result.text, str)
        assert inertness_problems(result.html) == [], (html, result.html)
        assert "<script" not in result.html.lower()
        assert "\ue000" not in result.text and "\ue001" not in result.text  # internal markers never leak
        assert "\n\n\n" not in result.text
        assert result.text == result.text.strip()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_fragments())
def test_fuzz_generated_html_never_raises_and_stays_inert(html):
    _fuzz_check(html)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(XSS_FRAGMENTS, st.sampled_from(_TEXTS), st.text(max_size=10)), min_size=1, max_size=8))
@example(["获取更多RSS：", '<a href="data:text/html,<script>alert(1)</script>">x</a>'])  # found by this test
def test_fuzz_xss_fragments_spliced_together(parts):
    _fuzz_check("".join(parts))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_random_unicode(text):
    _fuzz_check(text)


_PRINTABLE = st.characters(
    blacklist_categories=("Cs", "Cc", "Co", "Cn"), blacklist_characters="<>&\ufffe\uffff"
) | st.sampled_from([" ", "\n", "\t", "\r"])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_PRINTABLE, min_size=1, max_size=200))
def test_fuzz_plain_text_keeps_its_words(text):
    """Text without markup or control characters comes out with the same words
    (only whitespace normalised)."""
    result = FUZZ_CLEANER.clean(text)
    assert result.text.split() == text.split()


# --------------------------------------------------------------------------- plain text: breaks and whitespace collapsed at once


def _paragraphs_reference(marked: str) -> str:
    paragraphs = []
    for block in marked.split("\ue000"):
        lines = [" ".join(line.split()) for line in block.split("\ue001")]
        text = "\n".join(line for line in lines if line)
        if text:
            paragraphs.append(text)
    return "\n\n".join(paragraphs)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab 中\n\t\r\x0b\x1c\x85\xa0\u2028\u3000\ue000\ue001")), max_size=40))
def test_paragraphs_and_lines_from_markers(marked):
    from tidings.clean import _paragraphs

    assert _paragraphs(marked) == _paragraphs_reference(marked)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_fragments())
def test_cleaned_text_is_the_text_of_the_cleaned_tree(html):
    """The cleaner reads the text off its tree in place: the same as the walk over that tree."""
    from lxml import etree

    from tidings.clean import html_text

    cleaner = FUZZ_CLEANER
    result = cleaner.clean(html, base_url="https://outlet.example/a/b.html")
    try:
        root = cleaner._tree(html) if html.strip() else None
    except (etree.LxmlError, ValueError, TypeError, RecursionError):
        return
    if root is None:
        assert result.text == ""
        return
    cleaner._remove_boilerplate(root, "https://outlet.example/a/b.html")
    cleaner._fix_urls(root, "https://outlet.example/a/b.html")
    cleaner._remove_empty(root)
    assert result.text == html_text(root)


_SHARE_PIECES = st.sampled_from(
    [
        "https://", "www.", "facebook.com/", "sharer", "FACEBOOK.COM/dialog/send", "twitter.com/", "x.com/", "intent", "share",
        "whatsapp:", "WhatsApp:", "wa.me/", "t.me/share", "telegram.me/", "linkedin.com/sharing", "weibo.com/share",
        "reddit.com/submit", "pinterest.com/pin/create", "line.me/R/msg", "social-plugins.line.me", "del.icio.us/post",
        "getpocket.com/edit", "plus.google.com/share", "mailto:?", "subject=", "news.example/", "?u=", "ſ", "K", "ı", "İ", "é",
    ]
)  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(st.lists(_SHARE_PIECES, max_size=5).map("".join))
def test_share_link_hints_never_miss_a_share_link(href):
    """The quick look for a share link's hint gives up only where the search would find nothing."""
    from tidings.clean import _SHARE_LINK, _is_share_link

    assert _is_share_link(href) == (_SHARE_LINK.search(href) is not None)


@pytest.mark.parametrize(
    ("reference", "kept"),
    [("&#11;", ""), ("&#12;", ""), ("&#x1c;", ""), ("&#1;", "\x01 "), ("&#xfffe;", "\ufffe "), ("&#xFFFF;", "\uffff ")],
)
def test_a_character_reference_to_a_control_keeps_the_article(reference, kept):
    """libxml2 decodes these into text that lxml will not take back: the text is read
    without writing into the tree (whitespace among them collapsed, the others kept, as
    ever), and the clean HTML is kept."""
    cleaned = Cleaner().clean(f"<p>Story text {reference} here.</p><p>Second paragraph.</p>")
    assert cleaned.text == f"Story text {kept}here.\n\nSecond paragraph."
    assert cleaned.html.startswith("<p>Story text ") and "Second paragraph." in cleaned.html
