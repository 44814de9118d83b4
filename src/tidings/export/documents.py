"""Writing the archive in the original repository layout.

::

    articles/<site>/<id>_<title>.md   one document per file, ids counting down from 0xFFFFF
    lists/<site>.md                   the newest 100 of a site, dated in UTC+8
    README.md                         links to every list

``<site>`` is :func:`~tidings.document.site_folder_name`: the site name when
it is already a safe name, else its cleaned form with a short digest, so no
two sites share a folder.

An export into a folder that already holds such a repository continues it:
files keep their names and ids, new articles are numbered below the lowest
id present, a file that holds another article is never overwritten (the
article gets a new name instead) and a file whose bytes would not change is
not written. All reading and writing goes through
:mod:`~tidings.export.safe_files`: no link under the destination is ever
followed, and the destination is checked before anything is created, so a
refused export leaves no trace.

An imported file is written back with its exact framing, so import followed
by export gives the same bytes under the same names. The newest file of an
article follows the article's newest revision; older duplicate files keep
the revision they were imported with.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

from ..document import (
    FIRST_FILE_ID,
    MAX_DOCUMENT_BYTES,
    Document,
    document_file_name,
    new_document,
    parse_document,
    parse_file_id,
    render_document,
    site_folder_name,
)
from ..errors import DocumentError, ExportTargetError
from ..model import Article, DocumentFile, ExportReport, FileProblem, Revision
from ..store import Store
from .safe_files import SafeFolder

__all__ = ["LIST_LENGTH", "README_MARKER", "export_documents"]

#: How many articles a site's list shows.
LIST_LENGTH = 100
#: First line of a README.md that tidings owns and may rewrite.
README_MARKER = "<!-- tidings: this file is written by `tidings export`; edits are lost -->"
_LAYOUT_NAME = re.compile(r"\d+_.*\.md", re.DOTALL)
_CHINA = timezone(timedelta(hours=8))
_UNSAFE_LINK = re.compile(r"[\x00-\x20()<>\[\]\\`\"'{}|^%#?\x7f]")
_LINE_BREAKS = re.compile(r"[\r\n]")
#: A README.md larger than this is not ours and is left alone.
_README_LIMIT = 1 << 20
# Characters a recorded file name may not keep (see document.safe_path_component).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


@dataclass(slots=True)
class _Entry:
    """What the site list needs to know about one file."""

    title: str
    ts: int | None


@dataclass(slots=True)
class _SiteFolder:
    """The state of one site's folder during an export."""

    directory: SafeFolder
    on_disk: set[str]
    lowest_id: int
    claimed: set[str] = field(default_factory=set)
    entries: dict[str, _Entry] = field(default_factory=dict)
    by_url: dict[str, str] | None = None

    @property
    def path(self) -> Path:
        return self.directory.path

    def next_name(self, title: str) -> str:
        while True:
            self.lowest_id -= 1
            if self.lowest_id < 0:
                raise ExportTargetError(f"{self.path}: no file ids left below 0")
            name = document_file_name(self.lowest_id, title)
            if name not in self.on_disk and name not in self.claimed:
                return name


def _is_layout_name(name: str) -> bool:
    return _LAYOUT_NAME.fullmatch(name) is not None


def _is_safe_name(name: str) -> bool:
    """Whether a recorded file name may be written again as it is.

    Imported names keep characters the original system left in (``:``, ``?``,
    ``|``), but never a path separator, a control, bidi or other invisible
    character, or a name too long for common systems.
    """
    return (
        bool(name)
        and name not in (".", "..")
        and "/" not in name
        and "\\" not in name
        and len(name.encode("utf-8", "surrogatepass")) <= 255
        and _visible(name)
    )


def _visible(name: str) -> bool:
    if name.isascii():
        return name.isprintable()
    return all(unicodedata.category(c) not in _INVISIBLE_CATEGORIES for c in name)


def _site_folders(sites: Iterable[str]) -> dict[str, str]:
    """The folder of every site; refused if two sites would share one."""
    folders: dict[str, str] = {}
    owners: dict[str, str] = {}
    for site in sites:
        folder = site_folder_name(site)
        owner = owners.setdefault(folder, site)
        if owner != site:
            raise ExportTargetError(
                f"sites {owner!r} and {site!r} would share the folder articles/{folder};"
                " rename one of them"
            )
        folders[site] = folder
    return folders


def _one_line(text: str) -> str:
    return _LINE_BREAKS.sub(" ", text)


def _link_path(text: str) -> str:
    """Percent-encode what would break a Markdown link target; keep other characters readable."""
    return _UNSAFE_LINK.sub(lambda m: quote(m.group(0), safe=""), text)


def _link_text(title: str) -> str:
    return title.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _timestamp_ms(article: Article) -> int:
    moment = article.published or article.first_seen
    return int(moment.timestamp() * 1000)


def _read_document(directory: SafeFolder, name: str) -> Document | None:
    """The document in a file of the destination, or None if it holds none."""
    data = directory.read(name, limit=MAX_DOCUMENT_BYTES)
    if data is None or len(data) > MAX_DOCUMENT_BYTES:
        return None
    try:
        return parse_document(data)
    except DocumentError:
        return None


class _Exporter:
    def __init__(self, store: Store, root: SafeFolder, folders: dict[str, str]) -> None:
        self.store = store
        self.root = root
        self.folders = folders
        self.written = 0
        self.unchanged = 0
        self.renamed: list[FileProblem] = []
        self.paths: list[str] = []
        self._open: dict[str, SafeFolder] = {}
        self._surveyed: dict[str, set[str]] = {}

    def close(self) -> None:
        for folder in self._open.values():
            folder.close()
        self._open.clear()

    def _top(self, name: str) -> SafeFolder:
        """``articles`` or ``lists`` in the destination, made if needed."""
        folder = self._open.get(name)
        if folder is None:
            folder = self._open[name] = self.root.folder(name, create=True)
        return folder

    def survey(self, sites: Iterable[str]) -> None:
        """Refuse the destination before anything is made or written.

        Every path the export will read or write must be missing or of the
        kind the layout expects: the folders, each ``.md`` entry of the site
        folders written to (all are read to continue the repository), the
        lists and ``README.md``. A link or a special file there is refused.
        """
        root = self.root
        sites = list(sites)
        if root.expect("articles", "folder"):
            with root.folder("articles") as articles:
                for site in sites:
                    name = self.folders[site]
                    if articles.expect(name, "folder"):
                        with articles.folder(name) as folder:
                            self._surveyed[site] = folder.files(".md")
        if root.expect("lists", "folder"):
            with root.folder("lists") as lists:
                for site in sites:
                    lists.expect(f"{self.folders[site]}.md", "file")
        root.expect("README.md", "file")

    def _open_site(self, site: str, recorded_ids: list[int]) -> _SiteFolder:
        directory = self._top("articles").folder(self.folders[site], create=True)
        on_disk = self._surveyed.pop(site, None)
        if on_disk is None:
            try:
                on_disk = directory.files(".md")
            except BaseException:
                directory.close()
                raise
        ids = [i for i in map(parse_file_id, on_disk) if i is not None] + recorded_ids
        return _SiteFolder(directory, on_disk, min(ids, default=FIRST_FILE_ID + 1))

    def _holds_other_article(self, folder: _SiteFolder, name: str, article: Article) -> bool:
        """Whether an existing file belongs to something other than this article."""
        existing = _read_document(folder.directory, name)
        return existing is None or existing.url != article.url

    def _place(
        self, folder: _SiteFolder, name: str, data: bytes, article: Article, entry: _Entry
    ) -> str:
        """Write one file under its name, or under a new one if the name is taken."""
        if not _is_safe_name(name):
            # A recorded name that must not be written (an imported file's): the article goes to
            # the file that already holds it, else to a new name, the same one on every export.
            new_name = self._existing_file(folder, article) or folder.next_name(entry.title)
            reason = f"not a safe file name; the article is in {new_name}"
            self.renamed.append(FileProblem(str(folder.path / name), reason))
            name = new_name
        elif name in folder.claimed:
            name = folder.next_name(entry.title)
        path = folder.path / name
        if name in folder.on_disk:
            if folder.directory.holds(name, data):
                self.unchanged += 1
                folder.claimed.add(name)
                folder.entries[name] = entry
                return name
            if self._holds_other_article(folder, name, article):
                new_name = self._existing_file(folder, article) or folder.next_name(entry.title)
                self.renamed.append(
                    FileProblem(str(path), f"holds another article; wrote {new_name} instead")
                )
                name, path = new_name, folder.path / new_name
                if folder.directory.holds(name, data):
                    self.unchanged += 1
                    folder.claimed.add(name)
                    folder.entries[name] = entry
                    return name
        folder.directory.write(name, data)
        self.written += 1
        self.paths.append(str(path))
        folder.claimed.add(name)
        folder.on_disk.add(name)
        folder.entries[name] = entry
        return name

    def export_site(self, site: str) -> int:
        store = self.store
        records: dict[int, list[DocumentFile]] = defaultdict(list)
        recorded_ids = []
        for record in store.document_files(site):
            records[record.article_id].append(record)
            if record.file_id is not None and _is_layout_name(record.file_name):
                recorded_ids.append(record.file_id)
        folder = self._open_site(site, recorded_ids)
        try:
            return self._export_site(site, folder, records)
        finally:
            folder.directory.close()

    def _export_site(
        self, site: str, folder: _SiteFolder, records: dict[int, list[DocumentFile]]
    ) -> int:
        store = self.store
        articles = {article.id: article for article in store.iter_articles(site)}
        latest = {rev.article_id: rev for rev in store.iter_revisions(site, latest_only=True)}

        unnamed: list[Article] = []
        for article in articles.values():
            own = [r for r in records.get(article.id, ()) if _is_layout_name(r.file_name)]
            if not own:
                unnamed.append(article)
                continue
            current = latest[article.id]
            # The file that follows the article: the newest holding its current revision,
            # else the one holding its most recent revision.
            newest = min(
                own,
                key=lambda r: (r.revision_id != current.id, -r.revision_id, r.file_id or 0),
            )
            for record in own:
                self._export_record(folder, article, record, current, record is newest)

        # Articles without a file of the layout: new ones, and files imported under
        # other names (kept with their framing, renamed <id>_<title>.md).
        unnamed.sort(key=lambda a: (_timestamp_ms(a), a.id))
        for article in unnamed:
            revision = latest[article.id]
            template = next(
                (r for r in records.get(article.id, ()) if r.revision_id == revision.id), None
            )
            doc = self._framed(template, revision, article)
            name = self._existing_file(folder, article) or folder.next_name(doc.title)
            placed = self._place(folder, name, render_document(doc), article, _Entry(doc.title, doc.ts))
            store.put_document_file(
                DocumentFile(
                    site,
                    placed,
                    parse_file_id(placed),
                    article.id,
                    revision.id,
                    head=template.head if template else None,
                    tail=template.tail if template else "\n",
                    bom=template.bom if template else False,
                )
            )
        self._write_list(site, folder)
        return len(articles)

    def _export_record(
        self,
        folder: _SiteFolder,
        article: Article,
        record: DocumentFile,
        latest: Revision,
        newest: bool,
    ) -> None:
        if newest and latest.id != record.revision_id:
            revision = latest
            doc = new_document(_timestamp_ms(article), latest.title, article.url, latest.content_html)
        else:
            revision = latest if latest.id == record.revision_id else self._revision(record)
            doc = self._framed(record, revision, article)
        self._place(folder, record.file_name, render_document(doc), article, _Entry(doc.title, doc.ts))

    def _revision(self, record: DocumentFile) -> Revision:
        for revision in self.store.revisions(record.article_id):
            if revision.id == record.revision_id:
                return revision
        raise ExportTargetError(f"revision {record.revision_id} of {record.file_name} is missing")

    @staticmethod
    def _framed(record: DocumentFile | None, revision: Revision, article: Article) -> Document:
        if record is None or record.head is None:
            return new_document(
                _timestamp_ms(article), revision.title, article.url, revision.content_html
            )
        ts = parse_document_ts(record.head)
        return Document(
            ts=ts,
            title=revision.title,
            url=article.url,
            html=revision.content_html,
            head=record.head,
            tail=record.tail,
            bom=record.bom,
        )

    def _existing_file(self, folder: _SiteFolder, article: Article) -> str | None:
        """A file already in the folder, not yet claimed, that holds this article."""
        if folder.by_url is None:
            folder.by_url = self._unclaimed_by_url(folder)
        name = folder.by_url.pop(article.url, None)
        return name if name is not None and name not in folder.claimed else None

    @staticmethod
    def _unclaimed_by_url(folder: _SiteFolder) -> dict[str, str]:
        """Links of files already in the folder that no article has claimed so far."""
        found: dict[str, str] = {}
        for name in sorted(folder.on_disk - folder.claimed):
            doc = _read_document(folder.directory, name)
            if doc is not None:
                found.setdefault(doc.url, name)
        return found

    def _write_list(self, site: str, folder: _SiteFolder) -> None:
        lists = self._top("lists")
        names = sorted(
            folder.on_disk,
            key=lambda n: (parse_file_id(n) is None, parse_file_id(n) or 0, n),
        )[:LIST_LENGTH]
        folder_name = folder.path.name
        items = []
        for name in names:
            entry = folder.entries.get(name) or self._entry_of(folder, name)
            date = ""
            if entry.ts is not None:
                try:
                    moment = datetime.fromtimestamp(entry.ts / 1000, _CHINA)
                    date = f"{moment.month}-{moment.day} "
                except (OverflowError, OSError, ValueError):
                    date = ""
            target = _link_path(f"/articles/{folder_name}/{name}")
            items.append(f"{date}[{_link_text(entry.title)}]({target})")
        more = _link_path(f"/articles/{folder_name}")
        # The first line names the site exactly (an import reads it back), on one line.
        text = f"{_one_line(site)}\n------\n\n" + "\n\n".join(items) + f"\n\n[查看更多]({more})\n"
        name = f"{folder_name}.md"
        if lists.write_if_changed(name, text.encode("utf-8")):
            self.written += 1
            self.paths.append(str(lists.path / name))
        else:
            self.unchanged += 1

    @staticmethod
    def _entry_of(folder: _SiteFolder, name: str) -> _Entry:
        doc = _read_document(folder.directory, name)
        if doc is not None:
            return _Entry(doc.title, doc.ts)
        stem = name.removesuffix(".md")
        file_id = parse_file_id(stem)
        return _Entry(stem.split("_", 1)[1] if file_id is not None else stem, None)

    def write_readme(self, sites: Iterable[str]) -> None:
        path = self.root.path / "README.md"
        links = [
            (_one_line(site), _link_path(f"lists/{self.folders[site]}.md")) for site in sites
        ]
        data = self.root.read("README.md", limit=_README_LIMIT)
        if data is None:
            current = None
        elif len(data) > _README_LIMIT:
            return  # not ours (far larger than a list of links): leave it alone
        else:
            try:
                # Line ends read as text files are: CRLF and CR become LF.
                current = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
            except UnicodeDecodeError:
                return  # not ours and not text we can extend: leave it alone
        if current is None or current.startswith(README_MARKER):
            body = "\n".join(f"- [{_link_text(site)}]({target})" for site, target in links)
            text = f"{README_MARKER}\n# 新闻存档 · News archive\n\n{body}\n"
        else:
            missing = [(s, t) for s, t in links if f"]({t})" not in current]
            if not missing:
                self.unchanged += 1
                return
            text = current.rstrip("\n") + "\n" + "".join(
                f"\n- [{_link_text(site)}]({target})" for site, target in missing
            ) + "\n"
        if self.root.write_if_changed("README.md", text.encode("utf-8")):
            self.written += 1
            self.paths.append(str(path))
        else:
            self.unchanged += 1


def parse_document_ts(head: str) -> int | None:
    """The timestamp a recorded head states (for site lists)."""
    start = head.find("<!--")
    end = head.find("-->", start)
    if start < 0 or end < 0:
        return None
    text = head[start + 4 : end].strip()
    return int(text) if text.lstrip("+-").isdigit() and len(text) <= 19 else None


def export_documents(store: Store, out: Path, *, site: str | None = None) -> ExportReport:
    """Write (or continue) a repository of the original layout at ``out``.

    ``out`` itself may be a link (it is resolved once); anything under it
    that the export would use and that is a link or a special file is refused
    with :class:`ExportTargetError` before anything is written.
    """
    if out.exists() and not out.is_dir():
        raise ExportTargetError(f"{out} exists and is not a folder")
    every_site = [s.name for s in store.sites()]
    folders = _site_folders(every_site)
    sites = [name for name in every_site if site is None or name == site]
    root = SafeFolder.open_root(out, create=not out.is_dir())
    exporter = _Exporter(store, root, folders)
    articles = 0
    try:
        exporter.survey(sites)
        with store.transaction():
            for name in sites:
                articles += exporter.export_site(name)
            exporter.write_readme(every_site)
    finally:
        exporter.close()
        root.close()
    return ExportReport(
        articles=articles,
        written=exporter.written,
        unchanged=exporter.unchanged,
        renamed=tuple(exporter.renamed),
        paths=tuple(exporter.paths),
    )
