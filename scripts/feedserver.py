#!/usr/bin/env python3
"""A loopback HTTP server for benchmarks: serves the files of a folder as feeds.

Answers conditional GETs (ETag, Last-Modified) with 304, can add latency per
request and can gzip bodies. With ``--images`` it also serves the articles' images:
the feeds' ``https://img.example/N.jpg`` become ``/img/N.jpg`` on this server, which
answers each with a distinct ~30 KB JPEG-like body (a valid JPEG header and end).
Prints ``ready <port>`` when listening.
Usage: scripts/feedserver.py DIR [--port 0] [--latency SECONDS] [--gzip] [--images]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import socket
import sys
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--images", action="store_true")
    args = parser.parse_args()
    root = args.root.resolve()
    cache: dict[str, tuple[bytes, str, str]] = {}

    def load(name: str) -> tuple[bytes, str, str] | None:
        if name not in cache:
            path = (root / name).resolve()
            if root not in path.parents or not path.is_file():
                return None
            body = path.read_bytes()
            if args.images:
                body = body.replace(b"https://img.example/", f"http://127.0.0.1:{port}/img/".encode())
            if args.gzip:
                body = gzip.compress(body, 6)
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            cache[name] = (body, etag, formatdate(path.stat().st_mtime, usegmt=True))
        return cache[name]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out as separate writes: without this, Nagle's algorithm and
            # the client's delayed ACK hold every small answer for ~40 ms.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            if args.latency:
                time.sleep(args.latency)
            if args.images and self.path.startswith("/img/"):
                self.send_image()
                return
            found = load(self.path.lstrip("/"))
            if found is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body, etag, modified = found
            if self.headers.get("If-None-Match") == etag or self.headers.get("If-Modified-Since") == modified:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/xml; charset=utf-8")
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
            if args.gzip:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def send_image(self) -> None:
            seed = hashlib.sha256(self.path.encode()).digest()
            body = b"\xff\xd8\xff\xe0" + (seed * 940) + b"\xff\xd9"
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

    server = Server(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    print(f"ready {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
