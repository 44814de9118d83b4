"""Clean, readable articles: boilerplate rules, sanitising, plain text. Pure; never raises.

From a revision's HTML exactly as received, :class:`Cleaner` derives:

* **clean HTML** for people: boilerplate removed (share widgets, self-promotion
  blocks, the feedx ``获取更多RSS`` footer, "The post … appeared first on …",
  tracking pixels, tracking parameters in links, then the empty anchors and
  containers they leave), per-site rules applied (see :mod:`tidings.siterules`),
  lazy-loaded images promoted (``data-src`` → ``src``), links and images made
  absolute, and finally an allowlist sanitiser (nh3, the Rust ammonia library):
  no script, style, iframe, object, embed or form, no event handlers, no
  ``style`` attribute, only http(s)/mailto links (``data:`` only for images),
  and ``rel="noopener noreferrer nofollow"`` on every link;
* **plain text** for search and snippets: block elements become paragraph
  breaks, inline elements keep the spacing the source has (never gluing words),
  whitespace is normalised, image alt text and captions are kept.

Anything the parser cannot make sense of gives empty results, never an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import nh3
from lxml import etree

from .siterules import SiteRules, load_site_rules, rules_for

__all__ = ["Cleaned", "Cleaner", "html_text", "inner_html", "strip_controls"]

ALLOWED_TAGS = {
    "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite", "code", "col",
    "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
    "picture", "pre", "q", "rp", "rt", "ruby", "s", "samp", "small", "source", "span", "strong",
    "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u",
    "ul", "var", "wbr", "audio", "video", "track", "section", "article", "aside", "header",
    "footer", "main", "address",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"lang", "dir", "title"},
    "a": {"href", "hreflang"},
    "img": {"src", "srcset", "sizes", "alt", "width", "height"},
    "source": {"src", "srcset", "sizes", "type", "media"},
    "audio": {"src", "controls"},
    "video": {"src", "poster", "controls", "width", "height"},
    "track": {"src", "kind", "srclang", "label"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "headers", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "reversed", "type"},
    "li": {"value"},
    "time": {"datetime"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
}
URL_SCHEMES = {"http", "https", "mailto", "data"}
DROP_WITH_CONTENT = {"script", "style", "noscript", "template", "iframe", "object", "embed", "title",
                     "form", "button", "input", "select", "textarea", "svg", "math", "canvas",
                     "frame", "frameset", "applet", "link", "meta", "base", "dialog"}  # fmt: skip
BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "caption", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
    "main", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "ul", "body", "html",
}  # fmt: skip
_KEEP_EMPTY = {"img", "br", "hr", "video", "audio", "source", "picture", "td", "th", "col", "wbr", "track"}

_SHARE_LINK = re.compile(
    r"(facebook\.com/(sharer|share\.php|dialog/(share|feed|send))|(twitter|x)\.com/(intent|share)"
    r"|^whatsapp:|wa\.me/|api\.whatsapp\.com/send|t\.me/share|telegram\.me/share"
    r"|linkedin\.com/(shareArticle|sharing)|service\.weibo\.com/share|weibo\.com/share"
    r"|reddit\.com/submit|pinterest\.com/pin/create|line\.me/R/msg|social-plugins\.line\.me"
    r"|del\.icio\.us/post|getpocket\.com/(save|edit)|plus\.google\.com/share"
    r"|mailto:\?(subject|body)=)",
    re.IGNORECASE,
)
# Something every share link holds (each alternative above has one of these in it, in any
# case): an ASCII href without any of them is not one, which is quicker to see than a
# search. (Other hrefs, where case-insensitive matching is Unicode's, are searched.)
_SHARE_HINTS = (
    "facebook.com/", "x.com/", "twitter.com/", "whatsapp", "wa.me/", ".me/share", "linkedin.com/",
    "weibo.com/share", "reddit.com/submit", "pinterest.com/pin/create", "line.me", "del.icio.us/post",
    "getpocket.com/", "plus.google.com/share", "mailto:?",
)  # fmt: skip


def _is_share_link(href: str) -> bool:
    if href.isascii():
        lowered = href.lower()
        for hint in _SHARE_HINTS:
            if hint in lowered:
                break
        else:
            return False
    return _SHARE_LINK.search(href) is not None


_TRACKER_HOSTS = re.compile(
    r"(^|\.)(feeds\.feedburner\.com|feedproxy\.google\.com|pixel\.wp\.com|stats\.wordpress\.com"
    r"|google-analytics\.com|doubleclick\.net|feedsportal\.com|pixel\.quantserve\.com"
    r"|sb\.scorecardresearch\.com|b\.scorecardresearch\.com|counter\.theconversation\.edu\.au"
    r"|ad\.doubleclick\.net|analytics\.twitter\.com|facebook\.com/tr|bat\.bing\.com)$",
    re.IGNORECASE,
)
_TRACKING_PARAM = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|igshid|spm|ncid|ocid|cmpid)$", re.I
)
_APPEARED_FIRST = re.compile(r"^\s*(the post|this post|this entry) .{0,400} (appeared|was published) first on .{0,200}$", re.I | re.S)
_FEEDX_FOOTER = "获取更多RSS"
_LAZY_SRC = ("data-src", "data-original", "data-lazy-src", "data-lazyload", "data-url", "data-actualsrc")
_LAZY_SRCSET = ("data-srcset", "data-lazy-srcset", "data-original-set")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TREE_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EMBED = re.compile(r"</?embed\b[^>]*>", re.IGNORECASE)

# Everything dropped whole is found by one pass over the document's elements in Python
# (cheaper than an XPath attribute test per element, or a class test per class name).
_DROP_CLASSES = frozenset(
    "share-bar sharebar social-share share-buttons sharing-buttons o-ads addthis_toolbox a2a_kit"
    " sharedaddy jp-relatedposts o-self-promo".split()
)


def _is_global_boilerplate(element: Any) -> bool:
    attributes = element.attrib
    if "data-root-share" in attributes or "data-o-ads-name" in attributes:
        return True
    classes = attributes.get("class")
    if classes and not _DROP_CLASSES.isdisjoint(classes.split()):
        return True
    return any(name.startswith("data-selfpromo") for name in attributes)


_LINKS = etree.XPath("//a[@href]")
# The boilerplate rules look at links, images and the elements whose own text mentions
# the feedx footer or "appeared first on". The texts are searched (by XPath, per text
# node) only when the document's text holds the phrase at all.
_FIRST_ON = "first on"
_TEXT_PARENTS = {
    (True, False): etree.XPath("//text()[contains(., '获取更多RSS')]/.."),
    (False, True): etree.XPath("//text()[contains(., 'first on')]/.."),
    (True, True): etree.XPath("//text()[contains(., '获取更多RSS') or contains(., 'first on')]/.."),
}
_NODES_WITH_URLS = etree.XPath("//*[@src or @srcset or @poster or @cite]")


@dataclass(frozen=True, slots=True)
class Cleaned:
    """The readable derivations of one revision."""

    html: str
    text: str


_ROOT_MARK = "data-tidings-root"


def _drop(element: Any, keep_space: bool = True) -> None:
    """Remove an element but keep its tail text in place, and a space where the
    element began or ended with whitespace, so the words on either side stay apart.
    The wrapper around the whole article is never removed."""
    parent = element.getparent()
    if parent is None or element.get(_ROOT_MARK) is not None:
        return
    tail = element.tail
    if keep_space:
        inner = element.text if len(element) == 0 else "".join(element.itertext())
        if inner and (inner[0].isspace() or inner[-1].isspace()):
            tail = " " + (tail or "")
    if tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def _strip_tracking(url: str) -> str:
    if "?" not in url:
        return url
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not _TRACKING_PARAM.match(k)]
    if len(kept) == len(pairs):
        return url
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), parts.fragment))


def _absolute(base: str | None, url: str) -> str:
    url = url.strip()
    if not base or url.startswith(("http://", "https://", "mailto:", "data:", "#")):
        return url
    try:
        return urljoin(base, url)
    except ValueError:
        return url


def _scheme(url: str) -> str:
    """The scheme a browser would see (whitespace and controls inside it ignored)."""
    if url.startswith(("https://", "http://", "/", "#", "?")):
        return "http" if url[0] == "h" else ""
    head = _CONTROL.sub("", "".join(url[:40].split())).lower()
    return head.split(":", 1)[0] if ":" in head else ""


def _is_tracking_pixel(image: Any) -> bool:
    width, height = image.get("width", "").strip(), image.get("height", "").strip()
    if width in ("0", "1", "1px") and height in ("0", "1", "1px"):
        return True
    src = image.get("src", "")
    if not src.startswith(("http://", "https://", "//")):
        return False
    host = urlsplit(src if not src.startswith("//") else "https:" + src).hostname or ""
    return bool(_TRACKER_HOSTS.search(host))


def _srcset(base: str | None, value: str, allow_data: bool) -> str:
    """A srcset with its URLs made absolute and unsafe ones left out.

    Each candidate is a URL (which may contain commas) ending at whitespace, then
    an optional descriptor ending at a comma.
    """
    candidates = []
    position, length = 0, len(value)
    while position < length:
        while position < length and (value[position].isspace() or value[position] == ","):
            position += 1
        start = position
        while position < length and not value[position].isspace():
            position += 1
        url = value[start:position]
        descriptor = ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            end = value.find(",", position)
            end = length if end < 0 else end
            descriptor = value[position:end].strip()
            position = end
        if not url:
            continue
        scheme = _scheme(url)
        if scheme == "data" and not (allow_data and url.lower().startswith("data:image/")):
            continue
        if scheme and scheme not in ("http", "https", "data"):
            continue
        candidates.append(f"{_absolute(base, url)} {descriptor}".strip())
    return ", ".join(candidates)


def _element_text(element: Any) -> str:
    return "".join(element.itertext())


_PARAGRAPH = "\ue000"  # private-use markers the tree gets at block boundaries and line breaks
_LINE = "\ue001"


def html_text(root: Any) -> str:
    """Plain text of a parsed tree: paragraphs separated by blank lines, words never glued.

    Reads the tree once, in document order, marking block boundaries and line breaks
    between the texts (the tree is left as it is), then collapses whitespace within lines.
    """
    parts: list[str] = []
    add = parts.append
    for event, node in etree.iterwalk(root, events=("start", "end")):
        tag = node.tag
        if event == "start":
            if tag in BLOCK_TAGS:
                add(_PARAGRAPH)
            if node.text and isinstance(tag, str):
                add(node.text)
            continue
        if tag in BLOCK_TAGS:
            add(_PARAGRAPH)
        elif tag == "br":
            add(_LINE)
        elif tag == "img":
            alt = (node.get("alt") or "").strip()
            if alt:
                add(f" {alt} ")
        if node.tail and node is not root:
            add(node.tail)
    return _paragraphs("".join(parts))


def _paragraphs(marked: str) -> str:
    """Text with paragraph and line markers as paragraphs (blank line between) and lines,
    whitespace collapsed within each, empty ones left out.

    Whitespace is collapsed over the whole text at once; the spaces left next to a marker
    are the ends of its lines, dropped; then runs of markers are the breaks."""
    text = " ".join(marked.split())
    text = text.replace(" " + _PARAGRAPH, _PARAGRAPH).replace(_PARAGRAPH + " ", _PARAGRAPH)
    if _LINE not in text:
        return "\n\n".join(filter(None, text.split(_PARAGRAPH)))
    text = text.replace(" " + _LINE, _LINE).replace(_LINE + " ", _LINE)
    return "\n\n".join(
        filter(None, ["\n".join(filter(None, block.split(_LINE))) for block in text.split(_PARAGRAPH)])
    )


class Cleaner:
    """Derives clean HTML and text; one instance serves many articles."""

    def __init__(self, site_rules: Iterable[SiteRules] | None = None, *, rules_dir: Path | None = None) -> None:
        #: The folder of the user's site rules (None: the default); worker processes load it again.
        self.rules_dir = rules_dir
        self.site_rules = tuple(site_rules) if site_rules is not None else load_site_rules(rules_dir)
        # A plain libxml2 HTML parser: lxml.html's element classes cost more than they give here.
        self._parser = etree.HTMLParser(
            remove_comments=True, remove_pis=True, default_doctype=False, encoding="utf-8"
        )
        self._sanitiser = nh3.Cleaner(
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes=URL_SCHEMES,
            link_rel="noopener noreferrer nofollow",
            strip_comments=True,
            clean_content_tags=DROP_WITH_CONTENT - {"svg", "math"},
        )

    def clean(
        self, html: str | None, *, base_url: str | None = None, site_url: str | None = None
    ) -> Cleaned:
        """Clean HTML and plain text for one article; empty results for unusable input.

        ``base_url`` resolves relative links; ``site_url`` (the article's link;
        default ``base_url``) chooses the site rules.
        """
        if not html or not html.strip():
            return Cleaned("", "")
        try:
            root = self._tree(html)
            if root is None:
                return Cleaned("", "")
            self._remove_boilerplate(root, site_url or base_url)
            self._fix_urls(root, base_url)
            self._remove_empty(root)
            markup = _root_markup(root)
            return Cleaned(self._sanitiser.clean(markup).strip(), html_text(root))
        except (etree.LxmlError, ValueError, TypeError, RecursionError):
            return Cleaned("", "")

    def _tree(self, html: str) -> Any:
        # Control characters are never text, and lxml refuses them in text it is given
        # back; a form feed is whitespace in HTML.
        html = strip_controls(html)
        if "mbed" in html:
            html = _EMBED.sub("", html)  # libxml2 does not know <embed> has no end tag
        data = f"<html><body><div {_ROOT_MARK}>{html}</div></body></html>".encode("utf-8", "replace")
        document = etree.fromstring(data, self._parser)
        if document is None:
            return None
        body = document.find("body")
        if body is None or len(body) == 0:
            return None
        wrapper = body[0]
        # A whole page (an extracted article may be one) keeps only its body.
        for nested in wrapper.iter("html", "body", "head"):
            if nested.tag == "head":
                _drop(nested)
        return wrapper

    def _remove_boilerplate(self, root: Any, site_url: str | None) -> None:
        for element in list(root.iter(*DROP_WITH_CONTENT)):
            _drop(element)
        # Both passes cover the whole document, as "//" does (not only the wrapper: markup
        # can close it early), each found before anything of it is dropped.
        document = root.getroottree().getroot()
        for element in [e for e in document.iter(etree.Element) if e.attrib and _is_global_boilerplate(e)]:
            _drop(element)
        for element in self._scan(document, root):
            tag = element.tag
            if tag == "a":
                if _is_share_link(element.get("href", "")):
                    _drop(self._share_bar(element, root))
            elif tag == "img":
                if _is_tracking_pixel(element):
                    _drop(element)
            elif _FEEDX_FOOTER in (element.text or ""):
                self._drop_feedx_footer(element)
            else:
                block = element
                while block is not None and block.tag not in ("p", "div") and block is not root:
                    block = block.getparent()
                if block is not None and block is not root and len(block) <= 3:
                    if _APPEARED_FIRST.match(_element_text(block)):
                        _drop(block)
        rules = rules_for(self.site_rules, site_url)
        if rules is not None:
            rules.apply(root, _drop)

    @staticmethod
    def _scan(document: Any, root: Any) -> list[Any]:
        """The links (with an href), images and elements with a text node of their own
        that mentions the feedx footer or "first on", in document order."""
        text = etree.tostring(document, method="text", encoding="unicode")
        which = (_FEEDX_FOOTER in text, _FIRST_ON in text)
        mentions = set(_TEXT_PARENTS[which](root)) if any(which) else ()
        return [
            element
            for element in document.iter(etree.Element)
            if ((tag := element.tag) == "a" and element.get("href") is not None) or tag == "img" or element in mentions
        ]

    @staticmethod
    def _share_bar(link: Any, root: Any) -> Any:
        """The widest container around a share link that holds nothing but sharing
        (links and a short label such as "分享 :" or "Share this")."""
        bar = link
        parent = link.getparent()
        while parent is not None and parent is not root and parent.tag not in ("p", "li", "td", "blockquote"):
            label = "".join(
                t for t in parent.itertext() if t.strip()
            )
            own = "".join(
                "".join(a.itertext()) for a in parent.iter("a") if _is_share_link(a.get("href", ""))
            )
            if len(label) - len(own) > 20:
                break
            bar, parent = parent, parent.getparent()
        return bar

    @staticmethod
    def _drop_feedx_footer(element: Any) -> None:
        """The feedx footer and the <br><hr> that introduce it."""
        if _FEEDX_FOOTER not in _element_text(element)[:40]:
            return
        previous = element.getprevious()
        _drop(element)
        while previous is not None and previous.tag in ("hr", "br") and not (previous.tail or "").strip():
            before = previous.getprevious()
            _drop(previous)
            previous = before

    @staticmethod
    def _fix_urls(root: Any, base_url: str | None) -> None:
        for image in root.iter("img", "source"):
            for name in _LAZY_SRC:
                value = image.get(name)
                if value and value.strip() and not value.startswith("data:"):
                    current = image.get("src", "")
                    if not current or current.startswith("data:") or "placeholder" in current or "blank" in current:
                        image.set("src", value)
                    break
            for name in _LAZY_SRCSET:
                value = image.get(name)
                if value and not image.get("srcset"):
                    image.set("srcset", value)
                    break
        for link in _LINKS(root):
            href = link.get("href", "")
            scheme = _scheme(href)
            if scheme and scheme not in ("http", "https", "mailto"):
                del link.attrib["href"]  # javascript:, data:, vbscript: ... on a link
                continue
            link.set("href", _strip_tracking(_absolute(base_url, href)))
        for node in _NODES_WITH_URLS(root):
            for name in ("src", "poster", "cite"):
                value = node.get(name)
                if value is None:
                    continue
                scheme = _scheme(value)
                if scheme == "data" and not (node.tag == "img" and value.strip().lower().startswith("data:image/")):
                    del node.attrib[name]
                elif scheme and scheme not in ("http", "https", "data"):
                    del node.attrib[name]
                else:
                    node.set(name, _absolute(base_url, value))
            srcset = node.get("srcset")
            if srcset:
                cleaned = _srcset(base_url, srcset, allow_data=node.tag in ("img", "source"))
                if cleaned:
                    node.set("srcset", cleaned)
                else:
                    del node.attrib["srcset"]

    @staticmethod
    def _remove_empty(root: Any) -> None:
        """Drop anchors and containers that hold nothing any more (innermost first)."""
        for element in reversed(list(root.iter())):
            if element is root or not isinstance(element.tag, str) or element.tag in _KEEP_EMPTY:
                continue
            if len(element) == 0 and not (element.text or "").strip():
                _drop(element, keep_space=True)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def strip_controls(html: str) -> str:
    """HTML with control characters (never text; lxml refuses them) turned into spaces."""
    return _TREE_CONTROL.sub(" ", html)


_ROOT_OPEN = f"<div {_ROOT_MARK}>"


def _root_markup(root: Any) -> str:
    """:func:`inner_html` of the wrapper :meth:`Cleaner._tree` made, in one serialisation
    (the wrapper's own tags cut off); any other element, the general way."""
    whole = etree.tostring(root, encoding="unicode", method="html", with_tail=False)
    if whole.startswith(_ROOT_OPEN) and whole.endswith("</div>"):
        return whole[len(_ROOT_OPEN) : -len("</div>")]
    return inner_html(root)


def inner_html(element: Any) -> str:
    """The markup inside an element (its text and children, not its own tags)."""
    markup = "".join(
        etree.tostring(child, encoding="unicode", method="html", with_tail=True) for child in element
    )
    return _escape(element.text) + markup if element.text else markup
