"""Content-Encoding decoders that stop at a size bound: no gzip bomb gets through.

Each call to :meth:`BoundedDecoder.feed` inflates at most the bytes still
allowed (plus one, to notice the excess), so memory stays bounded however
well the input compresses.
"""

from __future__ import annotations

import zlib
from typing import Any

from ..errors import FetchError

try:  # brotli is optional: without it tidings does not ask for br
    import brotli  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - brotli is in the pinned dependencies
    brotli = None

__all__ = ["ACCEPT_ENCODING", "BoundedDecoder"]

ACCEPT_ENCODING = "gzip, deflate, br" if brotli is not None else "gzip, deflate"


class BoundedDecoder:
    """Decode one response body, refusing more than ``limit`` decoded bytes."""

    def __init__(self, encoding: str | None, limit: int, url: str) -> None:
        self.encoding = (encoding or "identity").strip().lower()
        self.limit = limit
        self.url = url
        self.size = 0
        self._zlib: Any = None
        self._brotli: Any = None
        self._head = b""  # the first byte of a deflate body, until the second arrives
        if self.encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.encoding == "deflate":
            self._zlib = None  # zlib-wrapped or raw: decided on the first bytes
        elif self.encoding == "br":
            if brotli is None:
                raise FetchError("decoding", f"{url}: brotli-compressed body, and brotli is not installed")
            self._brotli = brotli.Decompressor()
        elif self.encoding not in ("identity", ""):
            raise FetchError("decoding", f"{url}: unsupported Content-Encoding {self.encoding!r}")

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.limit:
            raise FetchError(
                "too_large", f"{self.url}: body over {self.limit} bytes after decompression"
            )
        return data

    def _room(self) -> int:
        return self.limit - self.size + 1

    def feed(self, chunk: bytes) -> bytes:
        """Decoded bytes for one chunk of the body as received."""
        if not chunk:
            return b""
        try:
            if self.encoding == "deflate" and self._zlib is None:
                # RFC 9110 deflate is zlib-wrapped, but servers often send raw deflate:
                # the first two bytes tell, so wait for them.
                chunk = self._head + chunk
                if len(chunk) < 2:
                    self._head = chunk
                    return b""
                self._head = b""
                wrapped = (chunk[0] & 0x0F) == 8 and (chunk[0] << 8 | chunk[1]) % 31 == 0
                self._zlib = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            if self._zlib is not None:
                return self._inflate(chunk)
            if self._brotli is not None:
                out = [self._count(self._brotli.process(chunk, output_buffer_limit=self._room()))]
                while not self._brotli.can_accept_more_data():
                    out.append(self._count(self._brotli.process(b"", output_buffer_limit=self._room())))
                return b"".join(out)
        except (zlib.error, ValueError) as exc:
            raise FetchError("decoding", f"{self.url}: corrupt {self.encoding} body ({exc})") from exc
        except Exception as exc:
            if brotli is not None and isinstance(exc, brotli.error):
                raise FetchError("decoding", f"{self.url}: corrupt br body ({exc})") from exc
            raise
        return self._count(chunk)

    def _inflate(self, chunk: bytes) -> bytes:
        out = []
        data = chunk
        while data:
            out.append(self._count(self._zlib.decompress(data, self._room())))
            data = self._zlib.unconsumed_tail
            if self._zlib.eof and self._zlib.unused_data and self.encoding in ("gzip", "x-gzip"):
                # Another gzip member follows.
                data = self._zlib.unused_data
                self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return b"".join(out)

    def flush(self) -> bytes:
        """What remains at the end of the body."""
        start = b""
        try:
            if self._head:
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                head, self._head = self._head, b""
                start = self._inflate(head)
            if self._zlib is not None:
                return start + self._count(self._zlib.flush())
        except zlib.error as exc:
            raise FetchError("decoding", f"{self.url}: corrupt body ({exc})") from exc
        return start
