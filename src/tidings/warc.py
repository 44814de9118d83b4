"""Keeping HTTP exchanges as WARC records, in rolling, size-bounded ``.warc.gz`` files.

With ``keep_responses`` on (for the archive or for a feed), every hop of every fetch made
for a feed (its document, its article pages, its images) becomes a ``request`` record and
a ``response`` record (a ``revisit`` record with the server-not-modified profile for a
304), each a gzip member of a file in the WARC folder beside the database
(``news.sqlite3`` → ``news.warc/``). Files are written by warcio and read by any WARC tool.

A file being written is named ``tidings-<UTC time>-<pid>-<n>.warc.gz.open`` and held with
an exclusive ``flock``; it gets its final name once it reaches the size bound (or its
process closes it). A file left ``.open`` by a process that died (kill -9, power loss) is
cut back to its last whole record and renamed by the next process that keeps exchanges:
every record handed to the operating system survives a kill, and no reader ever meets a
torn record.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from .fetch.base import Exchange
from .version import __version__

__all__ = [
    "DEFAULT_MAX_BYTES",
    "WarcKeeper",
    "kept_files",
    "read_records",
    "recover",
    "warc_date",
    "warc_folder_for",
    "warcinfo",
    "writer_for",
]

log = logging.getLogger(__name__)

#: Size after which a file is closed and the next one begun.
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
SUFFIX = ".warc.gz"
OPEN = ".open"
SOFTWARE = f"tidings/{__version__}"
NOT_MODIFIED = "http://netpreserve.org/warc/1.0/revisit/server-not-modified"
#: How many URLs' latest response a keeper remembers for the revisits of 304s.
_REMEMBERED = 10_000


def warc_folder_for(database: Path) -> Path:
    """The WARC folder of an archive: beside its database, named after it."""
    return database.with_name(database.stem + ".warc")


def warc_date(moment: datetime) -> str:
    """A WARC-Date (WARC 1.0: UTC to the second)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def writer_for(handle: IO[bytes]) -> Any:
    """A warcio writer of gzip members (one per record) onto ``handle``."""
    from warcio.warcwriter import WARCWriter

    return WARCWriter(handle, gzip=True)


def warcinfo(writer: Any, filename: str, fields: dict[str, str]) -> Any:
    """The record that opens a file: which software wrote it, and why."""
    return writer.create_warcinfo_record(
        filename, {"software": SOFTWARE, "hostname": socket.gethostname(), **fields}
    )


def read_records(path: Path) -> Iterator[tuple[int, int, Any]]:
    """Each whole record of a WARC file with its offset and length; stops quietly at a
    torn end (a file a killed process left)."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    with open(path, "rb") as handle:
        records = ArchiveIterator(handle, no_record_parse=False)
        try:
            for record in records:
                offset = records.get_record_offset()
                records.read_to_end(record)
                yield offset, records.get_record_length(), record
        except (ArchiveLoadFailed, EOFError, OSError, ValueError) as exc:
            log.warning("%s: stopped at a torn record (%s)", path.name, type(exc).__name__)


def kept_files(folder: Path) -> list[Path]:
    """The WARC files of a folder, oldest first (the one being written last)."""
    if not folder.is_dir():
        return []
    return sorted(
        (p for p in folder.iterdir() if p.name.endswith((SUFFIX, SUFFIX + OPEN)) and p.is_file()),
        key=lambda p: p.name,
    )


def recover(folder: Path) -> list[Path]:
    """Close the files that processes which ended left open: cut each back to its last
    whole record and give it its final name. Files still held by a live process are left
    alone. Returns the files closed."""
    closed: list[Path] = []
    if not folder.is_dir():
        return closed
    for path in sorted(folder.glob("*" + SUFFIX + OPEN)):
        try:
            handle = open(path, "r+b")
        except OSError:
            continue
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its writer is alive
            end = 0
            for offset, length, _record in read_records(path):
                end = offset + length
            handle.truncate(end)
            handle.flush()
            os.fsync(handle.fileno())
            final = path.with_name(path.name[: -len(OPEN)])
            if end:
                os.replace(path, final)
                closed.append(final)
            else:
                path.unlink()
    return closed


class WarcKeeper:
    """Keeps exchanges as WARC records (a :class:`~tidings.fetch.base.Recorder`).

    ``keeps`` says which feeds' fetches are kept. Records are written in the thread that
    hands them over (a lock orders them); each exchange's records are flushed to the
    operating system before :meth:`record` returns.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        keeps: Callable[[int | None], bool],
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.folder = Path(folder)
        self.max_bytes = max(1, max_bytes)
        self._keeps = keeps
        self._lock = threading.Lock()
        self._handle: IO[bytes] | None = None
        self._path: Path | None = None
        self._writer: Any = None
        self._count = 0
        self._recovered = False
        self._responses: OrderedDict[str, tuple[str, str]] = OrderedDict()

    def keeps(self, feed_id: int | None) -> bool:
        return self._keeps(feed_id)

    def policy(self, keeps: Callable[[int | None], bool]) -> None:
        """Change which feeds' exchanges are kept (their options may have changed)."""
        self._keeps = keeps

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            writer = self._current()
            assert self._handle is not None
            for record in self._records(writer, exchange):
                writer.write_record(record)
            self._handle.flush()
            if self._handle.tell() >= self.max_bytes:
                self._close()

    def close(self) -> None:
        with self._lock:
            self._close()

    def __enter__(self) -> WarcKeeper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _current(self) -> Any:
        if self._writer is not None:
            return self._writer
        if not self._recovered:
            self.folder.mkdir(parents=True, exist_ok=True)
            recover(self.folder)
            self._recovered = True
        self._count += 1
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
        name = f"tidings-{stamp}-{os.getpid()}-{self._count}{SUFFIX}"
        path = self.folder / (name + OPEN)
        handle = open(path, "xb")
        fcntl.flock(handle, fcntl.LOCK_EX)
        self._handle, self._path = handle, path
        self._writer = writer_for(handle)
        self._writer.write_record(
            warcinfo(self._writer, name, {"format": "WARC File Format 1.0", "description": "HTTP exchanges kept by tidings"})
        )
        return self._writer

    def _close(self) -> None:
        if self._handle is None or self._path is None:
            return
        self._handle.flush()
        os.fsync(self._handle.fileno())
        os.replace(self._path, self._path.with_name(self._path.name[: -len(OPEN)]))
        self._handle.close()  # releases the lock after the rename: no one sees it half-named
        self._handle = self._path = self._writer = None

    def _records(self, writer: Any, exchange: Exchange) -> list[Any]:
        from warcio.statusandheaders import StatusAndHeaders

        date = warc_date(exchange.started)
        headers = {"WARC-Date": date}
        if exchange.address:
            headers["WARC-IP-Address"] = exchange.address
        http_headers = StatusAndHeaders(
            f"{exchange.status} {exchange.reason}",
            list(exchange.response_headers),
            protocol=exchange.http_version or "HTTP/1.1",
        )
        if exchange.status == 304:
            known = self._responses.get(exchange.url)
            headers["WARC-Profile"] = NOT_MODIFIED
            if known is not None:
                headers["WARC-Refers-To"], headers["WARC-Refers-To-Date"] = known
                headers["WARC-Refers-To-Target-URI"] = exchange.url
            answer = writer.create_warc_record(
                exchange.url, "revisit", payload=BytesIO(b""), length=0,
                http_headers=http_headers, warc_headers_dict=headers,
            )
        else:
            if exchange.truncated:
                headers["WARC-Truncated"] = exchange.truncated
            answer = writer.create_warc_record(
                exchange.url, "response", payload=BytesIO(exchange.body), length=len(exchange.body),
                http_headers=http_headers, warc_headers_dict=headers,
            )
            if exchange.status == 200 and not exchange.truncated:
                self._responses[exchange.url] = (answer.rec_headers.get_header("WARC-Record-ID"), date)
                self._responses.move_to_end(exchange.url)
                while len(self._responses) > _REMEMBERED:
                    self._responses.popitem(last=False)
        parts = urlsplit(exchange.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request = writer.create_warc_record(
            exchange.url, "request", payload=BytesIO(b""), length=0,
            http_headers=StatusAndHeaders(
                f"GET {target} {exchange.http_version or 'HTTP/1.1'}",
                list(exchange.request_headers),
                is_http_request=True,
            ),
            warc_headers_dict={
                "WARC-Date": date,
                "WARC-Concurrent-To": answer.rec_headers.get_header("WARC-Record-ID"),
            },
        )
        return [request, answer]
