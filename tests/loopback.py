"""A loopback outlet that answers late and counts: what the worker tests and the workers
benchmark serve their feeds from.

Every request for ``/<name>.xml`` is answered after ``latency`` seconds with an RSS document
of ``items`` items named after it (or with ``status``: 429 comes with Retry-After: 600).
Items carry their full text; with ``pages`` they carry a one-line summary instead, and
their links lead to article pages this host serves (after the same latency). The host
counts feed requests per path (``hits``), page requests (``pages``), the requests in
flight and the most ever in flight at once.

:func:`serving` runs any such server on a thread for the length of a ``with`` block.
"""

from __future__ import annotations

import html
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar

_S = TypeVar("_S", bound=ThreadingHTTPServer)


@contextmanager
def serving(server: _S) -> Iterator[_S]:
    """The server answering on a thread of its own until the block ends, then shut and closed."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class LateHost(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(
        self, address: str = "127.0.0.1", latency: float = 0.0, items: int = 1, status: int = 200, pages: bool = False
    ) -> None:
        super().__init__((address, 0), _Handler)
        self.latency, self.items, self.status, self.with_pages = latency, items, status, pages
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.pages: Counter[str] = Counter()
        self.in_flight = self.most = 0

    @property
    def requests(self) -> int:
        return sum(self.hits.values())

    def url(self, path: str) -> str:
        address, port = self.server_address[:2]
        return f"http://{address!s}:{port}{path}"

    def start(self) -> LateHost:
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LateHost  # type: ignore[assignment]

    def do_GET(self) -> None:  # noqa: N802
        host = self.server
        feed = self.path.endswith(".xml")
        with host.lock:
            (host.hits if feed else host.pages)[self.path] += 1
            host.in_flight += 1
            host.most = max(host.most, host.in_flight)
        try:
            time.sleep(host.latency)
            if feed:
                body, kind = self._feed(host), "application/rss+xml"
            else:
                title = html.escape(self.path)
                body = (
                    f"<!DOCTYPE html><html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
                    + "".join(f"<p>Paragraph {n} of {title}, told at some length for a reader.</p>" for n in range(6))
                    + "</article></body></html>"
                ).encode()
                kind = "text/html; charset=utf-8"
            self.send_response(host.status)
            if host.status == 429:
                self.send_header("Retry-After", "600")
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with host.lock:
                host.in_flight -= 1

    def _feed(self, host: LateHost) -> bytes:
        name = self.path.strip("/").removesuffix(".xml")
        items = []
        for n in range(host.items):
            link = host.url(f"/{name}/{n}")
            if host.with_pages:
                text = f"<description>Story {n} of {name}.</description>"
            else:
                paragraphs = "".join(f"<p>Paragraph {k} of story {n} of {name}, told in full.</p>" for k in range(4))
                text = f"<description>Story {n} of {name}.</description><content:encoded>{html.escape(paragraphs)}</content:encoded>"
            items.append(f"<item><title>{name} story {n}</title><link>{link}</link><guid>{link}</guid>{text}</item>")
        return (
            '<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f"<channel><title>{name}</title>{''.join(items)}</channel></rss>"
        ).encode()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass
