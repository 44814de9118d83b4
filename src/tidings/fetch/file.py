"""Local files: plain paths and ``file://`` URLs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import FetchError
from .base import Response

__all__ = ["fetch_file", "is_local"]


def is_local(source: str) -> bool:
    """Whether a source names a local file rather than a network URL."""
    scheme = urlsplit(source).scheme.lower()
    return scheme in ("", "file") or (len(scheme) == 1 and source[1:3] in (":\\", ":/"))


def _path(source: str) -> Path:
    parts = urlsplit(source)
    if parts.scheme.lower() == "file":
        return Path(unquote(parts.path))
    return Path(source)


def fetch_file(source: str, *, max_bytes: int) -> Response:
    """Read a local file, refusing one larger than ``max_bytes``."""
    path = _path(source)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FetchError("too_large", f"{path} is {size} bytes, over the limit of {max_bytes}")
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise FetchError("not_found", f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise FetchError("not_found", f"{path} is a folder, not a file") from exc
    except OSError as exc:
        raise FetchError("io", f"{path}: {exc.strerror or exc}") from exc
    return Response(url=path.resolve().as_uri(), content=data)
