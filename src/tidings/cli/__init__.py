"""The ``tidings`` command: each command is about one Archive call.

The group and what commands share live in :mod:`.base`; the commands, by
concern, in :mod:`.documents`, :mod:`.reading`, :mod:`.feeds`, :mod:`.publishing` and :mod:`.serving`. Heavy
libraries (httpx, trafilatura, uvicorn) load only in the commands that use
them, so that ``tidings --help``, ``stats``, ``feeds`` and ``search`` start fast.
"""

from __future__ import annotations

from ..records import feed_record
from . import documents, feeds, publishing, reading, serving  # noqa: F401  (each module registers its commands)
from .base import cli
from .reading import entry_json, feed_json

__all__ = ["cli", "entry_json", "feed_json", "feed_record", "main"]


def main() -> None:
    """Entry point of the ``tidings`` command."""
    cli(prog_name="tidings")
