"""The page templates (Jinja, autoescaped) and the filters they use.

:class:`Pages` renders one template with the values every page needs: the words of
the chosen language, the links, the reader's time zone, whether content is Chinese
(China time beside UTC). The web app adds its session (sign-in, forms); a published
mirror has none.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape

from ..fetch.addresses import is_web_url
from .links import Links, site_path
from .texts import TEXTS, counted

__all__ = ["HERE", "ZONES", "Pages", "chinese_content", "reader_zone", "web_link"]

HERE = Path(__file__).parent
_CHINA = timezone(timedelta(hours=8))

ZONES = (
    "UTC", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "Europe/London",
    "Europe/Paris", "Europe/Berlin", "America/New_York", "America/Chicago", "America/Los_Angeles",
    "Australia/Sydney",
)  # offered in the time zone field; any IANA name is accepted


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def chinese_content(language: str | None, site_language: str | None, site: str | None) -> bool:
    """Whether content is Chinese (and so gets China time beside UTC): the article's own
    language when it states one, else the language most of its site's articles state,
    else whether the site's name is written in Chinese characters."""
    for stated in (language, site_language):
        if stated and stated.strip():
            return stated.strip().lower().startswith("zh")
    return bool(site) and _has_cjk(site or "")


def web_link(url: str | None) -> str:
    """``url`` when it is an http(s) address, else "" (never a javascript: or data: link)."""
    return url if url and is_web_url(url) else ""


def reader_zone(name: str | None) -> ZoneInfo | None:
    """The IANA time zone ``name``, or None when it is empty or unknown."""
    if not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, ZoneInfoNotFoundError):  # unknown, malformed, or a folder of the database
        return None


@pass_context
def _when(context: Any, moment: datetime | None, china: bool = False) -> str:
    """The reader's time (chosen with ?tz=, remembered in a cookie), China time for
    Chinese content (``china``: see :func:`chinese_content`), and UTC."""
    if moment is None:
        return "-"
    parts = []
    zone = context.get("reader_tz")
    offset = None
    if zone is not None and zone.key != "UTC":
        local = moment.astimezone(zone)
        offset = local.utcoffset()
        parts.append(f"{local.strftime('%Y-%m-%d %H:%M')} ({zone.key})")
    if china and offset != timedelta(hours=8):
        parts.append(f"{moment.astimezone(_CHINA).strftime('%Y-%m-%d %H:%M')} (UTC+8)")
    parts.append(moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    return " · ".join(parts)


class ChineseCheck:
    """:func:`chinese_content` for pages, looking each site's language up once."""

    def __init__(self, site_language: Callable[[str], str | None]) -> None:
        self._site_language = site_language
        self._known: dict[str, str | None] = {}

    def __call__(self, site: str | None, language: str | None = None) -> bool:
        stated = bool(language and language.strip())
        if not stated and site and site not in self._known:
            self._known[site] = self._site_language(site)
        return chinese_content(language, self._known.get(site or ""), site)


class Pages:
    """The templates, ready to render."""

    def __init__(self) -> None:
        # Templates ship with the package and do not change while it runs: no check per render.
        env = Environment(
            loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]), auto_reload=False
        )
        env.filters["when"] = _when
        env.filters["web_link"] = web_link
        env.filters["site_path"] = site_path
        self.env = env

    def render(
        self,
        name: str,
        *,
        lang: str,
        links: Links,
        chinese: Callable[..., bool],
        reader_tz: ZoneInfo | None = None,
        **values: Any,
    ) -> str:
        """Template ``name`` in language ``lang`` (``zh`` or ``en``) with ``values``."""
        values.setdefault("query", None)
        values.setdefault("zones", ZONES)
        values.setdefault("signed_in", False)
        values.setdefault("csrf", "")
        values.setdefault("changes", False)
        for name_ in ("feed_site", "changes_site", "changes_feed", "canonical", "search_text"):
            values.setdefault(name_, None)
        return self.env.get_template(name).render(
            t=TEXTS[lang],
            links=links,
            reader_tz=reader_tz,
            count=lambda number, noun: counted(lang, noun, number),
            chinese=chinese,
            **values,
        )
