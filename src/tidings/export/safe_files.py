"""Reading and writing files inside a destination folder without ever following a link.

Exports (and mirrors published the same way) write into folders that other
people and programs have touched. Below the destination, every name is looked
up in an open descriptor of its parent folder with ``O_NOFOLLOW``, so a
symbolic link is never followed, whether it was there before the export began
or appeared while it ran: it is refused with an
:class:`~tidings.errors.ExportTargetError` that names it. Only regular files
are read, and never more than the caller's limit, whatever their size claims.

A file is written to a new name that nobody can predict, created exclusively
(``O_CREAT | O_EXCL | O_NOFOLLOW``), then renamed over the old one: a link
planted at any name is never written through, and a reader sees the old file
or the new one, never half of one.

The destination folder itself is the user's own choice: it is resolved once
(it may be a link the user named) and everything under it is checked.
This needs the ``*at`` system calls of POSIX systems (Linux, macOS, BSD).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path
from types import TracebackType
from typing import Literal

from ..document import read_bounded
from ..errors import ExportTargetError

__all__ = ["Kind", "SafeFolder"]

#: What a name in a folder is: nothing, a regular file or a folder (anything else is refused).
Kind = Literal["missing", "file", "folder"]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW
_READ_FLAGS = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0)
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
# os.replace takes the same descriptors as os.rename, which is the one listed.
_AT_CALLS = {os.open, os.stat, os.mkdir, os.rename, os.unlink}
_SUPPORTED = bool(_NOFOLLOW) and _AT_CALLS <= os.supports_dir_fd
# errno values an O_NOFOLLOW open gives for a link (FreeBSD says EMLINK).
_LINK_ERRNOS = {errno.ELOOP, errno.EMLINK}


class SafeFolder:
    """An open folder under the destination, whose entries are used without following links.

    ``path`` is where it is, for messages and reports; every operation goes
    through the descriptor. Close it (or use it as a context manager) when done.
    """

    __slots__ = ("_fd", "path")

    def __init__(self, fd: int, path: Path) -> None:
        self._fd = fd
        self.path = path

    @classmethod
    def open_root(cls, path: Path, *, create: bool = False) -> SafeFolder:
        """The destination folder the user named, resolved once; made (with parents) if asked."""
        if not _SUPPORTED:
            raise ExportTargetError(
                f"{path}: writing safely needs O_NOFOLLOW and the *at system calls (a POSIX system)"
            )
        try:
            if create:
                path.mkdir(parents=True, exist_ok=True)
            resolved = path.resolve(strict=True)
            fd = os.open(resolved, _FOLDER_FLAGS)
        except NotADirectoryError as exc:
            raise ExportTargetError(f"{path} exists and is not a folder") from exc
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ExportTargetError(f"{path}: cannot use it as a folder: {reason}") from exc
        return cls(fd, resolved)

    def fileno(self) -> int:
        """The folder's descriptor (for a lock on it; closed with the folder)."""
        return self._fd

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> SafeFolder:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --------------------------------------------------------------------- looking

    def kind(self, name: str) -> Kind:
        """What ``name`` is in this folder; a link or a special file is refused."""
        try:
            mode = os.stat(name, dir_fd=self._fd, follow_symlinks=False).st_mode
        except FileNotFoundError:
            return "missing"
        except OSError as exc:
            raise self._error(name, exc) from exc
        if stat.S_ISREG(mode):
            return "file"
        if stat.S_ISDIR(mode):
            return "folder"
        if stat.S_ISLNK(mode):
            raise self._link(name)
        raise self._special(name)

    def expect(self, name: str, kind: Kind) -> bool:
        """Whether ``name`` exists here; refused unless it is a ``kind``."""
        found = self.kind(name)
        if found == "missing":
            return False
        if found != kind:
            raise ExportTargetError(f"{self.path / name} is a {found} where a {kind} belongs")
        return True

    def files(self, suffix: str) -> set[str]:
        """Names of the entries ending with ``suffix``; each must be a regular file."""
        names: set[str] = set()
        try:
            with os.scandir(self._fd) as entries:
                for entry in entries:
                    if not entry.name.endswith(suffix):
                        continue
                    if entry.is_symlink():
                        raise self._link(entry.name)
                    if not entry.is_file(follow_symlinks=False):
                        raise self._special(entry.name)
                    names.add(entry.name)
        except OSError as exc:
            raise ExportTargetError(f"{self.path}: cannot list it: {exc.strerror or exc}") from exc
        return names

    def entries(self) -> dict[str, Kind]:
        """Every entry of the folder by name: a regular file or a folder (anything else is refused)."""
        found: dict[str, Kind] = {}
        try:
            with os.scandir(self._fd) as entries:
                for entry in entries:
                    if entry.is_symlink():
                        raise self._link(entry.name)
                    if entry.is_dir(follow_symlinks=False):
                        found[entry.name] = "folder"
                    elif entry.is_file(follow_symlinks=False):
                        found[entry.name] = "file"
                    else:
                        raise self._special(entry.name)
        except OSError as exc:
            raise ExportTargetError(f"{self.path}: cannot list it: {exc.strerror or exc}") from exc
        return found

    def remove(self, name: str) -> None:
        """Remove the regular file ``name`` (a link is removed itself, never followed)."""
        try:
            os.unlink(name, dir_fd=self._fd)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise self._error(name, exc) from exc

    def folder(self, name: str, *, create: bool = False) -> SafeFolder:
        """Folder ``name`` in this one, opened without following a link; made first if asked."""
        if create:
            try:
                os.mkdir(name, dir_fd=self._fd)
            except FileExistsError:
                pass
            except OSError as exc:
                raise self._error(name, exc) from exc
        try:
            fd = os.open(name, _FOLDER_FLAGS, dir_fd=self._fd)
        except OSError as exc:
            raise self._error(name, exc) from exc
        return SafeFolder(fd, self.path / name)

    # --------------------------------------------------------------------- reading

    def read(self, name: str, *, limit: int) -> bytes | None:
        """The bytes of regular file ``name``, at most ``limit + 1`` of them; None if none."""
        fd = self._open_file(name)
        if fd is None:
            return None
        try:
            size = self._regular_size(fd, name)
            return read_bounded(fd, limit, size)
        except OSError as exc:
            raise self._error(name, exc) from exc
        finally:
            os.close(fd)

    def holds(self, name: str, data: bytes) -> bool:
        """Whether ``name`` is a regular file holding exactly ``data``."""
        fd = self._open_file(name)
        if fd is None:
            return False
        try:
            size = self._regular_size(fd, name)
            return size == len(data) and read_bounded(fd, len(data), size) == data
        except OSError as exc:
            raise self._error(name, exc) from exc
        finally:
            os.close(fd)

    # --------------------------------------------------------------------- writing

    def write(self, name: str, data: bytes) -> None:
        """Make ``name`` a regular file holding ``data``, atomically, via a fresh temporary file."""
        for _ in range(16):
            temporary = f".{secrets.token_hex(8)}.tidings-tmp"
            try:
                fd = os.open(temporary, _CREATE_FLAGS, 0o666, dir_fd=self._fd)
                break
            except FileExistsError:
                continue
            except OSError as exc:
                raise self._error(temporary, exc) from exc
        else:
            raise ExportTargetError(f"{self.path}: cannot create a temporary file")
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.replace(temporary, name, src_dir_fd=self._fd, dst_dir_fd=self._fd)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=self._fd)
            if isinstance(exc, OSError):
                raise self._error(name, exc) from exc
            raise

    def write_if_changed(self, name: str, data: bytes) -> bool:
        """Write ``name`` unless it already holds ``data``; True when written."""
        if self.holds(name, data):
            return False
        self.write(name, data)
        return True

    # --------------------------------------------------------------------- helpers

    def _open_file(self, name: str) -> int | None:
        try:
            return os.open(name, _READ_FLAGS, dir_fd=self._fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._error(name, exc) from exc

    def _regular_size(self, fd: int, name: str) -> int:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise self._special(name)
        return status.st_size

    def _link(self, name: str) -> ExportTargetError:
        return ExportTargetError(
            f"{self.path / name} is a symbolic link; links in the destination are never followed"
        )

    def _special(self, name: str) -> ExportTargetError:
        return ExportTargetError(f"{self.path / name} is not a regular file or folder; not used")

    def _error(self, name: str, exc: OSError) -> ExportTargetError:
        if exc.errno in _LINK_ERRNOS:
            return self._link(name)
        if exc.errno == errno.ENOTDIR:
            return ExportTargetError(f"{self.path / name} is not a folder")
        if exc.errno == errno.EISDIR:
            return ExportTargetError(f"{self.path / name} is a folder where a file belongs")
        return ExportTargetError(f"{self.path / name}: {exc.strerror or exc}")
