"""WARC: exchanges kept as records, exports that standard tools read, and imports back.

A loopback outlet (127.0.0.2) serves a feed with ETags, article pages, a redirect and an
image; an archive that keeps responses fetches it twice (the second time the feed answers
304). Every file tidings writes must pass ``warcio check`` and ``warcio index``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

import tidings
from tidings.cli import cli
from tidings.export.warc import surt
from tidings.fetch import Limits
from tidings.fetch.base import Exchange
from tidings.model import ArticleState, FeedState, NewRevision, RevisionSource
from tidings.warc import WarcKeeper, kept_files, read_records, recover

from .test_hardening_fetch import (  # noqa: F401  (fixtures)
    LoopbackOnly,
    Server,
    _Handler,
    only_outlet_is_public,
    outlet,
    redirect,
    static,
)
from .test_images import JPEG

WARCIO = Path(sys.executable).with_name("warcio")
LIMITS = Limits(connect_timeout=2, read_timeout=2, total_timeout=6, max_bytes=2_000_000, is_public=only_outlet_is_public)
START = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
PAGE = (
    "<!doctype html><html><head><title>{title}</title></head><body><header>Outlet menu</header>"
    "<article><h1>{title}</h1>{paragraphs}</article><footer>© Outlet</footer></body></html>"
)


def page(title: str, sentence: str) -> bytes:
    paragraphs = "".join(f"<p>{sentence} Paragraph {n} tells more of it, with detail.</p>" for n in range(8))
    return PAGE.format(title=title, paragraphs=paragraphs).encode("utf-8")


def with_etag(body: bytes, kind: str, etag: str = '"v1"'):  # type: ignore[no-untyped-def]
    def route(h: _Handler) -> None:
        if h.headers.get("If-None-Match") == etag:
            h.reply(304, b"", None, {"ETag": etag})
        else:
            h.reply(200, body, kind, {"ETag": etag})

    return route


def serve_outlet(outlet: Server) -> str:
    items = []
    for n, title in ((1, "Ceasefire talks resume"), (2, "停火談判恢復")):
        link = outlet.url(f"/story/{n}")
        items.append(
            f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
            f"<pubDate>Sun, 01 Mar 2026 0{n}:00:00 GMT</pubDate>"
            f"<description>&lt;p&gt;Short summary {n}.&lt;/p&gt;&lt;img src=\"{outlet.url('/photo.jpg')}\"&gt;</description></item>"
        )
        outlet.route(f"/story/{n}", static(page(title, f"The full story number {n} is here."), "text/html; charset=utf-8"))
    document = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Outlet</title>'
        f'<link>{outlet.url("/")}</link>{"".join(items)}</channel></rss>'
    ).encode("utf-8")
    outlet.route("/feed.xml", with_etag(document, "application/rss+xml"))
    outlet.route("/photo.jpg", static(JPEG, "image/jpeg"))
    return outlet.route("/old-feed", redirect(outlet.url("/feed.xml"), 302))


def records_of(path: Path) -> list[tuple[str, str, object]]:
    """(type, target URI, record headers) of every record of a WARC file."""
    found = []
    with open(path, "rb") as handle:
        for record in ArchiveIterator(handle):
            found.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI") or "", record.rec_headers))
    return found


def warcio_accepts(path: Path) -> list[dict[str, str]]:
    """Run ``warcio check`` and ``warcio index`` on a file: both must succeed; the index lines."""
    check = subprocess.run([str(WARCIO), "check", str(path)], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    index = subprocess.run([str(WARCIO), "index", str(path)], capture_output=True, text=True, timeout=120)
    assert index.returncode == 0, index.stderr
    return [json.loads(line) for line in index.stdout.splitlines()]


@pytest.fixture
def kept(tmp_path, outlet):  # type: ignore[no-untyped-def]
    """An archive that kept every exchange of two passes over the outlet."""
    url = serve_outlet(outlet)
    archive = tidings.open_archive(tmp_path / "news.sqlite3", keep_responses=True)
    archive.add_feed(url, site="Outlet", options=tidings.FeedOptions(full_text="always"))
    transport = LoopbackOnly()
    first = asyncio.run(archive.update_async(due_only=False, limits=LIMITS, transport=transport))
    # Passes are minutes apart: the second starts in a later second than the first (WARC dates
    # are to the second, and a replay tool looks a revisit's response up by its date).
    time.sleep(1.01 - time.time() % 1)
    second = asyncio.run(archive.update_async(due_only=False, limits=LIMITS, transport=transport))
    assert transport.refused == []
    assert first.new_articles == 2 and first.extracted == 2 and second.not_modified == 1
    yield archive, outlet
    archive.close()


def test_every_exchange_is_kept_as_request_and_response(kept):  # type: ignore[no-untyped-def]
    archive, outlet = kept
    archive.close()  # closes the file being written: it gets its final name
    files = kept_files(archive.warc)
    assert files and all(f.name.endswith(".warc.gz") for f in files)
    records = [r for f in files for r in records_of(f)]
    for f in files:
        warcio_accepts(f)
    by_type: dict[str, list[str]] = {}
    for kind, uri, _headers in records:
        by_type.setdefault(kind, []).append(uri)
    feed, old = outlet.url("/feed.xml"), outlet.url("/old-feed")
    # Each hop is an exchange: the redirect, the feed, both pages, the image (once: one URL).
    for uri in (old, feed, outlet.url("/story/1"), outlet.url("/story/2"), outlet.url("/photo.jpg")):
        assert uri in by_type["response"], uri
        assert uri in by_type["request"], uri
    assert by_type["request"].count(old) == 2  # both passes asked the old address first
    # The second pass's 304 is a revisit naming the first pass's response.
    (revisit,) = [h for kind, uri, h in records if kind == "revisit"]
    assert revisit.get_header("WARC-Target-URI") == feed
    assert revisit.get_header("WARC-Profile").endswith("/revisit/server-not-modified")
    first = next(h for kind, uri, h in records if kind == "response" and uri == feed)
    assert revisit.get_header("WARC-Refers-To") == first.get_header("WARC-Record-ID")
    # Requests name their response, responses carry the address connected to.
    responses = {h.get_header("WARC-Record-ID") for kind, _uri, h in records if kind in ("response", "revisit")}
    assert all(h.get_header("WARC-Concurrent-To") in responses for kind, _uri, h in records if kind == "request")
    assert {h.get_header("WARC-IP-Address") for kind, _uri, h in records if kind == "response"} == {"127.0.0.2"}


def test_the_response_record_holds_what_the_server_sent(kept):  # type: ignore[no-untyped-def]
    archive, outlet = kept
    archive.close()
    for path in kept_files(archive.warc):
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "response" and record.rec_headers.get_header("WARC-Target-URI").endswith("/photo.jpg"):
                    assert record.http_headers.get_statuscode() == "200"
                    assert record.http_headers.get_header("Content-Type") == "image/jpeg"
                    assert record.content_stream().read() == JPEG
                    return
    raise AssertionError("no response record for the image")


def test_feeds_keep_their_own_setting(tmp_path, outlet):  # type: ignore[no-untyped-def]
    url = serve_outlet(outlet)
    outlet.route("/other.xml", static(b'<rss version="2.0"><channel><title>Other</title></channel></rss>', "application/rss+xml"))
    archive = tidings.open_archive(tmp_path / "news.sqlite3")  # keep_responses off for the archive
    archive.add_feed(url, site="Outlet", options=tidings.FeedOptions(keep_responses=True, full_text="never"))
    archive.add_feed(outlet.url("/other.xml"), site="Other")
    asyncio.run(archive.update_async(due_only=False, limits=LIMITS, transport=LoopbackOnly()))
    archive.close()
    uris = {uri for f in kept_files(archive.warc) for _kind, uri, _h in records_of(f)}
    assert outlet.url("/feed.xml") in uris and outlet.url("/photo.jpg") in uris
    assert outlet.url("/other.xml") not in uris
    assert outlet.url("/story/1") not in uris  # full text never: no page fetched


def test_nothing_is_kept_unless_asked(tmp_path, outlet):  # type: ignore[no-untyped-def]
    archive = tidings.open_archive(tmp_path / "news.sqlite3")
    archive.add_feed(serve_outlet(outlet), site="Outlet")
    asyncio.run(archive.update_async(due_only=False, limits=LIMITS, transport=LoopbackOnly()))
    archive.close()
    assert kept_files(archive.warc) == []


def exchange(n: int, size: int = 3000) -> Exchange:
    return Exchange(
        url=f"http://127.0.0.2/item/{n}",
        started=START + timedelta(seconds=n),
        address="127.0.0.2",
        request_headers=(("Host", "127.0.0.2"), ("User-Agent", "test")),
        status=200,
        reason="OK",
        http_version="HTTP/1.1",
        response_headers=(("Content-Type", "application/octet-stream"), ("Content-Length", str(size))),
        body=os.urandom(size),
    )


def test_files_roll_at_their_size_bound_and_each_is_valid(tmp_path):  # type: ignore[no-untyped-def]
    with WarcKeeper(tmp_path / "w", lambda _feed: True, max_bytes=8000) as keeper:
        for n in range(7):
            keeper.record(exchange(n))
    files = kept_files(tmp_path / "w")
    assert len(files) >= 3 and not any(f.name.endswith(".open") for f in files)
    uris = []
    for f in files:
        lines = warcio_accepts(f)
        assert lines[0]["warc-type"] == "warcinfo"
        uris += [line["warc-target-uri"] for line in lines if line["warc-type"] == "response"]
    assert uris == [f"http://127.0.0.2/item/{n}" for n in range(7)]


def test_a_torn_file_is_cut_back_to_its_whole_records(tmp_path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "w"
    keeper = WarcKeeper(folder, lambda _feed: True)
    for n in range(3):
        keeper.record(exchange(n))
    (open_file,) = folder.glob("*.open")
    whole = open_file.stat().st_size
    # A writer killed in the middle of a record leaves part of a gzip member.
    member = gzip.compress(b"WARC/1.0\r\nWARC-Type: response\r\n" + b"x" * 5000)
    with open(open_file, "ab") as handle:
        handle.write(member[: len(member) // 2])
    keeper._handle.close()  # the process is gone: its lock with it  # type: ignore[union-attr]
    (closed,) = recover(folder)
    assert closed.stat().st_size == whole and not list(folder.glob("*.open"))
    assert [line["warc-target-uri"] for line in warcio_accepts(closed) if line["warc-type"] == "response"] == [
        f"http://127.0.0.2/item/{n}" for n in range(3)
    ]


def test_a_file_held_by_a_live_writer_is_left_alone(tmp_path):  # type: ignore[no-untyped-def]
    with WarcKeeper(tmp_path / "w", lambda _feed: True) as keeper:
        keeper.record(exchange(0))
        assert recover(tmp_path / "w") == []
        assert len(list((tmp_path / "w").glob("*.open"))) == 1
        keeper.record(exchange(1))
    (done,) = kept_files(tmp_path / "w")
    assert len([r for r in read_records(done) if r[2].rec_type == "response"]) == 2


def test_kill_9_mid_stream_loses_no_whole_record(tmp_path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "w"
    script = textwrap.dedent(
        f"""
        import sys
        from tests.test_warc import exchange
        from tidings.warc import WarcKeeper
        keeper = WarcKeeper({str(folder)!r}, lambda _feed: True, max_bytes=1 << 30)
        n = 0
        while True:
            keeper.record(exchange(n, 20000))
            n += 1
            if n == 20:
                print("ready", flush=True)
        """
    )
    root = Path(__file__).resolve().parent.parent
    child = subprocess.Popen([sys.executable, "-c", script], cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    # The next writer closes the file the killed one left.
    with WarcKeeper(folder, lambda _feed: True) as keeper:
        keeper.record(exchange(10_000))
    files = kept_files(folder)
    assert len(files) == 2 and not list(folder.glob("*.open"))
    written = [[line["warc-target-uri"] for line in warcio_accepts(f) if line["warc-type"] == "response"] for f in files]
    assert ["http://127.0.0.2/item/10000"] in written
    (uris,) = [found for found in written if found != ["http://127.0.0.2/item/10000"]]
    assert len(uris) >= 20
    assert uris == [f"http://127.0.0.2/item/{n}" for n in range(len(uris))]


# --------------------------------------------------------------------------- export and import


def articles_and_revisions(archive: tidings.Archive) -> list[tuple[object, ...]]:
    found = []
    for article in archive.articles():
        current = archive.current_revision(article.id)
        found.append(
            (
                article.site, article.key, article.url, article.published, article.first_seen, article.state,
                tuple(
                    (r.seen, r.title, r.content_html, r.content_hash, r.source, r.author, r.summary, r.enclosures,
                     r.language, r is not None and r.id == current.id)
                    for r in archive.revisions(article.id)
                ),
            )
        )
    return sorted(found, key=lambda row: (str(row[0]), str(row[1])))


def test_export_then_import_gives_the_same_articles_and_revisions(kept, tmp_path):  # type: ignore[no-untyped-def]
    archive, outlet = kept
    # An edit, and a deleted article, so that history and state travel too.
    target = tmp_path / "out" / "news.warc.gz"
    target.parent.mkdir()
    report = archive.export_warc(target)
    assert report.copied > 0 and report.resources > 0
    assert report.linked == 2  # both extracted texts name their kept page
    lines = warcio_accepts(target)
    kinds = [line["warc-type"] for line in lines]
    assert kinds[0] == "warcinfo" and kinds.count("warcinfo") == 1
    assert kinds.count("metadata") == sum(len(archive.revisions(a.id)) for a in archive.articles())

    fresh = tidings.open_archive(tmp_path / "fresh.sqlite3")
    imported = fresh.import_warc(target)
    assert imported.kind == "export" and imported.problems == ()
    assert imported.new_articles == 2 and imported.new_revisions == kinds.count("metadata")
    assert articles_and_revisions(fresh) == articles_and_revisions(archive)
    again = fresh.import_warc(target)
    assert again.new_articles == 0 and again.new_revisions == 0
    assert articles_and_revisions(fresh) == articles_and_revisions(archive)
    fresh.close()


def test_state_and_edits_travel(tmp_path):  # type: ignore[no-untyped-def]
    source = tidings.open_archive(tmp_path / "a.sqlite3")
    store = source.store
    with store.transaction():
        site = store.site("法广")
        article = store.add_article(site.id, "k1", "https://rfi.example/a/1", START, START - timedelta(hours=1))
        store.add_revision(article.id, NewRevision(seen=START, title="原標題", content_html="<p>一</p>", source=RevisionSource.FEED))
        store.add_revision(
            article.id,
            NewRevision(seen=START + timedelta(hours=2), title="新標題", content_html="<p>二</p>", source=RevisionSource.FEED, author="記者"),
        )
        store.change_state(article.id, ArticleState.DELETED, START + timedelta(hours=5), {"status": 404})
    out = tmp_path / "a.warc.gz"
    source.export_warc(out)
    fresh = tidings.open_archive(tmp_path / "b.sqlite3")
    fresh.import_warc(out)
    assert articles_and_revisions(fresh) == articles_and_revisions(source)
    (moved,) = list(fresh.articles())
    assert moved.state is ArticleState.DELETED
    source.close()
    fresh.close()


def test_the_cdxj_index_points_at_each_capture(kept, tmp_path):  # type: ignore[no-untyped-def]
    archive, outlet = kept
    target = tmp_path / "news.warc.gz"
    archive.export_warc(target)
    lines = (tmp_path / "news.warc.gz.cdxj").read_text("utf-8").splitlines()
    assert lines == sorted(lines) and lines
    with open(target, "rb") as handle:
        for line in lines:
            key, stamp, raw = line.split(" ", 2)
            fields = json.loads(raw)
            assert key == surt(fields["url"]) and len(stamp) == 14 and fields["filename"] == "news.warc.gz"
            handle.seek(int(fields["offset"]))
            record = next(iter(ArchiveIterator(BytesIO(handle.read(int(fields["length"]))))))
            assert record.rec_headers.get_header("WARC-Target-URI") == fields["url"]
            assert record.rec_type in ("response", "revisit", "resource")
    story = outlet.url("/story/1")
    assert any(json.loads(line.split(" ", 2)[2])["url"] == story for line in lines)


def test_surt_keys():
    assert surt("https://www.Example.com/a/B?z=1&a=2") == "com,example)/a/b?a=2&z=1"
    assert surt("http://127.0.0.2:8080/x") == "2,0,0,127:8080)/x"
    assert surt("http://news.example.org") == "org,example,news)/"


def foreign_warc(path: Path, outlet_url: str) -> None:
    """A WARC another crawler made: a feed capture and an article page capture."""
    link = f"{outlet_url}/news/1"
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Crawled</title>'
        f"<item><title>Harbour reopens</title><link>{link}</link><guid>{link}</guid>"
        "<pubDate>Sun, 01 Mar 2026 06:00:00 GMT</pubDate><description>The harbour reopened.</description></item>"
        "</channel></rss>"
    ).encode()
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "another-crawler/2.0"}))
        for url, body, kind, date in (
            (f"{outlet_url}/rss", gzip.compress(feed), "application/rss+xml", "2026-03-01T07:00:00Z"),
            (link, page("Harbour reopens", "The harbour reopened after the storm."), "text/html", "2026-03-01T07:00:05Z"),
            (f"{outlet_url}/unrelated", page("Other", "Not an archived article."), "text/html", "2026-03-01T07:00:06Z"),
        ):
            headers = [("Content-Type", kind), ("Content-Length", str(len(body)))]
            if url.endswith("/rss"):
                headers.append(("Content-Encoding", "gzip"))
            writer.write_record(
                writer.create_warc_record(
                    url, "response", payload=BytesIO(body), length=len(body),
                    http_headers=StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1"),
                    warc_headers_dict={"WARC-Date": date},
                )
            )


def test_another_crawlers_captures_are_imported(tmp_path):  # type: ignore[no-untyped-def]
    source = tmp_path / "crawl.warc.gz"
    foreign_warc(source, "http://news.example.org")
    archive = tidings.open_archive(tmp_path / "news.sqlite3")
    report = archive.import_warc(source)
    assert report.kind == "captures" and report.problems == ()
    assert (report.feeds, report.new_articles, report.pages, report.skipped) == (1, 1, 1, 1)
    (feed,) = archive.feeds()
    assert feed.url == "http://news.example.org/rss" and feed.state is FeedState.PAUSED
    (article,) = list(archive.articles())
    revisions = archive.revisions(article.id)
    assert [r.source for r in revisions] == [RevisionSource.FEED, RevisionSource.EXTRACTED]
    assert revisions[0].seen == datetime(2026, 3, 1, 7, 0, tzinfo=timezone.utc)
    assert "after the storm" in revisions[1].content_html
    assert archive.current_revision(article.id).source is RevisionSource.FEED
    again = archive.import_warc(source)
    assert again.new_articles == 0 and again.new_revisions == 0 and len(archive.revisions(article.id)) == 2
    archive.close()


def test_a_file_that_is_not_warc_is_refused_clearly(tmp_path):  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.warc.gz"
    bad.write_bytes(b"<html>this is not a WARC</html>")
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(tmp_path / "n.sqlite3"), "import", str(bad)])
    assert result.exit_code != 0
    assert "not a WARC file" in result.output


def test_cli_export_and_import(kept, tmp_path):  # type: ignore[no-untyped-def]
    archive, _outlet = kept
    database = archive.store.path if hasattr(archive.store, "path") else tmp_path / "news.sqlite3"
    archive.close()
    runner = CliRunner()
    out = tmp_path / "cli.warc.gz"
    result = runner.invoke(cli, ["--db", str(database), "export", "--format", "warc", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and (tmp_path / "cli.warc.gz.cdxj").exists()
    result = runner.invoke(cli, ["--db", str(tmp_path / "copy.sqlite3"), "import", "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["kind"] == "export" and report["new_articles"] == 2 and report["derived"] > 0
    result = runner.invoke(cli, ["--db", str(database), "export", "--format", "warc"])
    assert result.exit_code == 2 and "needs an OUT file" in result.output


# --------------------------------------------------------------------------- replay


def _wayback() -> Path:
    """pywb's server, from the replay environment scripts/setup makes (scripts/test does)."""
    root = Path(__file__).resolve().parent.parent
    venv = Path(os.environ.get("TIDINGS_REPLAY_VENV") or root / ".venv-replay")
    if not venv.is_absolute():
        venv = root / venv
    wayback = venv / "bin" / "wayback"
    if not wayback.exists():
        pytest.fail(f"pywb is missing: run `scripts/setup replay` (it makes {venv}) or use scripts/test")
    return wayback


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def replaying(archive: tidings.Archive, folder: Path) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """pywb serving an export of ``archive`` from the CDXJ index tidings wrote; yields the
    collection's address and the index lines' fields (with ``timestamp``)."""
    wayback = _wayback()
    collection = folder / "collections" / "news"
    (collection / "archive").mkdir(parents=True)
    (collection / "indexes").mkdir()
    target = collection / "archive" / "news.warc.gz"
    archive.export_warc(target)
    index = collection / "indexes" / "index.cdxj"
    target.with_name("news.warc.gz.cdxj").rename(index)
    lines = []
    for line in index.read_text("utf-8").splitlines():
        _key, stamp, fields = line.split(" ", 2)
        lines.append({**json.loads(fields), "timestamp": stamp})
    port = _free_port()
    server = subprocess.Popen(
        [str(wayback), "-b", "127.0.0.1", "-p", str(port), "-d", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/news"
    try:
        for _ in range(150):  # bounded: 30 s for pywb to start
            try:
                httpx.get(f"{base}/", timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None, "pywb stopped"
                time.sleep(0.2)
        yield base, lines
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_pywb_replays_an_archived_article_page_from_an_export(tmp_path, outlet):  # type: ignore[no-untyped-def]
    archive = tidings.open_archive(tmp_path / "news.sqlite3")  # nothing kept: revisions as resources
    archive.add_feed(serve_outlet(outlet), site="Outlet", options=tidings.FeedOptions(full_text="never"))
    asyncio.run(archive.update_async(due_only=False, limits=LIMITS, transport=LoopbackOnly()))
    with replaying(archive, tmp_path / "replay") as (base, lines):
        for article in archive.articles():
            (revision,) = archive.revisions(article.id)
            (line,) = [line for line in lines if line["url"] == article.url]
            answer = httpx.get(f"{base}/{line['timestamp']}id_/{article.url}", timeout=10)
            assert answer.status_code == 200
            assert answer.content == revision.content_html.encode("utf-8")
            assert answer.headers["content-type"].startswith("text/html")
            # pywb's own page for it (rewritten, in its frame) names the capture too.
            framed = httpx.get(f"{base}/{line['timestamp']}/{article.url}", timeout=10)
            assert framed.status_code == 200
    archive.close()


def test_pywb_replays_kept_exchanges(kept, tmp_path):  # type: ignore[no-untyped-def]
    archive, outlet = kept
    with replaying(archive, tmp_path / "replay") as (base, lines):
        for path, body in (("/photo.jpg", JPEG), ("/story/2", page("停火談判恢復", "The full story number 2 is here."))):
            url = outlet.url(path)
            kept_lines = [line for line in lines if line["url"] == url and line.get("status") == "200"]
            assert kept_lines, url
            answer = httpx.get(f"{base}/{kept_lines[0]['timestamp']}id_/{url}", timeout=10)
            assert answer.status_code == 200
            if path == "/photo.jpg":
                assert answer.content == body
            else:  # the page and the feed's text share their second: either is a true capture
                feed_text = next(
                    r.content_html.encode() for a in archive.articles() if a.url == url
                    for r in archive.revisions(a.id) if r.source is RevisionSource.FEED
                )
                assert answer.content in (body, feed_text)
        # The feed's 304 is a revisit, a second after the response it names (the fixture's
        # passes): pywb replays a 3xx revisit as what was answered, the 304; the feed's
        # text replays at the response's time.
        feed = outlet.url("/feed.xml")
        revisits = [line for line in lines if line["url"] == feed and line["mime"] == "warc/revisit"]
        originals = [line for line in lines if line["url"] == feed and line.get("status") == "200"]
        assert len(revisits) == 1 and len(originals) == 1
        assert revisits[0]["timestamp"] > originals[0]["timestamp"]
        answer = httpx.get(f"{base}/{revisits[0]['timestamp']}id_/{feed}", timeout=10)
        assert answer.status_code == 304 and answer.content == b""
        answer = httpx.get(f"{base}/{originals[0]['timestamp']}id_/{feed}", timeout=10)
        assert answer.status_code == 200
        assert answer.content.startswith(b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Outlet</title>')
