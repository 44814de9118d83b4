"""The image proxy: same-origin images, signed addresses, no way into private networks."""

from __future__ import annotations

import ipaddress
import re
import threading
import warnings
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

import tidings
from tidings.model import NewRevision, RevisionSource
from tidings.web.images import ImageProxy, is_public

warnings.filterwarnings("ignore", message=".*httpx.*", category=DeprecationWarning)
from starlette.testclient import TestClient  # noqa: E402

from tidings.web import create_app  # noqa: E402

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 40
T0 = datetime(2025, 11, 20, 8, tzinfo=timezone.utc)


class Images(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        if path == "/redirect-private":
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.2:{self.server.server_port}/pic.png")
            self.end_headers()
            return
        if path == "/redirect":
            self.send_response(301)
            self.send_header("Location", "/pic.png")
            self.end_headers()
            return
        kinds = {
            "/pic.png": ("image/png", PNG),
            "/drawing.svg": ("image/svg+xml", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
            "/page": ("text/html", b"<html>not an image</html>"),
            "/huge.png": ("image/png", PNG * 5000),
        }
        if path not in kinds:
            self.send_error(404)
            return
        media_type, body = kinds[path]
        self.send_response(200)
        self.send_header("Content-Type", media_type)
        self.end_headers()  # no length: the proxy must count what it reads
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Images)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def make_client(tmp_path, origin: str, proxy: ImageProxy) -> TestClient:
    db = tmp_path / "images.sqlite3"
    with tidings.open_archive(db) as archive:
        store = archive.store
        with store.transaction():
            article = store.add_article(store.site("图").id, "a", "https://pictures.example/a", T0, T0)
            body = (
                f'<p>图片</p><img src="{origin}/pic.png" srcset="{origin}/big.png 2x" alt="照片">'
                '<picture><source srcset="https://cdn.example/a.webp"><img src="data:image/gif;base64,R0lGOD"></picture>'
            )
            store.add_revision(article.id, NewRevision(T0, "有图", body, RevisionSource.FEED))
        archive.derive()
    return TestClient(create_app(db, image_proxy=proxy), raise_server_exceptions=False)


def image_paths(html: str) -> list[str]:
    return [m.replace("&amp;", "&") for m in re.findall(r'src="(/image\?[^"]+)"', html)]


def test_article_images_point_at_the_proxy_and_loopback_is_refused(tmp_path, origin):
    proxy = ImageProxy()
    client = make_client(tmp_path, origin, proxy)
    page = client.get("/article/1").text
    (path,) = image_paths(page)
    assert parse_qs(urlsplit(path).query)["u"] == [f"{origin}/pic.png"]
    assert "srcset" not in page and "cdn.example" not in page and "data:image/gif" in page
    refused = client.get(path)
    assert refused.status_code == 403 and "private or local" in refused.text
    for url in ["http://localhost/x.png", "http://10.1.2.3/x.png", "http://169.254.169.254/latest",
                "http://[::1]/x.png", "http://[::ffff:127.0.0.1]/x.png", "http://0.0.0.0/x.png"]:
        answer = client.get(proxy.path(url))
        assert answer.status_code == 403, url
    assert client.get(proxy.path("file:///etc/passwd")).status_code == 403
    assert client.get(proxy.path("ftp://example.org/x.png")).status_code == 403


def test_only_addresses_this_server_signed_are_fetched(tmp_path, origin):
    client = make_client(tmp_path, origin, ImageProxy(allow=lambda address: True))
    (path,) = image_paths(client.get("/article/1").text)
    assert client.get(path).status_code == 200
    tampered = path.replace("pic.png", "page")
    assert client.get(tampered).status_code == 403
    assert client.get(f"/image?u={origin}/pic.png").status_code == 403
    assert client.get(f"/image?u={origin}/pic.png&s=" + "0" * 32).status_code == 403
    other = ImageProxy(allow=lambda address: True)  # another server's signatures do not count
    assert client.get(other.path(f"{origin}/pic.png")).status_code == 403


def test_what_the_proxy_serves(tmp_path, origin):
    loopback = ipaddress.ip_address("127.0.0.1")
    proxy = ImageProxy(allow=lambda address: address == loopback, max_bytes=64 * 1024)
    client = make_client(tmp_path, origin, proxy)
    image = client.get(proxy.path(f"{origin}/pic.png"))
    assert image.status_code == 200 and image.content == PNG
    assert image.headers["content-type"] == "image/png"
    assert "default-src 'none'" in image.headers["content-security-policy"]
    assert client.get(proxy.path(f"{origin}/redirect")).content == PNG
    private = client.get(proxy.path(f"{origin}/redirect-private"))  # checked again after a redirect
    assert private.status_code == 403
    svg = client.get(proxy.path(f"{origin}/drawing.svg"))
    assert svg.status_code == 502 and "not a raster image" in svg.text
    assert client.get(proxy.path(f"{origin}/page")).status_code == 502
    huge = client.get(proxy.path(f"{origin}/huge.png"))
    assert huge.status_code == 502 and "too large" in huge.text
    assert client.get(proxy.path(f"{origin}/missing.png")).status_code == 502
    assert client.get(proxy.path("http://no-such-host.invalid/x.png")).status_code == 502


def test_public_and_private_addresses():
    private = ["10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "169.254.169.254", "100.64.0.1",
               "0.0.0.0", "224.0.0.1", "::1", "fc00::1", "fe80::1", "::ffff:10.0.0.1", "::"]
    public = ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
    assert not [a for a in private if is_public(ipaddress.ip_address(a))]
    assert all(is_public(ipaddress.ip_address(a)) for a in public)


def test_other_image_modes(tmp_path, origin):
    make_client(tmp_path, origin, ImageProxy())  # builds the archive in images.sqlite3
    db = tmp_path / "images.sqlite3"
    links = TestClient(create_app(db, images="none")).get("/article/1")
    assert "/image?" not in links.text and 'class="image"' in links.text
    assert TestClient(create_app(db, images="none")).get(ImageProxy().path(f"{origin}/pic.png")).status_code == 404
    direct = TestClient(create_app(db, images="direct")).get("/article/1")
    assert f'src="{origin}/pic.png"' in direct.text
    assert "img-src 'self' data: https:" in direct.headers["content-security-policy"]
    with pytest.raises(ValueError):
        create_app(db, images="everything")


def test_the_fetch_connects_to_the_checked_address():
    from tidings.web.images import _pinned

    plain = _pinned("http://pictures.example:8080/a/b.png?x=1", ipaddress.ip_address("93.184.216.34"))
    assert plain["url"] == "http://93.184.216.34:8080/a/b.png?x=1"
    assert plain["headers"] == {"Host": "pictures.example:8080"} and plain["extensions"] == {}
    tls = _pinned("https://pictures.example/b.png", ipaddress.ip_address("2606:4700::1"))
    assert tls["url"] == "https://[2606:4700::1]/b.png"
    assert tls["extensions"] == {"sni_hostname": "pictures.example"}  # certificate checked for the name


def test_ipv6_ways_into_ipv4_networks_are_refused():
    for address in ["64:ff9b::7f00:1", "64:ff9b:1::a00:1", "2002:7f00:1::", "::7f00:1", "fec0::1", "2001:0:4136:e378::1"]:
        assert not is_public(ipaddress.ip_address(address)), address
