"""How pages link to each other: from the server's root, or relative to a published file.

Templates never spell a path; they ask ``links`` for it. :class:`ServerLinks` gives the
web app's routes (``/article/5``); :class:`StaticLinks` gives the published mirror's files
relative to the page being written (``../article/5.html``), so a mirror reads the same
from a clone, from ``file://`` and under any path of a static host.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

__all__ = ["Links", "ServerLinks", "StaticLinks", "site_path"]


def site_path(name: str) -> str:
    """A site's name as one path segment: every reserved character, ``/`` too, percent-encoded."""
    return quote(name, safe="")


class Links:
    """The links every page needs (the server's; :class:`StaticLinks` overrides each)."""

    #: Whether pages are files of a published mirror (no forms that need a server).
    static = False

    def home(self) -> str:
        return "/"

    def style(self) -> str:
        return "/static/style.css"

    def site(self, name: str) -> str:
        return f"/site/{site_path(name)}"

    def day(self, day: str) -> str:
        return f"/day/{day}"

    def article(self, article_id: int) -> str:
        return f"/article/{article_id}"

    def diff(self, article_id: int, old: int, new: int) -> str:
        return f"/article/{article_id}/diff?from={old}&to={new}"

    def search(self) -> str:
        return "/search"

    def changes(self, site: str | None = None) -> str:
        return "/changes" if site is None else f"/site/{site_path(site)}/changes"

    def feed(self, site: str | None, kind: str) -> str:
        """The archive's feed (``kind`` ``atom`` or ``json``), of one site or of all."""
        return f"/feed.{kind}" if site is None else f"/site/{site_path(site)}/feed.{kind}"

    def changes_feed(self, site: str | None, kind: str) -> str:
        return f"{self.changes(site)}.{kind}"

    def days(self) -> str | None:
        """The list of every day, where there is one."""
        return None


ServerLinks = Links


class StaticLinks(Links):
    """Links between the files of a published mirror, relative to the file at ``here``.

    Every link names a file (``index.html`` included, which ``file://`` does not
    add by itself); each path segment is percent-encoded. ``folders`` gives each
    site's folder name (the same as under ``articles/``).
    """

    static = True

    def __init__(self, folders: Mapping[str, str], here: str = "index.html") -> None:
        self.folders = folders
        self.here = here
        self._up = "../" * here.count("/")

    def at(self, here: str) -> StaticLinks:
        """The links of the page written at ``here`` (a path relative to the mirror's root)."""
        return StaticLinks(self.folders, here)

    def to(self, path: str) -> str:
        """A link from this page to ``path`` (relative to the mirror's root, unencoded)."""
        return self._up + quote(path, safe="/")

    def home(self) -> str:
        return self.to("index.html")

    def style(self) -> str:
        return self.to("static/style.css")

    def site_folder(self, name: str) -> str:
        return f"site/{self.folders[name]}"

    def site(self, name: str) -> str:
        return self.to(f"{self.site_folder(name)}/index.html")

    def site_page(self, name: str, number: int) -> str:
        return self.to(f"{self.site_folder(name)}/page-{number}.html")

    def day(self, day: str) -> str:
        return self.to(f"day/{day}.html")

    def days(self) -> str:
        return self.to("day/index.html")

    def article(self, article_id: int) -> str:
        return self.to(f"article/{article_id}.html")

    def diff(self, article_id: int, old: int, new: int) -> str:
        return self.to(f"diff/{article_id}-{old}-{new}.html")

    def search(self) -> str:
        return self.to("search.html")

    def changes(self, site: str | None = None) -> str:
        return self.to("changes.html" if site is None else f"{self.site_folder(site)}/changes.html")

    def feed(self, site: str | None, kind: str) -> str:
        return self.to(f"feed.{kind}" if site is None else f"{self.site_folder(site)}/feed.{kind}")

    def changes_feed(self, site: str | None, kind: str) -> str:
        return self.to(f"changes.{kind}" if site is None else f"{self.site_folder(site)}/changes.{kind}")
