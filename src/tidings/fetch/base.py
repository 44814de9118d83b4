"""What every retriever returns."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAX_BODY_BYTES", "Response"]

#: Largest body (after decompression) tidings reads from anywhere.
MAX_BODY_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Response:
    """A retrieved document."""

    url: str
    content: bytes
    status: int | None = None
    content_type: str | None = None
    content_language: str | None = None
    content_location: str | None = None
