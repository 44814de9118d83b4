"""WARC: the archive's content for standard archive tools (warcio, pywb, ReplayWeb.page).

One ``.warc.gz`` file (a gzip member per record) and a CDXJ index beside it:

* a ``warcinfo`` record naming tidings and this format;
* every exchange kept in the WARC folder (see :mod:`tidings.warc`), copied byte for byte
  (their own ``warcinfo`` records left out);
* for each revision, oldest first: unless it is text extracted from a page whose
  exchange was kept (then it names that ``response``), a ``resource`` record at the
  article's URL, dated when the revision was seen, holding its HTML exactly as received
  (``text/html; charset=utf-8``); and a ``metadata`` record
  (``application/vnd.tidings.revision+json``) that refers to it and carries what makes
  the revision and its article (site, key, times, title, author, source…), so that
  :mod:`tidings.import_warc` gives back the same articles and revisions.

The CDXJ index (``FILE.cdxj``, one line per ``response``, ``revisit`` and ``resource``
record, sorted) has the usual fields: SURT key, 14-digit time, and JSON with ``url``,
``mime``, ``status``, ``digest``, ``length``, ``offset`` and ``filename``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..model import Article, Revision, RevisionSource, WarcExport, current_of
from ..store import Store
from .walk import articles_with_revisions
from ..warc import kept_files, read_records, warc_date, warcinfo, writer_for

__all__ = ["EXPORT_FORMAT", "METADATA_TYPE", "WarcExport", "export_warc", "surt"]

#: The ``format`` field of an export's ``warcinfo`` record.
EXPORT_FORMAT = "tidings archive export 1"
METADATA_TYPE = "application/vnd.tidings.revision+json"
#: How long before a revision extracted from a page the page's kept response may be.
_PAGE_WINDOW = timedelta(minutes=10)


def surt(url: str) -> str:
    """The SURT form of a URL that CDX indexes sort by (``com,example)/path?a=1``)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    key = ",".join(reversed(host.split("."))) if host else ""  # addresses too, as pywb's keys do
    port = parts.port
    if port and port not in (80, 443):
        key += f":{port}"
    path = parts.path or "/"
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return (key + ")" + path + (f"?{query}" if query else "")).lower()


def _timestamp(date: str) -> str:
    return "".join(ch for ch in date if ch.isdigit())[:14]


class _Index:
    """CDXJ lines of what was written, sorted at the end."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.lines: list[str] = []

    def add(self, record: Any, offset: int, length: int) -> None:
        kind = record.rec_type
        if kind not in ("response", "revisit", "resource"):
            return
        headers = record.rec_headers
        url = headers.get_header("WARC-Target-URI") or ""
        fields: dict[str, str] = {"url": url}
        if kind == "revisit":
            fields["mime"] = "warc/revisit"
        elif record.http_headers is not None:
            fields["mime"] = (record.http_headers.get_header("Content-Type") or "unk").split(";")[0].strip()
        else:
            fields["mime"] = (headers.get_header("Content-Type") or "unk").split(";")[0].strip()
        if record.http_headers is not None:
            fields["status"] = record.http_headers.get_statuscode()
        digest = headers.get_header("WARC-Payload-Digest")
        if digest:
            fields["digest"] = digest.split(":", 1)[-1]
        fields.update(length=str(length), offset=str(offset), filename=self.filename)
        stamp = _timestamp(headers.get_header("WARC-Date") or "")
        self.lines.append(f"{surt(url)} {stamp} {json.dumps(fields, ensure_ascii=False)}")

    def write(self, out: IO[str]) -> None:
        for line in sorted(self.lines):
            out.write(line + "\n")


class _Out:
    """The export file: records written with their offsets and lengths indexed."""

    def __init__(self, handle: IO[bytes], index: _Index) -> None:
        self.handle = handle
        self.writer = writer_for(handle)
        self.index = index

    def write(self, record: Any) -> None:
        offset = self.handle.tell()
        self.writer.write_record(record)
        self.index.add(record, offset, self.handle.tell() - offset)

    def copy(self, source: IO[bytes], offset: int, length: int, record: Any) -> None:
        source.seek(offset)
        start = self.handle.tell()
        remaining = length
        while remaining:
            chunk = source.read(min(remaining, 1 << 20))
            if not chunk:
                raise OSError(f"{getattr(source, 'name', 'WARC file')}: shorter than its records")
            self.handle.write(chunk)
            remaining -= len(chunk)
        self.index.add(record, start, length)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _metadata(article: Article, revision: Revision, current: bool, feed_url: str | None) -> dict[str, Any]:
    return {
        "tidings": 1,
        "article": {
            "id": article.id,
            "site": article.site,
            "key": article.key,
            "url": article.url,
            "published": _iso(article.published),
            "first_seen": _iso(article.first_seen),
            "last_seen": _iso(article.last_seen),
            "state": article.state.value,
            "state_since": _iso(article.state_since),
            "feed": feed_url,
        },
        "revision": {
            "id": revision.id,
            "seen": _iso(revision.seen),
            "title": revision.title,
            "author": revision.author,
            "summary": revision.summary,
            "source": revision.source.value,
            "enclosures": list(revision.enclosures),
            "language": revision.language,
            "content_hash": revision.content_hash,
            "current": current,
        },
    }


def export_warc(
    store: Store, folder: Path | None, out: IO[bytes], index: IO[str], *, filename: str, site: str | None = None
) -> WarcExport:
    """Write the archive (or one site) as WARC records to ``out`` and its CDXJ index to
    ``index``; ``folder`` is the WARC folder of kept exchanges (None: none are kept)."""
    cdx = _Index(filename)
    target = _Out(out, cdx)
    target.write(
        warcinfo(target.writer, filename, {"format": EXPORT_FORMAT, "description": "articles and revisions of a tidings archive"})
    )
    pages: dict[str, list[tuple[str, str]]] = defaultdict(list)
    copied = 0
    for path in kept_files(folder) if folder is not None and site is None else []:
        with open(path, "rb") as source:
            for offset, length, record in read_records(path):
                if record.rec_type == "warcinfo":
                    continue
                target.copy(source, offset, length, record)
                copied += 1
                headers = record.rec_headers
                if (
                    record.rec_type == "response"
                    and record.http_headers is not None
                    and record.http_headers.get_statuscode() == "200"
                    and not headers.get_header("WARC-Truncated")
                ):
                    pages[headers.get_header("WARC-Target-URI")].append(
                        (headers.get_header("WARC-Date"), headers.get_header("WARC-Record-ID"))
                    )
    feeds = {feed.id: feed.url for feed in store.feeds()}
    resources = linked = 0
    for article, own in articles_with_revisions(store, site):
        current = current_of(article, own)
        feed_url = feeds.get(article.feed_id) if article.feed_id is not None else None
        for revision in own:
            meta = _metadata(article, revision, revision is current, feed_url)
            date = warc_date(revision.seen)
            page = _kept_page(pages.get(article.url, ()), revision) if revision.source is RevisionSource.EXTRACTED else None
            if page is None:
                body = revision.content_html.encode("utf-8", "surrogatepass")
                resource = target.writer.create_warc_record(
                    article.url, "resource", payload=BytesIO(body), length=len(body),
                    warc_content_type="text/html; charset=utf-8", warc_headers_dict={"WARC-Date": date},
                )
                target.write(resource)
                refers = resource.rec_headers.get_header("WARC-Record-ID")
                resources += 1
            else:
                refers = page
                meta["content_html"] = revision.content_html
                linked += 1
            data = json.dumps(meta, ensure_ascii=False).encode("utf-8", "surrogatepass")
            target.write(
                target.writer.create_warc_record(
                    article.url, "metadata", payload=BytesIO(data), length=len(data),
                    warc_content_type=METADATA_TYPE,
                    warc_headers_dict={"WARC-Date": date, "WARC-Refers-To": refers},
                )
            )
    cdx.write(index)
    return WarcExport(copied=copied, resources=resources, linked=linked, indexed=len(cdx.lines))


def _kept_page(captures: Any, revision: Revision) -> str | None:
    """The record id of the kept response of the page this revision was extracted from:
    the newest at the article's URL no later than the revision, within a few minutes."""
    seen = warc_date(revision.seen)
    earliest = warc_date(revision.seen - _PAGE_WINDOW)
    best = None
    for date, record_id in captures:
        if earliest <= date <= seen and (best is None or date >= best[0]):
            best = (date, record_id)
    return best[1] if best is not None else None
