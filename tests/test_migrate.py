"""Moving an archive between SQLite and PostgreSQL: same rows, same ids, same hashes, same
search hits; resumable after a kill; and back again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

import tidings
from tidings.cli import cli
from tidings.model import ArticleState, NewRevision, RevisionSource

from .conftest import FIXED_NOW, SAMPLE, write_repository

QUERIES = ["停火", "外長", "ferry", "七国 OR 英国", "引渡"]


def filled(path: Path, tmp_path: Path, extra: int = 0) -> Path:
    """A SQLite archive with imported documents, edits, a deleted article, sightings."""
    write_repository(tmp_path / "repo", SAMPLE)
    with tidings.open_archive(path, clock=lambda: FIXED_NOW) as archive:
        archive.import_documents(tmp_path / "repo")
        store = archive.store
        with store.transaction():
            site = store.site("中央社").id
            for n in range(extra + 3):
                when = FIXED_NOW + timedelta(minutes=n)
                article = store.add_article(site, f"k{n}", f"https://cna.example/{n}", when, when)
                store.add_revision(article.id, NewRevision(when, f"外長會議 {n}", f"<p>外長呼籲停火 {n}\x00</p>", RevisionSource.FEED))
                store.add_revision(article.id, NewRevision(when + timedelta(hours=1), f"外長會議 {n} 更新", "<p>更新</p>", RevisionSource.FEED))
            store.change_state(article.id, ArticleState.DELETED, FIXED_NOW + timedelta(days=1), {"status": 404})
            long_one = store.add_article(site, "long", "https://cna.example/long", FIXED_NOW, FIXED_NOW)
            body = "".join(f"<p>第{n}段：外長呼籲停火，港口吞吐量創新高。</p>" for n in range(40))
            store.add_revision(long_one.id, NewRevision(FIXED_NOW, "長文", body, RevisionSource.FEED))
        archive.add_feed("https://cna.example/feed.xml", site="中央社")
        archive.derive()
    return path


def hits(location: str | Path) -> dict[str, list[int]]:
    with tidings.open_archive(location) as archive:
        return {query: sorted(hit.article_id for hit in archive.search(query, limit=100).hits) for query in QUERIES}


def snapshot(location: str | Path) -> list[tuple[object, ...]]:
    with tidings.open_archive(location) as archive:
        return [
            (a.id, a.site, a.key, a.url, a.published, a.first_seen, a.state, a.current_revision_id,
             tuple((r.id, r.seen, r.title, r.content_html, r.content_hash, r.text) for r in archive.revisions(a.id)),
             tuple(archive.sightings(a.id)), tuple(archive.state_changes(a.id)))
            for a in archive.articles()
        ]


def test_sqlite_to_postgresql_and_back_keeps_everything(tmp_path: Path, pg_url: str) -> None:
    source = filled(tmp_path / "news.sqlite3", tmp_path)
    result = CliRunner().invoke(cli, ["--db", str(source), "migrate", "--to", pg_url, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["verified"]["revisions"]["rows"] == report["copied"]["revisions"] > 0
    assert snapshot(pg_url) == snapshot(source)
    assert hits(pg_url) == hits(source) and all(hits(source).values())
    # New rows on the target get new ids after the copied ones.
    with tidings.open_archive(pg_url) as archive, archive.store.transaction():
        article = archive.store.add_article(archive.store.site("新").id, "n", "https://new.example/", FIXED_NOW, None)
        assert article.id > max(row[0] for row in snapshot(source))
    back = tmp_path / "back.sqlite3"
    expected = snapshot(source)
    result = CliRunner().invoke(cli, ["--db", pg_url, "migrate", "--to", str(back)])
    assert result.exit_code == 0, result.output
    assert "verified" in result.output
    assert snapshot(back)[: len(expected)] == expected  # and the article added on PostgreSQL after them
    assert len(snapshot(back)) == len(expected) + 1
    # Written into SQLite in its packed form, as tidings writes it (nothing left for compact).
    import sqlite3

    from tidings.store.packing import MARK, MARK_AGAINST

    db = sqlite3.connect(back)
    kinds = db.execute(
        "SELECT substr(content_html, 1, 4), substr(text, 1, 4), typeof(text), length(text) FROM revisions"
    ).fetchall()
    db.close()
    assert sum(1 for html, *_ in kinds if html == MARK) > 0, kinds
    assert sum(1 for _h, text, *_ in kinds if text == MARK_AGAINST) > 0
    assert not [row for row in kinds if row[2] == "text" and row[3] >= 256]


def test_a_killed_migration_goes_on_where_it_stopped(tmp_path: Path, pg_url: str) -> None:
    source = filled(tmp_path / "big.sqlite3", tmp_path, extra=6000)
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root / "src"))
    command = [sys.executable, "-m", "tidings", "--db", str(source), "migrate", "--to", pg_url]
    child = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import psycopg

    deadline = time.monotonic() + 120
    copied = 0
    while time.monotonic() < deadline and child.poll() is None:
        try:
            with psycopg.connect(pg_url) as connection:
                row = connection.execute("SELECT count(*) FROM revisions").fetchone()
                copied = row[0] if row else 0
        except psycopg.Error:
            copied = 0
        if copied >= 2000:
            break
        time.sleep(0.05)
    assert child.poll() is None, "the migration ended before it could be killed"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    result = CliRunner().invoke(cli, ["--db", str(source), "migrate", "--to", pg_url, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["already_there"]["revisions"] >= 2000
    assert report["copied"]["revisions"] + report["already_there"]["revisions"] == report["verified"]["revisions"]["rows"]
    assert snapshot(pg_url) == snapshot(source)


def test_a_copy_that_differs_is_reported(tmp_path: Path, pg_url: str) -> None:
    source = filled(tmp_path / "news.sqlite3", tmp_path)
    assert CliRunner().invoke(cli, ["--db", str(source), "migrate", "--to", pg_url]).exit_code == 0
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as connection:
        connection.execute("UPDATE revisions SET title = 'tampered' WHERE id = 1")
    result = CliRunner().invoke(cli, ["--db", str(source), "migrate", "--to", pg_url])
    assert result.exit_code == 1
    assert "differs" in result.output and "revisions" in result.output
