"""Per-site cleaning rules, as data: one TOML file per outlet.

A rules file names the domains it applies to (a domain matches itself and
its subdomains), CSS selectors of elements to drop, regular expressions for
whole paragraphs to drop (boilerplate that has no class to select it by), and
optionally the CSS selector of the article body on the outlet's pages (used by
full-text extraction before any heuristic)::

    name = "Deutsche Welle"
    domains = ["dw.com"]
    drop = [".share", "aside"]
    drop_text = ["^德国之声致力于为您提供客观中立的新闻报道"]
    body = "div.longText"

tidings ships rules for the outlets it was built around (this folder). Users
add their own, or override a shipped file by giving theirs the same file name,
in the folder named by ``$TIDINGS_RULES`` (default: ``rules/`` in the user's
configuration folder). Files that cannot be read are skipped with a warning.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs
from lxml import etree
from lxml.cssselect import CSSSelector, SelectorError

__all__ = ["RULES_ENV", "SiteRules", "load_site_rules", "parse_site_rules", "rules_for", "user_rules_dir"]

RULES_ENV = "TIDINGS_RULES"
log = logging.getLogger(__name__)
_TEXT_TAGS = ("p", "div", "em", "small", "span", "section", "li")
_BLOCKS = {"p", "div", "section", "article", "li", "ul", "ol", "table", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "pre"}


@dataclass(frozen=True)
class SiteRules:
    """The compiled rules of one site."""

    name: str
    domains: tuple[str, ...]
    drop: etree.XPath | None = None  # the union of the drop selectors
    drop_text: tuple[re.Pattern[str], ...] = ()
    body: CSSSelector | None = None
    source: str = ""

    def matches(self, host: str) -> bool:
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def apply(self, root: Any, drop: Callable[[Any], None]) -> None:
        """Drop what the rules name from a parsed tree."""
        if self.drop is not None:
            for element in self.drop(root):
                drop(element)
        if self.drop_text:
            # Only innermost blocks: a container is never dropped for one of its paragraphs.
            for element in list(root.iter(*_TEXT_TAGS)):
                if any(child.tag in _BLOCKS for child in element.iterdescendants()):
                    continue
                text = "".join(element.itertext()).strip()
                if text and any(p.search(text) for p in self.drop_text):
                    drop(element)


def parse_site_rules(text: str, source: str) -> SiteRules:
    """Rules from the text of a TOML file; ValueError says what is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source}: not valid TOML: {exc}") from exc
    domains = tuple(str(d).lower().lstrip(".") for d in data.get("domains", []))
    if not domains:
        raise ValueError(f"{source}: no domains")
    try:
        paths = [CSSSelector(s).path for s in data.get("drop", [])]
        drop = etree.XPath(" | ".join(paths)) if paths else None
        body = CSSSelector(data["body"]) if data.get("body") else None
    except (SelectorError, etree.XPathSyntaxError) as exc:
        raise ValueError(f"{source}: bad CSS selector: {exc}") from exc
    try:
        drop_text = tuple(re.compile(p) for p in data.get("drop_text", []))
    except re.error as exc:
        raise ValueError(f"{source}: bad regular expression: {exc}") from exc
    return SiteRules(str(data.get("name", source)), domains, drop, drop_text, body, source)


def user_rules_dir() -> Path:
    """Where users keep their own rules files."""
    named = os.environ.get(RULES_ENV)
    if named:
        return Path(named)
    return Path(platformdirs.user_config_dir("tidings", appauthor=False)) / "rules"


def _files(folder: Path) -> Iterable[tuple[str, str, str]]:
    shipped = resources.files(__name__)
    for entry in sorted(shipped.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            yield entry.name, entry.read_text("utf-8"), f"tidings/siterules/{entry.name}"
    if folder.is_dir():
        for path in sorted(folder.glob("*.toml")):
            try:
                yield path.name, path.read_text("utf-8"), str(path)
            except (OSError, UnicodeDecodeError) as exc:
                log.warning("cannot read site rules %s: %s", path, exc)


def load_site_rules(folder: Path | None = None) -> tuple[SiteRules, ...]:
    """Shipped rules, then the user's in ``folder`` (default :func:`user_rules_dir`); a user
    file replaces a shipped one of the same name."""
    by_name: dict[str, SiteRules] = {}
    for name, text, source in _files(folder if folder is not None else user_rules_dir()):
        try:
            by_name[name] = parse_site_rules(text, source)
        except ValueError as exc:
            log.warning("skipping site rules: %s", exc)
    return tuple(by_name.values())


def rules_for(rules: Iterable[SiteRules], url: str | None) -> SiteRules | None:
    """The rules for the site of a URL, if any (the most specific domain wins)."""
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        return None
    best: SiteRules | None = None
    best_length = -1
    for candidate in rules:
        for domain in candidate.domains:
            if (host == domain or host.endswith("." + domain)) and len(domain) > best_length:
                best, best_length = candidate, len(domain)
    return best
