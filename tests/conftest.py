"""Fixtures shared by the tests: archives on temporary SQLite files and generated repositories."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

import tidings

FIXED_NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def document_bytes(ts: int, title: str, url: str, html: str) -> bytes:
    """A document exactly as the original system wrote it."""
    return f"<!--{ts}-->\n[{title}]({url})\n------\n\n{html}\n".encode()


def write_repository(root: Path, articles: dict[str, list[tuple[int, str, str, str]]]) -> list[Path]:
    """Write ``articles/<site>/<id>_<title>.md`` files; ids count down from 0xFFFFF per site."""
    paths = []
    for site, items in articles.items():
        folder = root / "articles" / site
        folder.mkdir(parents=True, exist_ok=True)
        for offset, (ts, title, url, html) in enumerate(items):
            path = folder / f"{0xFFFFF - offset}_{title.replace('/', '--')}.md"
            path.write_bytes(document_bytes(ts, title, url, html))
            paths.append(path)
    return paths


SAMPLE = {
    "法广": [
        (
            1699434902000,
            "七国外长会议一致主张加沙停火  多国呼吁重振巴以两国共存框架",
            "https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/20231108-g7",
            "<div>08/11/2023 - 09:55</div><p><strong>七国集团(G7)外长会议闭幕。   </strong></p>"
            '<br><hr><div>获取更多RSS：<br><a href="https://feedx.net">https://feedx.net</a></div>',
        ),
        (
            1699521302000,
            "英国宣布暂停引渡协议 | 禁对港出口武器?",
            "https://www.rfi.fr/cn/20231109-uk",
            "<p>英国政府周一宣布……</p>\r<p>stray carriage return above</p>",
        ),
    ],
    "Harbour Gazette": [
        (
            1699000000000,
            "Night ferry returns [update]",
            "https://gazette.example/night-ferry",
            "<p>The night ferry returns on Monday.</p>",
        ),
    ],
}


@pytest.fixture(autouse=True)
def _own_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the configuration, rules or database of the person running them."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    for name in ("TIDINGS_CONFIG", "TIDINGS_DB", "TIDINGS_TOKEN", "TIDINGS_RULES", "TIDINGS_USER_AGENT", "TIDINGS_IMAGES",
                 "TIDINGS_HOST", "TIDINGS_PORT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a test's archive lives, once on each store: a SQLite file, then an empty
    PostgreSQL database."""
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return tmp_path / "archive.sqlite3"


@pytest.fixture
def archive(db: str | Path) -> Iterator[tidings.Archive]:
    with tidings.open_archive(db, clock=lambda: FIXED_NOW) as opened:
        yield opened


@pytest.fixture
def sample_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write_repository(root, SAMPLE)
    return root


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under root by relative path."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server for this test session (see tests/pgcluster.py)."""
    from .pgcluster import cluster

    with cluster() as url:
        yield url


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """An empty PostgreSQL database of its own for one test."""
    from .pgcluster import create_database, drop_database

    url = create_database(pg_server)
    yield url
    drop_database(pg_server, url)
