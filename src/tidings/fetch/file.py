"""Local files: plain paths and ``file://`` URLs.

A file's modification time and size serve as its ETag, so an unchanged
file is "not modified" on the next update, as an unchanged feed is over HTTP.
"""

from __future__ import annotations

from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import FetchError
from .base import Response

__all__ = ["fetch_file", "file_path", "is_local"]


def is_local(source: str) -> bool:
    """Whether a source names a local file rather than a network URL."""
    scheme = urlsplit(source).scheme.lower()
    return scheme in ("", "file") or (len(scheme) == 1 and source[1:3] in (":\\", ":/"))


def file_path(source: str) -> Path:
    """The path a local source names (a ``file://`` URL is un-escaped)."""
    parts = urlsplit(source)
    if parts.scheme.lower() == "file":
        return Path(unquote(parts.path))
    return Path(source)


def fetch_file(source: str, *, max_bytes: int, etag: str | None = None) -> Response:
    """Read a local file, refusing one larger than ``max_bytes``."""
    path = file_path(source)
    try:
        stat = path.stat()
        if stat.st_size > max_bytes:
            raise FetchError(
                "too_large", f"{path} is {stat.st_size} bytes, over the limit of {max_bytes}"
            )
        modified = formatdate(stat.st_mtime, usegmt=True)
        validator = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        url = path.resolve().as_uri()
        if etag is not None and etag == validator:
            return Response(url=url, status=304, not_modified=True, etag=validator)
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise FetchError("not_found", f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise FetchError("not_found", f"{path} is a folder, not a file") from exc
    except OSError as exc:
        raise FetchError("io", f"{path}: {exc.strerror or exc}") from exc
    return Response(
        url=url,
        content=data,
        status=200,
        etag=validator,
        last_modified=modified,
        received_bytes=len(data),
    )
