"""Keeping a published mirror in git: one commit per publish that changed something, and
pushing it. The ``git`` command does the work (tidings never writes git's files itself).

A commit takes every change under the mirror (``git add --all``), so it holds exactly
the files the publish wrote or removed. A push that fails is reported as an error; the
commit stays, and the next publish pushes it with whatever came after.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from ..errors import TidingsError

__all__ = ["GitError", "commit_all", "ensure_repository", "push"]

_IDENTITY = {
    "GIT_AUTHOR_NAME": "tidings",
    "GIT_AUTHOR_EMAIL": "tidings@localhost",
    "GIT_COMMITTER_NAME": "tidings",
    "GIT_COMMITTER_EMAIL": "tidings@localhost",
}


class GitError(TidingsError):
    """A git command failed (its message is the error's)."""


def _git(folder: Path, *args: str, timeout: float = 600, identity: bool = False, stdin: str | None = None) -> str:
    executable = shutil.which("git")
    if executable is None:
        raise GitError("git is not installed: install it to publish with --git")
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"  # a push that needs a password fails instead of waiting
    env.setdefault("LC_ALL", "C")
    if identity:
        # The user's own name and address when git has them, else tidings'.
        for key, value in _IDENTITY.items():
            setting = "user.name" if key.endswith("NAME") else "user.email"
            if key not in env and not _configured(executable, folder, setting):
                env[key] = value
    try:
        completed = subprocess.run(
            [executable, "-C", str(folder), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} did not finish within {timeout:.0f} s") from None
    if completed.returncode != 0:
        message = (completed.stderr or completed.stdout).strip() or f"exit status {completed.returncode}"
        raise GitError(f"git {args[0]} failed: {message}")
    return completed.stdout


def _configured(executable: str, folder: Path, setting: str) -> bool:
    completed = subprocess.run(
        [executable, "-C", str(folder), "config", "--get", setting], capture_output=True, text=True, check=False
    )
    return completed.returncode == 0 and bool(completed.stdout.strip())


def ensure_repository(folder: Path) -> bool:
    """Make ``folder`` a git repository unless it is one; True when one was made."""
    if (folder / ".git").exists():
        return False
    _git(folder, "init", "--quiet")
    return True


def commit_all(folder: Path, message: str) -> str | None:
    """Commit every change in ``folder``; the new commit's id, or None when nothing changed."""
    _git(folder, "add", "--all")
    status = _git(folder, "status", "--porcelain", "--untracked-files=no")
    if not status.strip():
        return None
    _git(folder, "commit", "--quiet", "--no-verify", "--file", "-", identity=True, stdin=message)
    return _git(folder, "rev-parse", "HEAD").strip()


def push(folder: Path, remote: str) -> None:
    """Push the current branch to ``remote`` (a remote's name, a path or a URL)."""
    branch = _git(folder, "symbolic-ref", "--short", "HEAD").strip()
    _git(folder, "push", "--quiet", remote, f"HEAD:refs/heads/{branch}")
