"""The static HTML site of a published mirror: the same templates as the web app, written
as files with relative links.

::

    index.html                      the sites with their counts, links to days and changes
    site/<site>/index.html          a site's newest articles and a list of every page
    site/<site>/page-<n>.html       a site's articles, 100 a page, numbered from the oldest
    site/<site>/changes.html        a site's recent changes
    day/index.html, day/<d>.html    every day (UTC) with its articles
    article/<id>.html               an article: clean body, times, link, state, versions
    diff/<id>-<old>-<new>.html      the differences between two versions
    changes.html                    recent changes at every site
    static/style.css                the web app's style sheet

Pages are numbered from the oldest, so a new article changes only the newest page of its
site, its day and the lists that name them. Every page is rendered from values whose
digest is kept in the mirror's manifest; a page whose digest has not changed is not
rendered again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..archive import Archive
from ..model import Article
from ..pages import Pages, StaticLinks
from ..pages.render import HERE as PAGES_HERE
from ..pages.render import ChineseCheck
from ..media import EXTENSIONS, image_urls
from ..pages.views import article_values, compared_with, diff_values, images_as_links, local_images
from ..textindex import cjk_grams
from .files import Mirror, digest

if TYPE_CHECKING:
    from .workers import Workers

__all__ = [
    "LATEST", "PER_PAGE", "Listed", "PageRenderer", "media_path", "PageSettings", "Rendered", "SiteReport", "SiteWriter",
    "list_articles",
]

#: Articles on a numbered page of a site.
PER_PAGE = 100
#: Articles on a site's front page.
LATEST = 100
#: Changes on a page of recent changes.
CHANGES = 100


@dataclass(frozen=True, slots=True)
class Listed:
    """One article as timelines list it."""

    article: Article
    title: str

    @property
    def moment(self) -> datetime:
        return self.article.published or self.article.first_seen

    def key(self) -> tuple[Any, ...]:
        return (self.article.id, self.title, self.article.site, self.moment.isoformat())


@dataclass(slots=True)
class SiteReport:
    """What the HTML pages of one publish did: articles new to the mirror and articles whose
    page changed, by site."""

    new: dict[str, int] = field(default_factory=dict)
    edited: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Timeline:
    items: tuple[tuple[Article, str], ...]


def list_articles(archive: Archive, site: str) -> list[Listed]:
    """Every article of ``site`` with its current title, oldest first."""
    found: list[Listed] = []
    cursor = None
    while True:
        page = archive.timeline(site=site, cursor=cursor, limit=500)
        found.extend(Listed(article, title) for article, title in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    found.reverse()
    return found


def _newest_first(items: Sequence[Listed]) -> _Timeline:
    return _Timeline(tuple((i.article, i.title) for i in reversed(items)))


#: A rendered page: its path in the mirror, the digest of what it was made from, its bytes.
Rendered = tuple[str, str, bytes]


@dataclass(frozen=True, slots=True)
class PageSettings:
    """What every page of one publish is rendered with."""

    folders: dict[str, str]
    lang: str
    base_url: str | None
    images: str


class PageRenderer:
    """Renders the pages of a mirror; an article's page with those of the differences
    between its versions (:meth:`render`), in this process or in a worker."""

    def __init__(self, archive: Archive, settings: PageSettings) -> None:
        self.archive = archive
        self.settings = settings
        self.pages = Pages()
        self.links = StaticLinks(settings.folders)
        self.chinese = ChineseCheck(archive.site_language)

    def page(self, path: str, template: str, page_digest: str, **values: Any) -> Rendered:
        if self.settings.base_url:
            values.setdefault("canonical", self.settings.base_url + quote(path, safe="/"))
        html = self.pages.render(
            template, lang=self.settings.lang, links=self.links.at(path), chinese=self.chinese, **values
        )
        return path, page_digest, html.encode("utf-8")

    def render(self, article_id: int, full_digest: str) -> tuple[list[Rendered], list[tuple[str, str]]]:
        """An article's pages, and the archived images they show as (path in the mirror,
        SHA-256): the caller copies those the mirror lacks."""
        path = f"article/{article_id}.html"
        shown: list[tuple[str, str]] = []

        def link(sha256: str, media_type: str) -> str:
            target = media_path(sha256, media_type)
            shown.append((target, sha256))
            return self.links.at(path).to(target)

        def body_filter(body: str) -> str:
            body = local_images(body, self.archive.archived_images(image_urls(body)), link)
            return images_as_links(body) if self.settings.images == "link" else body

        values = article_values(self.archive, article_id, body_filter=body_filter)
        current = values["revision"]
        # Pagefind indexes what the page shows, split into words; the CJK text is handed to
        # it too (hidden) as folded bigrams, so any string of it is found, in either script,
        # whatever the word boundaries (see tidings.publish.search).
        values["search_text"] = cjk_grams(f"{current.title}\n{current.text or ''}") or None
        rendered = [self.page(path, "article.html", full_digest, **values)]
        for new_id, old_id in compared_with(values["revisions"]).items():
            rendered.append(
                self.page(
                    f"diff/{article_id}-{old_id}-{new_id}.html",
                    "diff.html",
                    digest("diff.html", full_digest, old_id, new_id),
                    **diff_values(self.archive, article_id, old_id, new_id),
                )
            )
        return rendered, shown

    def copy_media(self, mirror: Mirror, shown: list[tuple[str, str]]) -> list[tuple[str, bool]]:
        """Copy the archived images the mirror lacks (a file, once there, is never written
        again: its name is its content's digest); (path, written) for each."""
        done = []
        for target, sha256 in dict(shown).items():
            if mirror.exists(target):
                continue
            data = self.archive.media.read(sha256) if self.archive.media is not None else None
            if data is not None:
                mirror.write(target, data)
                done.append((target, True))
        return done


def media_path(sha256: str, media_type: str) -> str:
    """Where an archived image is in a mirror: ``media/ab/abcdef….jpg``."""
    return f"media/{sha256[:2]}/{sha256}.{EXTENSIONS.get(media_type, 'img')}"


class SiteWriter:
    """Writes the HTML pages of the sites ``listed`` into ``mirror``."""

    def __init__(
        self,
        archive: Archive,
        mirror: Mirror,
        *,
        listed: dict[str, list[Listed]],
        folders: dict[str, str],
        lang: str,
        base_url: str | None,
        images: str = "link",
    ) -> None:
        self.archive = archive
        self.mirror = mirror
        self.listed = listed
        self.folders = folders
        self.images = images
        self.settings = PageSettings(folders, lang, base_url, images)
        self.renderer = PageRenderer(archive, self.settings)
        self.links = self.renderer.links
        self.chinese = self.renderer.chinese
        self.report = SiteReport()
        self._pending: list[Future[list[tuple[str, str, bool]]]] = []
        #: When each published article's newest revision was seen (epoch ms), by id.
        self.updated: dict[int, int] = {}

    # rendering

    def _page(self, path: str, page_digest: str, template: str, **values: Any) -> bool:
        """Render ``template`` to ``path`` unless it is current; True when rendered."""
        full_digest = digest(template, page_digest)
        if self.mirror.is_current(path, full_digest):
            return False
        self._write(path, template, full_digest, **values)
        return True

    def _write(self, path: str, template: str, full_digest: str, **values: Any) -> None:
        path, page_digest, data = self.renderer.page(path, template, full_digest, **values)
        self.mirror.write(path, data)
        self.mirror.remember(path, page_digest)

    def write_all(self, workers: Workers | None = None) -> SiteReport:
        """Every page; article pages by ``workers`` when given (collected by :meth:`finish`)."""
        self.write_articles(self.plan_articles(), workers)
        self.write_lists()
        return self.report

    def write_lists(self) -> None:
        """Every page but the articles': timelines, days, changes, the front page."""
        self.write_static()
        for site, items in self.listed.items():
            self.write_site(site, items)
            self.write_changes(site)
        self.write_days()
        self.write_changes(None)
        self.write_index()

    def write_static(self) -> None:
        data = (PAGES_HERE / "static" / "style.css").read_bytes()
        self.mirror.write("static/style.css", data)

    # articles and their differences

    def plan_articles(self) -> list[tuple[int, str]]:
        """The articles whose pages are not current, with the digest of each; counts them
        as new or edited by site."""
        store = self.archive.store
        stale: list[tuple[int, str]] = []
        for site in self.listed:
            for article_id, source, newest in store.article_digests(site):
                self.updated[article_id] = newest
                path = f"article/{article_id}.html"
                full_digest = digest("article.html", source, self.images)
                if self.mirror.is_current(path, full_digest):
                    continue
                if not self.mirror.exists(path):
                    self.report.new[site] = self.report.new.get(site, 0) + 1
                elif not self.mirror.made_from(path, full_digest):
                    self.report.edited[site] = self.report.edited.get(site, 0) + 1
                stale.append((article_id, full_digest))
        return stale

    def write_articles(self, stale: list[tuple[int, str]], workers: Workers | None = None) -> None:
        """The pages of the ``stale`` articles: here, or handed to ``workers`` (which render
        and write them while this process writes the other pages; see :meth:`finish`)."""
        if workers is not None:
            self._pending.extend(workers.render(stale))
            return
        for article_id, full_digest in stale:
            pages, shown = self.renderer.render(article_id, full_digest)
            self.renderer.copy_media(self.mirror, shown)
            for path, page_digest, data in pages:
                self.mirror.write(path, data)
                self.mirror.remember(path, page_digest)

    def finish(self) -> None:
        """Wait for the pages handed to workers and remember what they were made from."""
        for future in self._pending:
            for path, page_digest, written in future.result():
                if page_digest:  # a page (an image copied in has no digest to keep)
                    self.mirror.remember(path, page_digest)
                if written:
                    self.mirror.written.append(path)
                else:
                    self.mirror.unchanged += 1
        self._pending.clear()

    # timelines

    def write_site(self, site: str, items: list[Listed]) -> None:
        folder = f"site/{self.folders[site]}"
        links = self.links
        pages = [items[start : start + PER_PAGE] for start in range(0, len(items), PER_PAGE)]
        summaries = []
        for number, chunk in enumerate(pages, start=1):
            first = chunk[0].moment.date().isoformat()
            last = chunk[-1].moment.date().isoformat()
            summaries.append((number, first, last))
            path = f"{folder}/page-{number}.html"
            here = links.at(path)
            newer = here.site_page(site, number + 1) if number < len(pages) else None
            older = here.site_page(site, number - 1) if number > 1 else None
            self._page(
                path,
                digest([i.key() for i in chunk], newer is not None, older is not None),
                "timeline.html",
                heading=f"{site} · {first} – {last}" if first != last else f"{site} · {first}",
                page=_newest_first(chunk),
                feed_site=site,
                feed_title=site,
                changes_site=site,
                newer_link=newer,
                older_link=older,
            )
        path = f"{folder}/index.html"
        here = links.at(path)
        latest = items[-LATEST:]
        self._page(
            path,
            digest([i.key() for i in latest], summaries),
            "timeline.html",
            heading=site,
            page=_newest_first(latest),
            feed_site=site,
            feed_title=site,
            changes_site=site,
            archive_pages=[
                (number, here.site_page(site, number), first, last) for number, first, last in reversed(summaries)
            ],
        )

    def _days(self) -> dict[str, list[Listed]]:
        days: dict[str, list[Listed]] = defaultdict(list)
        for items in self.listed.values():
            for item in items:
                days[item.moment.astimezone(timezone.utc).date().isoformat()].append(item)
        for items in days.values():
            items.sort(key=lambda i: (i.moment, i.article.id))
        return dict(sorted(days.items()))

    def write_days(self) -> None:
        days = self._days()
        names = list(days)
        for place, day in enumerate(names):
            path = f"day/{day}.html"
            here = self.links.at(path)
            newer = here.day(names[place + 1]) if place + 1 < len(names) else None
            older = here.day(names[place - 1]) if place > 0 else None
            self._page(
                path,
                digest([i.key() for i in days[day]], newer, older),
                "timeline.html",
                heading=day,
                page=_newest_first(days[day]),
                newer_link=newer,
                older_link=older,
            )
        path = "day/index.html"
        here = self.links.at(path)
        counts = [(day, len(items)) for day, items in reversed(days.items())]
        self._page(
            path,
            digest(counts),
            "days.html",
            days=[(day, here.day(day), count) for day, count in counts],
        )

    def write_changes(self, site: str | None) -> None:
        changes = self.archive.recent_changes(site, limit=CHANGES)
        path = "changes.html" if site is None else f"site/{self.folders[site]}/changes.html"
        self._page(
            path,
            digest([(c.kind, c.id, c.title, c.at.isoformat()) for c in changes.items]),
            "changes.html",
            site=site,
            page=changes,
            feed_site=site,
            feed_title=site or "tidings",
        )

    def write_index(self) -> None:
        sites = sorted((site, len(items)) for site, items in self.listed.items())
        self._page(
            "index.html",
            digest(sites),
            "index.html",
            sites=sites,
            site_names={name for name, _ in sites},
            feeds=(),
            today="",
        )

