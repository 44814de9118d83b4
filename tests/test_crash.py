"""A kill -9 in the middle of an import loses nothing that was committed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import tidings

from .conftest import document_bytes

FILES = 15_000


def count(db: Path, table: str) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # not created yet


def test_kill_during_import_keeps_committed_articles_and_a_rerun_completes(tmp_path):
    folder = tmp_path / "repo" / "articles" / "站点"
    folder.mkdir(parents=True)
    for n in range(FILES):
        html = f"<p>第{n}篇文章。</p>" * 20
        data = document_bytes(1_600_000_000_000 + n, f"标题{n}", f"https://x.example/{n}", html)
        (folder / f"{1_048_575 - n}_标题{n}.md").write_bytes(data)
    db = tmp_path / "db.sqlite3"
    command = [sys.executable, "-m", "tidings", "--db", str(db), "import", str(tmp_path / "repo")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        seen = count(db, "articles")
        if seen >= 512:
            break
        time.sleep(0.005)
    assert process.poll() is None, "the import finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with tidings.open_archive(db) as archive:
        kept = archive.stats().articles
        assert seen <= kept < FILES
        report = archive.import_documents(tmp_path / "repo")
        assert report.errors == ()
        assert report.new_articles == FILES - kept
        stats = archive.stats()
        assert (stats.articles, stats.revisions) == (FILES, FILES)
    assert count(db, "document_files") == FILES
