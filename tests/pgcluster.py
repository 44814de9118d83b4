"""A throwaway PostgreSQL cluster for the tests: Debian's server binaries, a temporary
folder, a free 127.0.0.1 port; a database per test.

``initdb`` and ``pg_ctl`` refuse to run as root, so as root they run as the ``postgres``
user on a folder it owns. The cluster is stopped and its folder removed at the end of the
session. ``TIDINGS_TEST_PG`` (a ``postgresql://`` URL of a server the tests may create
databases on) skips all this.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def server_binaries() -> Path:
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name)
    ) if Path("/usr/lib/postgresql").is_dir() else []
    if not versions:
        raise RuntimeError(
            "PostgreSQL's server is not installed (apt-get install postgresql); scripts/test installs it"
        )
    return versions[-1].parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(command: list[str], as_postgres: bool) -> None:
    if as_postgres:
        line = " ".join(f"'{part}'" for part in command)
        command = ["su", "postgres", "-s", "/bin/sh", "-c", line]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


@contextmanager
def cluster() -> Iterator[str]:
    """Start a cluster; yields the URL of its ``postgres`` database."""
    given = os.environ.get("TIDINGS_TEST_PG")
    if given:
        yield given
        return
    binaries = server_binaries()
    as_postgres = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="tidings-pg-"))
    data = folder / "data"
    if as_postgres:
        shutil.chown(folder, "postgres", "postgres")
    port = _free_port()
    try:
        _run([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
              "--locale=C.UTF-8", "--no-sync"], as_postgres)
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        _run([str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"], as_postgres)
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            _run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], as_postgres)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def create_database(server: str) -> str:
    """A new empty database on the server; its URL."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:16]
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server.rsplit("/", 1)[0] + "/" + name


def drop_database(server: str, url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
