"""The files of a published mirror: written only when their bytes change, never through a
link, and remembered by what they were made from.

Every write goes through :class:`~tidings.export.safe_files.SafeFolder` (no link under the
mirror is followed; each file is replaced by a rename, so a reader or a crash sees the old
file or the new one). The *manifest* records, for each page, a digest of what it was
rendered from; a page whose digest has not changed and whose file is still there is not
rendered again, which is what makes publishing into a large mirror fast. It is kept in
``.tidings/`` in small shards, one per folder (articles by thousands of ids), so one publish
rewrites only the shards of the pages it touched (a mirror kept in git does not churn), and it travels with a clone: publishing
from another machine continues where the last publish stopped.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path

from ..errors import ExportTargetError
from ..export.safe_files import SafeFolder

__all__ = ["MANIFEST_FOLDER", "Mirror", "digest"]

#: Where the manifest lives in a mirror.
MANIFEST_FOLDER = ".tidings"
_MANIFEST_VERSION = 1
_SHARD_LIMIT = 64 << 20


def digest(*parts: object) -> str:
    """A short stable digest of ``parts`` (strings, numbers, None, booleans, and tuples and
    lists of them, whose ``repr`` is the same in every run)."""
    return hashlib.blake2b(repr(parts).encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


_NUMBERED = re.compile(r"\d+")
_BY_THOUSANDS = frozenset({"article", "diff"})


def _shard(path: str) -> str:
    """The manifest shard of a page: its folder, and for articles and differences also its
    id in thousands, so that new articles (whose ids grow) touch one or two shards."""
    folder, _, name = path.rpartition("/")
    key = folder.replace("/", "~") or "top"
    number = _NUMBERED.match(name)
    if folder in _BY_THOUSANDS and number:
        key += f"-{int(number.group()) // 1000}"
    return key


class Mirror:
    """The mirror's folder: writes files by path (``a/b/c.html``) and keeps the manifest."""

    def __init__(self, root: SafeFolder) -> None:
        self.root = root
        #: What every page depends on (templates, settings); a shard written under another
        #: salt names no current page, though its digests still tell what changed.
        self.salt = ""
        self.written: list[str] = []
        self.unchanged = 0
        self._folders: dict[str, SafeFolder] = {"": root}
        self._listed: dict[str, dict[str, str]] = {}
        self._manifest: dict[str, dict[str, str]] = {}
        self._stale: set[str] = set()
        self._dirty: set[str] = set()

    @classmethod
    def open(cls, out: Path) -> Mirror:
        """The mirror at ``out``, made if needed and locked against another publish into it."""
        if out.exists() and not out.is_dir():
            raise ExportTargetError(f"{out} exists and is not a folder")
        root = SafeFolder.open_root(out, create=not out.is_dir())
        try:
            fcntl.flock(root.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            root.close()
            raise ExportTargetError(f"{out}: another publish is writing into it") from None
        return cls(root)

    @property
    def path(self) -> Path:
        return self.root.path

    def close(self) -> None:
        for name, folder in self._folders.items():
            if name:
                folder.close()
        self._folders.clear()
        self.root.close()

    def folder(self, path: str) -> SafeFolder:
        """The folder at ``path`` (``""`` for the root), made if needed."""
        found = self._folders.get(path)
        if found is None:
            parent, _, name = path.rpartition("/")
            found = self._folders[path] = self.folder(parent).folder(name, create=True)
        return found

    def listing(self, path: str) -> dict[str, str]:
        """What the folder at ``path`` holds (name: ``file`` or ``folder``), read once."""
        found = self._listed.get(path)
        if found is None:
            found = self._listed[path] = dict(self.folder(path).entries())
        return found

    def exists(self, path: str) -> bool:
        parent, _, name = path.rpartition("/")
        return self.listing(parent).get(name) == "file"

    def write(self, path: str, data: bytes) -> bool:
        """Write ``data`` at ``path`` unless the file holds it already; True when written."""
        parent, _, name = path.rpartition("/")
        listed = self._listed.get(parent)
        if listed is not None and name not in listed:
            self.folder(parent).write(name, data)  # known to be new: nothing to compare
            self.written.append(path)
            listed[name] = "file"
            return True
        if self.folder(parent).write_if_changed(name, data):
            self.written.append(path)
            if parent in self._listed:
                self._listed[parent][name] = "file"
            return True
        self.unchanged += 1
        return False

    def read(self, path: str, limit: int) -> bytes | None:
        parent, _, name = path.rpartition("/")
        if not self.exists(path):
            return None
        return self.folder(parent).read(name, limit=limit)

    def remove(self, path: str) -> None:
        parent, _, name = path.rpartition("/")
        self.folder(parent).remove(name)
        self.written.append(path)
        if parent in self._listed:
            self._listed[parent].pop(name, None)

    def files_under(self, path: str) -> Iterable[str]:
        """Every file below the folder at ``path``, as paths from the root."""
        for name, kind in sorted(self.listing(path).items()):
            child = f"{path}/{name}" if path else name
            if kind == "folder":
                yield from self.files_under(child)
            else:
                yield child

    # the manifest

    def _shard_of(self, path: str) -> dict[str, str]:
        key = _shard(path)
        shard = self._manifest.get(key)
        if shard is None:
            shard = self._manifest[key] = self._read_shard(key)
        return shard

    def _read_shard(self, key: str) -> dict[str, str]:
        data = self.read(f"{MANIFEST_FOLDER}/{key}.json", _SHARD_LIMIT)
        if not data:
            return {}
        try:
            loaded = json.loads(data)
        except ValueError:
            return {}  # damaged: every page it named is rendered again
        if not isinstance(loaded, dict) or loaded.get("version") != _MANIFEST_VERSION:
            return {}
        if loaded.get("salt") != self.salt:
            self._stale.add(key)
        pages = loaded.get("pages")
        return {k: v for k, v in pages.items() if isinstance(v, str)} if isinstance(pages, dict) else {}

    def is_current(self, path: str, page_digest: str) -> bool:
        """Whether the file at ``path`` was made from what ``page_digest`` stands for, by
        the same templates and settings."""
        return self.made_from(path, page_digest) and _shard(path) not in self._stale and self.exists(path)

    def made_from(self, path: str, page_digest: str) -> bool:
        """Whether the page at ``path`` was last made from what ``page_digest`` stands for."""
        return self._shard_of(path).get(path) == page_digest

    def remember(self, path: str, page_digest: str) -> None:
        shard = self._shard_of(path)
        key = _shard(path)
        if shard.get(path) != page_digest or key in self._stale:
            shard[path] = page_digest
            self._dirty.add(key)

    def save_manifest(self) -> None:
        for key in sorted(self._dirty):
            pages = dict(sorted(self._manifest[key].items()))
            text = json.dumps(
                {"version": _MANIFEST_VERSION, "salt": self.salt, "pages": pages}, ensure_ascii=False, indent=0
            )
            self.write(f"{MANIFEST_FOLDER}/{key}.json", text.encode("utf-8") + b"\n")
        self._dirty.clear()
        self._stale.clear()
