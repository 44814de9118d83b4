"""Full text from article pages.

:func:`extract_article` decodes a page whatever its charset (BOM, HTTP
charset, ``<meta charset>``, with GB2312/GBK read as GB18030, Big5 as
Big5-HKSCS, and mislabelled pages corrected), then takes the article body:

1. the site's body selector (:mod:`tidings.siterules`), when it matches and
   holds real text;
2. otherwise trafilatura, without comments, favouring precision, and without
   images and links (which pull page furniture into the body): the settings
   measured best on the Zyte benchmark (``scripts/eval_extraction.py``).

It returns the body as HTML (to be stored as a revision and cleaned like any
other) and its plain text, or None when the page holds no article.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from lxml import etree

from .clean import html_text, inner_html, strip_controls
from .parse.encoding import decode_html
from .siterules import SiteRules, load_site_rules, rules_for

__all__ = ["Extracted", "extract_article", "is_short_summary"]

#: Below this many characters of text an entry's content counts as a summary.
SUMMARY_LIMIT = 500
#: A body selector must find at least this much text to be trusted.
MIN_BODY_TEXT = 200
#: Shorter than this, what the heuristic found is page furniture, not an article.
MIN_TEXT = 40

logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
logging.getLogger("htmldate").setLevel(logging.CRITICAL)


@dataclass(frozen=True, slots=True)
class Extracted:
    """The article found in a page."""

    html: str
    text: str
    title: str | None = None
    method: str = "trafilatura"


def is_short_summary(text: str | None) -> bool:
    """Whether the text of an entry that has no full content (only a summary) is short
    enough that the article page is worth fetching (``full_text = auto``)."""
    return not text or len(text) < SUMMARY_LIMIT


def _parse(html: str) -> Any:
    parser = etree.HTMLParser(remove_comments=True, encoding="utf-8")
    try:
        return etree.fromstring(strip_controls(html).encode("utf-8", "replace"), parser)
    except (etree.LxmlError, ValueError):
        return None


def _is_sign_in_page(html: str) -> bool:
    lowered = html[:200_000].lower()
    return 'type="password"' in lowered or "type='password'" in lowered or "type=password" in lowered


def _title(document: Any) -> str | None:
    if document is None:
        return None
    for path in ("//meta[@property='og:title']/@content", "//title/text()"):
        found = document.xpath(path)
        if found and str(found[0]).strip():
            return " ".join(str(found[0]).split())
    return None


def _by_selector(document: Any, rules: SiteRules) -> Extracted | None:
    if rules.body is None or document is None:
        return None
    found = rules.body(document)
    if not found:
        return None
    body = found[0]
    html = inner_html(body)
    text = html_text(body)
    if len(text) < MIN_BODY_TEXT:
        return None
    return Extracted(html, text, _title(document), "selector")


def extract_article(
    page: bytes | str,
    *,
    url: str | None = None,
    content_type: str | None = None,
    site_rules: tuple[SiteRules, ...] | None = None,
) -> Extracted | None:
    """The article body of a page (see the module docstring); None if there is none."""
    html = page if isinstance(page, str) else decode_html(page, content_type).text
    html = strip_controls(html)
    if not html.strip():
        return None
    rules = rules_for(site_rules if site_rules is not None else load_site_rules(), url)
    document = None
    if rules is not None and rules.body is not None:
        document = _parse(html)
        found = _by_selector(document, rules)
        if found is not None:
            return found
    import trafilatura  # (a large import, made when a page first needs it)

    try:
        body = trafilatura.extract(
            html,
            url=url,
            output_format="html",
            include_comments=False,
            favor_precision=True,
            include_tables=True,
        )
    except (ValueError, TypeError, etree.LxmlError, RecursionError):
        body = None
    if not body:
        return None
    root = _parse(body)
    if root is None:
        return None
    main = root.find(".//body")
    main = main if main is not None else root
    markup = inner_html(main)
    text = html_text(main)
    if len(text) < MIN_TEXT or (len(text) < MIN_BODY_TEXT and _is_sign_in_page(html)):
        return None
    return Extracted(markup, text, _title(document if document is not None else _parse(html)))
