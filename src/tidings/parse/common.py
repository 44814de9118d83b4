"""What the feed format adapters share: element keys, text helpers, URL resolution.

An element's *key* is its local name prefixed by the short name of its
namespace (``content:encoded``, ``dc:date``, ``atom:link``, ``media:content``);
RSS's own elements, in no namespace or in one of RSS's namespaces, have a
bare, lower-case key (``pubdate``). Keys are cached per tag string, so an
adapter compares short strings instead of parsing Clark notation per element.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from lxml import etree

__all__ = [
    "ARCHIVE_RELATIONS",
    "Context",
    "NAMESPACES",
    "element_key",
    "has_cjk",
    "html_to_text",
    "inner_markup",
    "link_relation",
    "normalise_language",
    "resolve_url",
    "text_to_html",
]

ATOM10 = "http://www.w3.org/2005/Atom"
ATOM03 = "http://purl.org/atom/ns#"
RSS090 = "http://my.netscape.com/rdf/simple/0.9/"
RSS10 = "http://purl.org/rss/1.0/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XHTML = "http://www.w3.org/1999/xhtml"
XML = "http://www.w3.org/XML/1998/namespace"

NAMESPACES = {
    "": "",
    RSS090: "",
    RSS10: "",
    "http://backend.userland.com/rss2": "",
    "http://backend.userland.com/rss": "",
    "http://blogs.law.harvard.edu/tech/rss": "",
    ATOM10: "atom",
    ATOM03: "atom",
    RDF: "rdf",
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://purl.org/dc/terms/": "dcterms",
    "http://search.yahoo.com/mrss/": "media",
    "http://search.yahoo.com/mrss": "media",
    "http://www.itunes.com/dtds/podcast-1.0.dtd": "itunes",
    "http://www.itunes.com/dtds/podcast-1.0.dtd/": "itunes",
    "http://rssnamespace.org/feedburner/ext/1.0": "feedburner",
    XHTML: "xhtml",
    "http://purl.org/rss/1.0/modules/slash/": "slash",
    "http://wellformedweb.org/CommentAPI/": "wfw",
    "http://purl.org/syndication/history/1.0": "fh",
}

KEY_CACHE: dict[str, str] = {}
KEY_CACHE_LIMIT = 20_000  # hostile feeds can invent any number of tags
_XML_LANG = f"{{{XML}}}lang"
_XML_BASE = f"{{{XML}}}base"
_TAG = re.compile(r"<[^>]*>")
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_XHTML_NS_DECL = re.compile(r'\s+xmlns(?::\w+)?="http://www\.w3\.org/1999/xhtml"')
_XHTML_PREFIX = re.compile(r"<(/?)(?:html|xhtml|h):")


def element_key(tag: str) -> str:
    """The key of an element tag (see the module docstring)."""
    key = KEY_CACHE.get(tag)
    if key is None:
        if tag[:1] == "{":
            namespace, _, local = tag[1:].partition("}")
        else:
            namespace, local = "", tag
        prefix = NAMESPACES.get(namespace)
        if prefix is None:
            prefix = NAMESPACES.get(namespace.lower())
        if prefix is None and namespace.startswith("http://backend.userland.com/rss"):
            prefix = ""
        if prefix is None:
            key = tag  # an unknown namespace keeps its Clark notation
        elif prefix:
            key = f"{prefix}:{local.lower()}"
        else:
            key = local.lower()
        if len(KEY_CACHE) >= KEY_CACHE_LIMIT:
            KEY_CACHE.clear()
        KEY_CACHE[tag] = key
    return key


@dataclass(slots=True)
class Context:
    """What an adapter knows about the feed while it reads entries."""

    url: str | None
    version: str
    language: str | None = None
    chinese: bool = False
    uses_xml_base: bool = False
    problems: list[str] = field(default_factory=list)
    #: The namespace of an Atom-like feed in a namespace tidings does not know.
    foreign_namespace: str | None = None
    #: The namespace an ``<rss>`` root put RSS's own elements in (one tidings does not know).
    rss_namespace: str | None = None
    #: Whether long content may hold C1 characters to map (the feed was not valid UTF-8).
    c1: bool = False

    def base_of(self, element: Any) -> str | None:
        """The URL relative links in an element resolve against."""
        if self.uses_xml_base:
            base = element.base
            if base:
                return str(base)
        return self.url

    def language_of(self, element: Any) -> str | None:
        """The language of an element: its xml:lang (empty means none), else the feed's."""
        value = element.get(_XML_LANG)
        if value is None:
            return self.language
        return normalise_language(value)

    def entry_language(self, entry: Any, content_language: str | None) -> str | None:
        """An entry's xml:lang, else its content element's, else the feed's."""
        if entry.get(_XML_LANG) is None and content_language is not None:
            return normalise_language(content_language)
        return self.language_of(entry)


def normalise_language(value: str | None) -> str | None:
    """A language tag in its usual form (``en_US`` becomes ``en-US``); None when empty."""
    if not value:
        return None
    value = value.strip().replace("_", "-")
    return value or None


def has_cjk(text: str | None) -> bool:
    """Whether the text contains Chinese (CJK ideograph) characters."""
    return bool(text) and _CJK.search(text) is not None  # type: ignore[arg-type]


def html_to_text(value: str) -> str:
    """Plain text of a title-like HTML fragment: tags dropped, entities decoded, ends trimmed."""
    if "<" in value:
        value = _TAG.sub("", value)
    if "&" in value:
        # Only complete references: "AT&T" and "Q&A" stay as they are.
        value = _REFERENCE.sub(lambda m: html.unescape(m.group(0)), value)
    return value.strip()


def text_to_html(value: str) -> str:
    """HTML that displays the plain text as it is."""
    return html.escape(value, quote=False)


# C1 control characters never appear in real text: feeds that have them meant windows-1252
# (usually through references like &#146;), as browsers assume too.
_C1 = re.compile("[\x80-\x9f]")
_C1_TABLE = {
    code: bytes([code]).decode("windows-1252", "ignore") or chr(code) for code in range(0x80, 0xA0)
}


def demoronise(text: str) -> str:
    """Replace C1 control characters by the windows-1252 characters they stand for."""
    return text.translate(_C1_TABLE) if _C1.search(text) else text


def inner_markup(element: Any, c1: bool = True) -> str:
    """The content of an element: its text, or its children serialised as markup.

    ``c1`` applies :func:`demoronise`; callers skip it on long content of
    feeds that arrived as valid UTF-8, where scanning costs more than it finds.
    """
    if len(element) == 0:
        text = element.text or ""
        return demoronise(text) if c1 else text
    parts = [html.escape(element.text, quote=False) if element.text else ""]
    for child in element:
        if isinstance(child.tag, str):
            parts.append(etree.tostring(child, encoding="unicode", with_tail=True))
        elif child.tail:
            parts.append(html.escape(child.tail, quote=False))
    markup = "".join(parts)
    if c1:
        markup = demoronise(markup)
    if "xhtml" in markup:
        markup = _XHTML_NS_DECL.sub("", markup)
        markup = _XHTML_PREFIX.sub(r"<\1", markup)
    return markup


def resolve_url(base: str | None, url: str | None) -> str | None:
    """An absolute URL for a link, resolved against the base when relative."""
    if not url:
        return None
    url = url.strip()
    if not url:
        return None
    if base and "://" not in url[:16] and not url.startswith(("mailto:", "urn:", "tag:", "data:")):
        try:
            return urljoin(base, url)
        except ValueError:
            return url
    return url


_IANA_RELATION = "http://www.iana.org/assignments/relation/"

#: Link relations that lead to a feed's history (RFC 5005), by the ParsedFeed field they fill.
ARCHIVE_RELATIONS = {"prev-archive": "prev_archive", "next": "next_page"}


def link_relation(value: str | None) -> str:
    """A link's relation in its short form: ``alternate`` when absent, lower case, the
    IANA registry's URI form (``http://www.iana.org/assignments/relation/next``) shortened."""
    rel = (value or "").strip().lower() or "alternate"
    return rel[len(_IANA_RELATION):] if rel.startswith(_IANA_RELATION) else rel


def first_text(element: Any) -> str | None:
    """Stripped text of an element, None when empty."""
    text = element.text
    if text is None:
        if len(element):
            text = "".join(element.itertext())
        else:
            return None
    text = text.strip()
    return text or None


def int_or_none(value: str | None) -> int | None:
    try:
        return int(value.strip()) if value else None
    except ValueError:
        return None


Adapter = Callable[[Any, Context], Any]
