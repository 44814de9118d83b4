"""A loopback outlet that answers late and counts: what the worker tests and the workers
benchmark serve their feeds from.

Every request for ``/<name>.xml`` is answered after ``latency`` seconds with an RSS document
of ``items`` items named after it (or with ``status``: 429 comes with Retry-After: 600).
The host counts requests per path, those in flight, and the most ever in flight at once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LateHost(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: str = "127.0.0.1", latency: float = 0.0, items: int = 1, status: int = 200) -> None:
        super().__init__((address, 0), _Handler)
        self.latency, self.items, self.status = latency, items, status
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
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
        with host.lock:
            host.hits[self.path] += 1
            host.in_flight += 1
            host.most = max(host.most, host.in_flight)
        try:
            time.sleep(host.latency)
            name = self.path.strip("/").removesuffix(".xml")
            address = host.server_address[0]
            items = "".join(
                f"<item><title>{name} story {n}</title><link>http://{address}/{name}/{n}</link>"
                f"<guid>http://{address}/{name}/{n}</guid><description>Story {n} of {name}.</description></item>"
                for n in range(host.items)
            )
            body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>{items}</channel></rss>'.encode()
            self.send_response(host.status)
            if host.status == 429:
                self.send_header("Retry-After", "600")
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with host.lock:
                host.in_flight -= 1

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass
