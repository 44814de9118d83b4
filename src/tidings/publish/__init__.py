"""Publishing a mirror of the archive: the original layout, a static site, feeds of the
whole history, static search, and optionally a git repository kept and pushed.

``publish(archive, DIR)`` writes into DIR:

* ``articles/``, ``lists/``, ``README.md``: the original layout, exactly as
  ``tidings export --format documents`` writes and continues it;
* the static site (:mod:`tidings.publish.site`), with relative links only;
* ``feed.atom``/``feed.json`` and one pair per site with their RFC 5005 archive pages
  (:mod:`tidings.publish.feeds`);
* ``search.html`` and a Pagefind index (:mod:`tidings.publish.search`);
* ``subscriptions.opml``, ``robots.txt``, ``.nojekyll`` and, given a public address,
  ``sitemap.xml``.

A publish writes only files whose bytes change, and renders only pages whose inputs
changed (see :mod:`tidings.publish.files`); the same archive gives the same bytes. With
``git``, DIR is a git repository and each publish that changed something is one commit
(:mod:`tidings.publish.git`).
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from xml.sax.saxutils import escape

from ..archive import Archive
from ..document import site_folder_name
from ..errors import InvalidInputError
from ..cursors import EPOCH
from ..model import PublishReport
from ..opml import write_opml
from ..pages import Pages, StaticLinks
from ..pages.render import HERE as PAGES_HERE
from ..pages.render import ChineseCheck
from ..version import __version__
from .feeds import write_history_feeds
from .files import Mirror
from .git import GitError, commit_all, ensure_repository, push
from .search import build_index, write_search_page
from .site import Listed, SiteWriter, list_articles
from .workers import Workers

__all__ = ["GitError", "publish"]

_SITEMAP_LIMIT = 50_000
_ARTICLE_PAGE = re.compile(r"article/(\d+)\.html")


def _salt(lang: str, base_url: str | None) -> str:
    """What every page depends on besides its own values: the templates, the words, the
    style sheet and the settings. A new version of any re-renders every page once."""
    hasher = hashlib.blake2b(digest_size=12)
    for path in sorted((PAGES_HERE / "templates").glob("*.html")) + [
        PAGES_HERE / "texts.py",
        PAGES_HERE / "static" / "style.css",
    ]:
        hasher.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    hasher.update(f"{__version__}\0{lang}\0{base_url or ''}".encode())
    return hasher.hexdigest()


def _language(archive: Archive, listed: dict[str, list[Listed]]) -> str:
    """Chinese pages when most articles are Chinese, else English."""
    chinese = ChineseCheck(archive.site_language)
    weight = sum(len(items) if chinese(site) else -len(items) for site, items in listed.items())
    return "zh" if weight >= 0 and listed else "en"


def _base(base_url: str | None) -> str | None:
    if base_url is None:
        return None
    if not base_url.startswith(("http://", "https://")) or any(c in base_url for c in " \"'<>\\"):
        raise InvalidInputError(f"--base-url must be an http(s) address, not {base_url!r}")
    return base_url.rstrip("/") + "/"


def publish(
    archive: Archive,
    out: str | Path,
    *,
    sites: Sequence[str] = (),
    base_url: str | None = None,
    lang: str | None = None,
    images: str = "link",
    search: bool = True,
    git: bool = False,
    remote: str | None = None,
    message: str | None = None,
) -> PublishReport:
    """Publish the archive (or ``sites`` of it) into the folder ``out``; see the module.

    ``base_url`` is where the mirror will be read (for feeds, canonical links and the
    sitemap, the only places an absolute address is needed). ``lang`` is the language of
    the pages (``zh`` or ``en``; by default that of most articles). ``images``: ``link``
    shows an article's outside images as links (a mirror read offline or behind a firewall
    asks no other host for anything), ``remote`` loads them from their sites. ``search=False``
    leaves the search index as it is. ``git`` commits what changed; ``remote`` pushes
    (a failed push is in the report's ``push_error``; the commit stays).
    """
    started = time.perf_counter()
    out = Path(out)
    base = _base(base_url)
    every_site = archive.sites()
    for name in sites:
        if name not in every_site:
            raise InvalidInputError(f"no site named {name!r}")
    chosen = list(dict.fromkeys(sites)) or every_site
    if images not in ("link", "remote"):
        raise InvalidInputError(f"images must be link or remote, not {images!r}")
    if lang is not None and lang not in ("zh", "en"):
        raise InvalidInputError(f"lang must be zh or en, not {lang!r}")
    mirror = Mirror.open(out)  # made if needed, and locked until the commit and push are done
    try:
        if git or remote:
            ensure_repository(out)
        report = _write_mirror(
            archive, mirror, out, sites=sites, chosen=chosen, base=base, lang=lang, images=images, search=search
        )
        report = replace(report, seconds=time.perf_counter() - started - report.search_seconds)
        commit = None
        if git or remote:
            # Also what an interrupted publish left uncommitted: the next one commits it.
            summary = report.summary if report.written else "files an earlier publish left uncommitted"
            commit = commit_all(out, (summary if message is None else f"{message}\n\n{summary}") + "\n")
        push_error = None
        pushed = False
        if remote:
            try:
                push(out, remote)
                pushed = True
            except GitError as exc:
                push_error = str(exc)
    finally:
        mirror.close()
    return replace(report, commit=commit, pushed=pushed, push_error=push_error)


def _write_mirror(
    archive: Archive,
    mirror: Mirror,
    out: Path,
    *,
    sites: Sequence[str],
    chosen: list[str],
    base: str | None,
    lang: str | None,
    images: str,
    search: bool,
) -> PublishReport:
    """Write the documents, the site, the feeds and the search index; what was written."""
    search_message = "search index not built (--no-search)" if not search else ""
    search_seconds = 0.0
    folders = {name: site_folder_name(name) for name in archive.sites()}
    listed = {name: list_articles(archive, name) for name in chosen}
    lang = lang or _language(archive, listed)
    mirror.salt = _salt(lang, base)
    writer = SiteWriter(archive, mirror, listed=listed, folders=folders, lang=lang, base_url=base, images=images)
    stale = writer.plan_articles()
    scopes: list[str | None] = list(chosen) if sites else [None]
    documents_written: list[str] = []
    workers = Workers.start(archive, out, writer.settings, len(stale))
    try:
        # With workers, the documents and the article pages are made by them meanwhile.
        exports = [workers.export(scope) for scope in scopes] if workers else []
        if workers is None:
            for scope in scopes:
                documents_written.extend(archive.export_documents(out, site=scope).paths)
        writer.write_articles(stale, workers)
        writer.write_lists()
        links = StaticLinks(folders)
        articles = {item.article.id: item.article for items in listed.values() for item in items}
        for scope in [None, *chosen]:
            write_history_feeds(archive, mirror, site=scope, articles=articles, links=links, base_url=base)
        write_search_page(mirror, Pages(), links, lang, writer.chinese)
        _write_extras(archive, mirror, base, writer.updated)
        writer.finish()
        for future in exports:
            documents_written.extend(future.result())
    finally:
        if workers is not None:
            workers.close()
    site_report = writer.report
    mirror.save_manifest()
    changed = [int(found.group(1)) for path in mirror.written if (found := _ARTICLE_PAGE.fullmatch(path))]
    if search and not articles:
        search_message = "search index not built: no articles yet"
    elif search:
        search_started = time.perf_counter()
        built = build_index(mirror, articles, changed)
        search_seconds = time.perf_counter() - search_started
        search_message = built.message
    written = [Path(os.path.relpath(p, mirror.path)).as_posix() for p in documents_written] + mirror.written
    return PublishReport(
        articles=len(articles),
        new=tuple(sorted(site_report.new.items())),
        edited=tuple(sorted(site_report.edited.items())),
        written=len(written),
        unchanged=mirror.unchanged,
        paths=tuple(written),
        search=search_message,
        search_seconds=search_seconds,
    )


def _write_extras(archive: Archive, mirror: Mirror, base: str | None, updated: dict[int, int]) -> None:
    """``.nojekyll``, ``robots.txt``, ``subscriptions.opml`` and, with a public address,
    the sitemap (split into files of 50,000 addresses when larger)."""
    mirror.write(".nojekyll", b"")
    mirror.write("subscriptions.opml", write_opml(archive.feeds(), None))
    robots = "User-agent: *\nAllow: /\n"
    if base is None:
        mirror.write("robots.txt", robots.encode())
        return
    mirror.write("robots.txt", f"{robots}Sitemap: {base}sitemap.xml\n".encode())

    def lastmod(ms: int) -> str:
        moment = datetime.fromtimestamp(ms / 1000, timezone.utc) if ms else EPOCH
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    entries: list[tuple[str, str | None]] = [(f"{base}index.html", None)] + [
        (f"{base}article/{article_id}.html", lastmod(ms)) for article_id, ms in sorted(updated.items())
    ]

    def urlset(chunk: list[tuple[str, str | None]]) -> bytes:
        lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
        for loc, modified in chunk:
            extra = f"<lastmod>{modified}</lastmod>" if modified else ""
            lines.append(f"<url><loc>{escape(loc)}</loc>{extra}</url>")
        lines.append("</urlset>")
        return ("\n".join(lines) + "\n").encode("utf-8")

    if len(entries) <= _SITEMAP_LIMIT:
        mirror.write("sitemap.xml", urlset(entries))
        return
    chunks = [entries[start : start + _SITEMAP_LIMIT] for start in range(0, len(entries), _SITEMAP_LIMIT)]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for number, chunk in enumerate(chunks, start=1):
        mirror.write(f"sitemaps/{number}.xml", urlset(chunk))
        lines.append(f"<sitemap><loc>{escape(base)}sitemaps/{number}.xml</loc></sitemap>")
    lines.append("</sitemapindex>")
    mirror.write("sitemap.xml", ("\n".join(lines) + "\n").encode("utf-8"))



