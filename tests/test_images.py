"""Archiving articles' images against a loopback outlet: the right ones kept once, the
hostile ones refused with a reason, nothing holding the articles; shown by the web app
and by a published mirror from disk.

The outlet is 127.0.0.2 (public under the injected address policy); 127.0.0.1 plays the
private network, whose server must see no request.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import struct
import time
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

import tidings
from tidings.fetch import Limits
from tidings.media import LocalMedia, image_urls, sniff_image

from .conftest import FIXED_NOW
from .test_hardening_fetch import (  # noqa: F401  (fixtures)
    LoopbackOnly,
    Server,
    _Handler,
    internal,
    only_outlet_is_public,
    outlet,
    static,
)


def png(width: int = 2, height: int = 2, shade: int = 0) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes([shade, 80, 160]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
WEBP = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////"
    "////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA="
)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'
FAKE_PNG = b"<!doctype html><html><body>not an image</body></html>"
FAST = Limits(connect_timeout=2, read_timeout=1, total_timeout=1.5, max_bytes=2_000_000, is_public=only_outlet_is_public)


def slow(h: _Handler) -> None:
    time.sleep(4)
    h.reply(200, JPEG, "image/jpeg")


def huge(h: _Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "image/jpeg")
    h.send_header("Content-Length", str(50 << 20))
    h.end_headers()
    block = b"\xff\xd8\xff" + b"\x00" * ((1 << 20) - 3)
    try:
        for _ in range(50):
            h.wfile.write(block)
    except OSError:
        pass  # the client stopped reading


def feed(outlet: Server, internal: Server) -> str:
    def item(n: int, images: list[str]) -> str:
        tags = "".join(f'&lt;img src="{src}" alt="picture {i}"&gt;' for i, src in enumerate(images))
        return (
            f"<item><title>Story {n}</title><link>{outlet.url(f'/story/{n}')}</link><guid>{outlet.url(f'/story/{n}')}</guid>"
            f"<pubDate>Sat, 01 Mar 2025 0{n}:00:00 GMT</pubDate>"
            f"<description>&lt;p&gt;Story number {n}.&lt;/p&gt;{tags}</description></item>"
        )

    items = [
        item(1, [outlet.url("/a.jpg"), outlet.url("/b.png"), outlet.url("/c.webp"), outlet.url("/d.gif"), outlet.url("/e.svg")]),
        item(2, [outlet.url("/a.jpg"), outlet.url("/copy-of-a.jpg"), outlet.url("/huge.jpg")]),
        item(3, [outlet.url("/slow.jpg"), outlet.url("/fake.png"), internal.url("/secret.png")]),
    ]
    document = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Outlet</title><link>{outlet.url("/")}</link>{"".join(items)}</channel></rss>'
    return outlet.route("/feed.xml", static(document, "application/rss+xml"))


@pytest.fixture
def archived(tmp_path, outlet, internal):  # type: ignore[no-untyped-def]
    for path, body, kind in (
        ("/a.jpg", JPEG, "image/jpeg"), ("/copy-of-a.jpg", JPEG, "image/jpeg"), ("/b.png", png(), "image/png"),
        ("/c.webp", WEBP, "image/webp"), ("/d.gif", GIF, "image/gif"), ("/e.svg", SVG, "image/svg+xml"),
        ("/fake.png", FAKE_PNG, "image/png"),
    ):
        outlet.route(path, static(body, kind))
    outlet.route("/slow.jpg", slow)
    outlet.route("/huge.jpg", huge)
    internal.route("/secret.png", static(png(), "image/png"))
    url = feed(outlet, internal)
    archive = tidings.open_archive(tmp_path / "news.sqlite3", clock=lambda: FIXED_NOW)
    archive.add_feed(url, site="Outlet")
    transport = LoopbackOnly()
    started = time.monotonic()
    summary = asyncio.run(archive.update_async(due_only=False, limits=FAST, transport=transport))
    elapsed = time.monotonic() - started
    assert transport.refused == []
    yield archive, summary, elapsed, outlet, internal
    archive.close()


def story(archive: tidings.Archive, number: int) -> int:
    """The id of the article "Story <number>"."""
    return next(a.id for a, title in archive.timeline(limit=50).items if title == f"Story {number}")


def statuses(archive: tidings.Archive) -> dict[str, tuple[str, str | None, str | None]]:
    found = {}
    for records in archive.image_records([r.id for r in archive.store.iter_revisions()]).values():
        for record in records:
            found[record.url.rsplit("/", 1)[1]] = (record.status, record.reason, record.sha256)
    return found


def test_the_right_images_are_archived_once_and_the_hostile_ones_refused(archived):
    archive, summary, elapsed, outlet, internal = archived
    assert summary.new_articles == 3 and summary.failed == 0  # images never hold articles
    seen = statuses(archive)
    for name in ("a.jpg", "copy-of-a.jpg", "b.png", "c.webp", "d.gif"):
        assert seen[name][0] == "archived", (name, seen[name])
    assert seen["a.jpg"][2] == seen["copy-of-a.jpg"][2] == hashlib.sha256(JPEG).hexdigest()
    assert seen["e.svg"][0] == "refused" and "SVG" in seen["e.svg"][1]
    assert seen["fake.png"][0] == "refused" and "HTML" in seen["fake.png"][1]
    assert seen["huge.jpg"][0] == "refused" and "8 MiB" in seen["huge.jpg"][1]
    assert seen["secret.png"][0] == "refused" and "private" in seen["secret.png"][1]
    assert seen["slow.jpg"][0] == "failed"
    assert internal.count("/secret.png") == 0  # the private network saw nothing
    assert outlet.count("/a.jpg") == 1  # one image, fetched once for both articles
    files = dict(archive.media.files())
    assert len(files) == 4  # JPEG (twice over), PNG, WebP, GIF: each bytes once
    for sha256 in files:
        data = archive.media.read(sha256)
        assert data is not None and hashlib.sha256(data).hexdigest() == sha256 and sniff_image(data)
    assert elapsed < 20  # the slow image and the 50 MB one cost bounded waits


def test_a_second_pass_fetches_nothing_again_and_failures_wait(archived):
    archive, _summary, _elapsed, outlet, _internal = archived
    before = {path: outlet.count(path) for path in ("/a.jpg", "/slow.jpg", "/e.svg", "/huge.jpg")}
    summary = archive.archive_images(limits=FAST)
    assert summary is not None and summary.archived == 0 and summary.failed == 0
    assert {path: outlet.count(path) for path in before} == before


def test_stats_jsonl_and_pruning(archived, tmp_path):
    archive, *_ = archived
    stats = archive.stats()
    images = dict(stats.images)
    assert images["archived"] == 5 and images["refused"] == 4 and images["failed"] == 1
    assert stats.media_files == 4 and stats.media_bytes > 0
    out = tmp_path / "news.jsonl"
    with open(out, "w", encoding="utf-8") as handle:
        archive.export_jsonl(handle)
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    listed = [image for record in records for revision in record["revisions"] for image in revision["images"]]
    by_name = {image["url"].rsplit("/", 1)[1]: image for image in listed}
    assert by_name["b.png"]["type"] == "image/png" and by_name["b.png"]["size"] == len(png())
    assert by_name["e.svg"]["status"] == "refused" and by_name["e.svg"]["sha256"] is None
    stray_sha, _ = LocalMedia(archive.media.folder).put(b"GIF89a unreferenced bytes")  # type: ignore[attr-defined]
    torn = archive.media.folder / stray_sha[:2] / ".0123456789abcdef.tmp"  # type: ignore[attr-defined]
    torn.write_bytes(b"half an ima")
    # A file just written may not be recorded yet (the image stage writes in batches): left alone.
    assert archive.prune_media() == (0, 0) and archive.media.has(stray_sha) and torn.exists()
    assert archive.prune_media(min_age=0) == (2, len(b"GIF89a unreferenced bytes") + len(b"half an ima"))
    assert not archive.media.has(stray_sha) and not torn.exists() and len(dict(archive.media.files())) == 4


def test_the_web_app_serves_archived_images_itself(archived):
    from tidings.web import create_app

    archive, *_ = archived
    client = TestClient(create_app(archive.store.path))  # type: ignore[attr-defined]
    page = client.get(f"/article/{story(archive, 1)}").text
    sha_png = hashlib.sha256(png()).hexdigest()
    assert f'src="/media/{sha_png}"' in page
    served = client.get(f"/media/{sha_png}")
    assert served.status_code == 200 and served.content == png() and served.headers["content-type"] == "image/png"
    assert "img-src 'self' data:" in served.headers["content-security-policy"]
    assert client.get("/media/" + "0" * 64).status_code == 404
    assert "/image?u=" in page  # the SVG, not archived, goes through the proxy (which refuses SVG)


def test_a_published_mirror_shows_every_archived_image_from_disk(archived, tmp_path):
    from playwright.sync_api import sync_playwright

    from tidings.publish import publish

    from .test_publish_browser import ARGS, CHROMIUM

    archive, *_ = archived
    out = tmp_path / "mirror"
    publish(archive, out, search=False)
    kept = sorted(p.name for p in (out / "media").rglob("*") if p.is_file())
    assert len(kept) == 4 and {name.rsplit(".", 1)[1] for name in kept} == {"jpg", "png", "webp", "gif"}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto((out / "article" / f"{story(archive, 1)}.html").as_uri())
        widths = page.eval_on_selector_all("article img", "images => images.map(i => [i.getAttribute('src'), i.naturalWidth])")
        browser.close()
    assert len(widths) == 4 and all(width > 0 for _, width in widths), widths
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    assert publish(archive, out, search=False).written == 0


def test_a_dead_image_host_costs_a_few_tries_not_one_per_image(tmp_path, outlet):
    import ipaddress
    import socket

    # A host that refuses every connection: a port on 127.0.0.3 nothing listens on.
    with socket.socket() as probe:
        probe.bind(("127.0.0.3", 0))
        dead = f"http://127.0.0.3:{probe.getsockname()[1]}"
    tags = "".join(f'&lt;img src="{dead}/{n}.jpg"&gt;' for n in range(30))
    tags += f'&lt;img src="{outlet.url("/a.jpg")}"&gt;'
    outlet.route("/a.jpg", static(JPEG, "image/jpeg"))
    document = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Outlet</title><link>{outlet.url("/")}</link>'
        f"<item><title>Story</title><link>{outlet.url('/story')}</link>"
        f"<description>&lt;p&gt;Thirty-one pictures.&lt;/p&gt;{tags}</description></item></channel></rss>"
    )
    url = outlet.route("/feed.xml", static(document, "application/rss+xml"))
    both = {ipaddress.ip_address("127.0.0.2"), ipaddress.ip_address("127.0.0.3")}
    limits = Limits(connect_timeout=2, read_timeout=1, total_timeout=1.5, per_host=3, is_public=lambda a: a in both)
    now = [FIXED_NOW]
    archive = tidings.open_archive(tmp_path / "news.sqlite3", clock=lambda: now[0])
    archive.add_feed(url, site="Outlet")
    summary = asyncio.run(archive.update_async(due_only=False, limits=limits, transport=LoopbackOnly()))
    images = summary.images
    assert images is not None and images.archived == 1  # the live host's image is kept
    assert images.failed == 30 and images.deferred == 0

    def reasons() -> list[str]:
        return [reason or "" for name, (_status, reason, _sha) in statuses(archive).items() if name != "a.jpg"]

    # The dead host is tried once by each of its three runners (all under way before the first
    # refusal is known); its other 27 images fail untried.
    tried = [reason for reason in reasons() if reason.startswith("connect:")]
    assert len(tried) == 3
    assert sum(reason.startswith("not tried, its host did not answer (connect)") for reason in reasons()) == 27
    # Failures wait an hour, then are tried again; after three passes they are given up.
    assert archive.archive_images(limits=limits).failed == 0  # type: ignore[union-attr]
    for _ in range(2):
        now[0] += timedelta(hours=2)
        again = archive.archive_images(limits=limits)
        assert again is not None and again.failed == 30
    now[0] += timedelta(hours=2)
    assert archive.archive_images(limits=limits).failed == 0  # type: ignore[union-attr]
    archive.close()


def test_an_unexpected_error_with_one_image_costs_only_that_image(tmp_path, outlet, monkeypatch):
    import tidings.images

    names = ["a.jpg", "b.png", "c.webp", "d.gif"]
    for name, body in zip(names, (JPEG, png(), WEBP, GIF)):
        outlet.route(f"/{name}", static(body, "application/octet-stream"))
    tags = "".join(f'&lt;img src="{outlet.url("/" + name)}"&gt;' for name in names)
    document = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Outlet</title><link>{outlet.url("/")}</link>'
        f"<item><title>Story</title><link>{outlet.url('/story')}</link>"
        f"<description>&lt;p&gt;Pictures.&lt;/p&gt;{tags}</description></item></channel></rss>"
    )
    url = outlet.route("/feed.xml", static(document, "application/rss+xml"))
    real = tidings.images.sniff_image

    def sniff(data: bytes) -> str | None:
        if data == png():
            raise RuntimeError("a decoder surprise")
        return real(data)

    monkeypatch.setattr(tidings.images, "sniff_image", sniff)
    limits = Limits(connect_timeout=2, read_timeout=1, total_timeout=1.5, per_host=1, is_public=only_outlet_is_public)
    archive = tidings.open_archive(tmp_path / "news.sqlite3", clock=lambda: FIXED_NOW)
    archive.add_feed(url, site="Outlet")
    summary = asyncio.run(archive.update_async(due_only=False, limits=limits, transport=LoopbackOnly()))
    assert summary.images is not None and (summary.images.archived, summary.images.failed) == (3, 1)
    seen = statuses(archive)
    assert seen["b.png"][:2] == ("failed", "an unexpected error (in the log)")
    assert all(seen[name][0] == "archived" for name in ("a.jpg", "c.webp", "d.gif"))  # one runner went on
    archive.close()


def test_image_urls_and_sniffing_are_strict():
    html = (
        '<img src="https://a.example/x.jpg?a=1&amp;b=2" srcset="https://a.example/x2.jpg 2x, https://a.example/x.jpg?a=1&amp;b=2 1x">'
        '<picture><source srcset="https://a.example/y.webp"><img src="data:image/png;base64,AAAA"></picture>'
        '<img src="javascript:alert(1)">'
    )
    assert image_urls(html, [{"url": "https://a.example/e.png", "type": "image/png"}, {"url": "https://a.example/v.mp4", "type": "video/mp4"}]) == [
        "https://a.example/x.jpg?a=1&b=2", "https://a.example/x2.jpg", "https://a.example/y.webp", "https://a.example/e.png",
    ]
    assert sniff_image(JPEG) == "image/jpeg" and sniff_image(png()) == "image/png"
    assert sniff_image(GIF) == "image/gif" and sniff_image(WEBP) == "image/webp"
    assert sniff_image(SVG) is None and sniff_image(FAKE_PNG) is None and sniff_image(b"") is None


def test_a_feed_can_keep_its_images_out_of_the_media_folder(tmp_path, outlet, internal):
    outlet.route("/a.jpg", static(JPEG, "image/jpeg"))
    for path in ("/copy-of-a.jpg", "/b.png", "/c.webp", "/d.gif", "/e.svg", "/huge.jpg", "/slow.jpg", "/fake.png"):
        outlet.route(path, static(JPEG, "image/jpeg"))
    url = feed(outlet, internal)
    with tidings.open_archive(tmp_path / "news.sqlite3", clock=lambda: FIXED_NOW) as archive:
        archive.add_feed(url, site="Outlet", options=tidings.model.FeedOptions(images="proxy"))
        asyncio.run(archive.update_async(due_only=False, limits=FAST, transport=LoopbackOnly()))
        assert outlet.count("/a.jpg") == 0 and list(archive.media.files()) == []
        assert dict(archive.stats().images).get("archived", 0) == 0


def test_with_images_off_everywhere_a_pass_neither_lists_nor_fetches_them(tmp_path, outlet, internal):
    outlet.route("/a.jpg", static(JPEG, "image/jpeg"))
    url = feed(outlet, internal)
    with tidings.open_archive(tmp_path / "news.sqlite3", clock=lambda: FIXED_NOW, images="none") as archive:
        archive.add_feed(url, site="Outlet")
        summary = asyncio.run(archive.update_async(due_only=False, limits=FAST, transport=LoopbackOnly()))
        assert summary.images is None and outlet.count("/a.jpg") == 0
        assert archive.store.unlisted_image_revisions(100)  # left for the day images are kept
        assert archive.archive_images() is None


def test_media_folder_never_writes_the_same_bytes_twice(tmp_path: Path):
    media = LocalMedia(tmp_path / "media")
    first = media.put(png())
    again = media.put(png())
    assert first[1] is True and again == (first[0], False)
    assert [sha for sha, _ in media.files()] == [first[0]]


def test_kill_9_during_the_image_stage_loses_nothing_and_duplicates_nothing(tmp_path, outlet):  # type: ignore[no-untyped-def]
    """`tidings update` killed while it archives images: the next runs finish the work, every
    archived image has its file, and no bytes are kept twice."""
    import os
    import signal
    import subprocess
    import sys

    def delayed(body: bytes):  # type: ignore[no-untyped-def]
        def route(h: _Handler) -> None:
            time.sleep(0.05)
            h.reply(200, body, "image/png")

        return route

    contents = {}
    for feed_no in range(8):
        items = []
        for item_no in range(5):
            tags = ""
            for n in range(10):
                number = feed_no * 50 + item_no * 10 + n
                path = f"/img/{number}.png"
                # Every tenth image repeats an earlier one's bytes under its own address.
                contents[path] = png(1 + (number - 1) // 256, (number - 1) % 256) if number % 10 == 9 else png(1 + number // 256, number % 256)
                outlet.route(path, delayed(contents[path]))
                tags += f'&lt;img src="{outlet.url(path)}"&gt;'
            link = outlet.url(f"/f{feed_no}/story/{item_no}")
            items.append(f"<item><title>Story {feed_no}.{item_no}</title><link>{link}</link><guid>{link}</guid><description>&lt;p&gt;Text.&lt;/p&gt;{tags}</description></item>")
        document = f'<?xml version="1.0"?><rss version="2.0"><channel><title>F{feed_no}</title>{"".join(items)}</channel></rss>'
        outlet.route(f"/f{feed_no}.xml", static(document, "application/rss+xml"))
    database = tmp_path / "news.sqlite3"
    with tidings.open_archive(database) as archive:
        for feed_no in range(8):
            archive.add_feed(outlet.url(f"/f{feed_no}.xml"), site=f"F{feed_no}")
    command = [sys.executable, "-m", "tidings", "--db", str(database)]
    child = subprocess.Popen([*command, "update", "--all"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    media = tmp_path / "news.media"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and child.poll() is None:
            if sum(1 for _ in media.glob("*/*")) >= 40:
                break
            time.sleep(0.02)
        assert child.poll() is None, "the update ended before it could be killed"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    for _ in range(6):  # bounded: each run archives what is due
        with tidings.open_archive(database) as archive:
            if dict(archive.stats().images).get("archived", 0) == len(contents):
                break
        subprocess.run([*command, "media", "fetch"], check=True, capture_output=True, timeout=300)
    with tidings.open_archive(database) as archive:
        images = dict(archive.stats().images)
        assert images == {"archived": len(contents)}
        records = [image for rows in archive.image_records(list(range(1, 100))).values() for image in rows]
        assert len({image.url for image in records}) == len(contents)
        for image in records:
            data = archive.media.read(image.sha256)  # type: ignore[union-attr, arg-type]
            assert data == contents[image.url.split(outlet.url(""), 1)[1]]
        kept = dict(archive.media.files())  # type: ignore[union-attr]
        assert len(kept) == len(set(contents.values()))  # one file per distinct content
        archive.prune_media(min_age=0)
        assert not list(media.glob("*/.*.tmp"))
        assert dict(archive.media.files()) == kept  # type: ignore[union-attr]
