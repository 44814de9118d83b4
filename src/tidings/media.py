"""Archived images: which images a revision uses, what an image file really is, and the
folder that keeps each file once, by its SHA-256.

* :func:`image_urls` reads the image addresses of a revision's clean HTML (``img`` ``src``
  and ``srcset``, ``picture`` sources; lazy-loading attributes were promoted by cleaning)
  and its image enclosures;
* :func:`sniff_image` says what raster format bytes are in by their content, never by
  what a server claimed: JPEG, PNG, GIF, WebP, AVIF, BMP. Anything else (SVG, which is
  markup and can carry script, an HTML page served as ``image/png``) is refused;
* :class:`LocalMedia` keeps files content-addressed (``ab/abcdef…``) in a folder beside the
  database, written once (a temporary file renamed into place), so the same bytes are
  never stored twice, whatever article or site they came from. :class:`MediaStorage`
  is the small interface another storage (a shared folder, a bucket) implements.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

__all__ = [
    "EXTENSIONS", "MAX_IMAGE_BYTES", "MAX_IMAGES_PER_REVISION", "LocalMedia", "MediaStorage", "image_urls",
    "media_folder_for", "refusal_of", "sniff_image", "tag_image_urls",
]

#: The largest image kept (bytes); larger ones are refused.
MAX_IMAGE_BYTES = 8 << 20
#: At most this many images of one revision are archived.
MAX_IMAGES_PER_REVISION = 40
#: File name extension of each kept type (for published mirrors).
EXTENSIONS = {
    "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp", "image/avif": "avif",
    "image/bmp": "bmp",
}

_IMG = re.compile(r"<(img|source)\b([^>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r'\s(src|srcset)="([^"]*)"', re.IGNORECASE)


def _srcset_urls(value: str) -> list[str]:
    urls = []
    for candidate in value.split(","):
        parts = candidate.strip().split()
        if parts:
            urls.append(parts[0])
    return urls


def tag_image_urls(tag: str) -> list[str]:
    """The addresses an ``img`` or ``source`` tag of clean HTML names (``src``, then each
    ``srcset`` candidate), unescaped, in order."""
    found: list[str] = []
    for name, value in _ATTRIBUTE.findall(tag):
        value = html.unescape(value)
        found.extend(_srcset_urls(value) if name.lower() == "srcset" else [value.strip()])
    return found


def image_urls(clean_html: str, enclosures: Iterable[Mapping[str, object]] = ()) -> list[str]:
    """The http(s) addresses of the images a revision shows, in order, each once.

    ``clean_html`` is the sanitiser's output (attributes double-quoted and escaped, URLs
    absolute); ``enclosures`` add those whose type or medium says image.
    """
    found: list[str] = []
    for match in _IMG.finditer(clean_html):
        found.extend(tag_image_urls(match.group(0)))
    for enclosure in enclosures:
        kind = str(enclosure.get("type") or "")
        medium = str(enclosure.get("medium") or "")
        url = enclosure.get("url")
        if isinstance(url, str) and (kind.startswith("image/") or medium == "image"):
            found.append(url.strip())
    urls = [u for u in dict.fromkeys(found) if urlsplit(u).scheme in ("http", "https") and len(u) <= 2048]
    return urls[:MAX_IMAGES_PER_REVISION]


def sniff_image(data: bytes) -> str | None:
    """The raster image type of ``data`` by its first bytes, or None when it is none."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "image/avif"
    if data.startswith(b"BM") and len(data) >= 26:
        return "image/bmp"
    return None


def refusal_of(data: bytes) -> str:
    """Why bytes that are not a raster image are refused, naming what they look like."""
    head = data[:512].lstrip().lower()
    if b"<svg" in head or (head.startswith(b"<?xml") and b"svg" in head):
        return "an SVG image (markup, not kept)"
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head or b"<head" in head:
        return "an HTML page, not an image"
    if not data:
        return "an empty body"
    return "not an image of a kept raster type (JPEG, PNG, GIF, WebP, AVIF, BMP)"


def media_folder_for(database: str | os.PathLike[str]) -> Path:
    """The media folder beside a database file: ``news.sqlite3`` → ``news.media/``."""
    path = Path(database)
    return path.with_name(f"{path.stem}.media")


class MediaStorage(Protocol):
    """Where archived image files are kept, by the hex SHA-256 of their bytes."""

    def put(self, data: bytes) -> tuple[str, bool]:
        """Keep ``data``; its SHA-256 and whether it was new."""

    def read(self, sha256: str) -> bytes | None:
        """The bytes kept under ``sha256``, or None."""

    def has(self, sha256: str) -> bool:
        """Whether a file is kept under ``sha256``."""

    def remove(self, sha256: str) -> int:
        """Remove the file kept under ``sha256``; the bytes freed."""

    def files(self) -> Iterator[tuple[str, int]]:
        """Every kept file: (SHA-256, size)."""

    def age(self, sha256: str) -> float | None:
        """Seconds since the file kept under ``sha256`` was written; None if there is none."""

    def sweep(self, older_than: float) -> tuple[int, int]:
        """Remove what interrupted writes left (older than ``older_than`` seconds, so that
        no write in progress is touched); (files, bytes) removed."""


_HEX = re.compile(r"[0-9a-f]{64}")
_TEMPORARY = re.compile(r"\.[0-9a-f]{16}\.tmp")


class LocalMedia:
    """Media files in a local (or shared) folder: ``<folder>/<2 hex>/<64 hex>``."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def path(self, sha256: str) -> Path:
        if not _HEX.fullmatch(sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.folder / sha256[:2] / sha256

    def put(self, data: bytes) -> tuple[str, bool]:
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256)
        if target.is_file() and target.stat().st_size == len(data):
            return sha256, False
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{secrets.token_hex(8)}.tmp")
        with open(temporary, "xb") as handle:
            handle.write(data)
        os.replace(temporary, target)
        return sha256, True

    def read(self, sha256: str) -> bytes | None:
        try:
            return self.path(sha256).read_bytes()
        except (OSError, ValueError):
            return None

    def has(self, sha256: str) -> bool:
        try:
            return self.path(sha256).is_file()
        except ValueError:
            return False

    def remove(self, sha256: str) -> int:
        target = self.path(sha256)
        try:
            size = target.stat().st_size
            target.unlink()
        except FileNotFoundError:
            return 0
        return size

    def files(self) -> Iterator[tuple[str, int]]:
        for entry in self._entries():
            if _HEX.fullmatch(entry.name) and entry.is_file():
                yield entry.name, entry.stat().st_size

    def age(self, sha256: str) -> float | None:
        try:
            return max(0.0, time.time() - self.path(sha256).stat().st_mtime)
        except (OSError, ValueError):
            return None

    def sweep(self, older_than: float) -> tuple[int, int]:
        removed = freed = 0
        now = time.time()
        for entry in self._entries():
            if not _TEMPORARY.fullmatch(entry.name):
                continue
            try:
                status = entry.stat()
                if now - status.st_mtime >= older_than:
                    entry.unlink()
                    removed, freed = removed + 1, freed + status.st_size
            except FileNotFoundError:
                continue  # its writer finished or another sweep took it
        return removed, freed

    def _entries(self) -> Iterator[Path]:
        if not self.folder.is_dir():
            return
        for bucket in sorted(self.folder.iterdir()):
            if bucket.is_dir() and len(bucket.name) == 2:
                yield from sorted(bucket.iterdir())

