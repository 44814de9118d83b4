"""httpx on plain asyncio sockets (tidings.fetch.netio) against real loopback servers:
TLS, connections reused and connections the server closed while idle, bodies larger than
what is kept unread, errors of the right kind, and the fetcher going through it."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tidings.fetch import Limits
from tidings.fetch.http import HttpFetcher
from tidings.fetch.netio import HIGH_WATER, AsyncioBackend, AsyncioStream, transport

from .loopback import serving

PEM = Path(__file__).parent / "data" / "loopback-tls.pem"
BIG = bytes(range(256)) * (32 * 1024)  # 8 MiB


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server  # type: ignore[assignment]

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = BIG if self.path == "/big" else f"answer to {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            return  # the client went away
        if self.path == "/stall":
            self.wfile.flush()
            time.sleep(3)  # answered, then reads nothing more (no TLS close_notify answered)
            self.close_connection = True
            return
        if self.server.close_idle:
            # Keep-alive announced, then the connection dropped while the client holds it idle.
            self.wfile.flush()
            time.sleep(0.05)
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: bool, close_idle: bool) -> None:
        super().__init__(("127.0.0.2", 0), _Handler)
        self.lock = threading.Lock()
        self.connections = 0
        self.close_idle = close_idle
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(PEM)
            self.socket = context.wrap_socket(self.socket, server_side=True)

    def handle_error(self, request: object, client_address: object) -> None:
        pass

    @property
    def base(self) -> str:
        scheme = "https" if isinstance(self.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://127.0.0.2:{self.server_address[1]}"


def _serve(tls: bool = False, close_idle: bool = False) -> Iterator[_Server]:
    with serving(_Server(tls, close_idle)) as server:
        yield server


@pytest.fixture
def plain() -> Iterator[_Server]:
    yield from _serve()


@pytest.fixture
def secure() -> Iterator[_Server]:
    yield from _serve(tls=True)


@pytest.fixture
def closing() -> Iterator[_Server]:
    yield from _serve(close_idle=True)


def _client(context: ssl.SSLContext | None = None) -> httpx.AsyncClient:
    context = context or ssl.create_default_context()
    return httpx.AsyncClient(transport=transport(context, httpx.Limits(max_connections=4)), timeout=5)


def _trusting() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(PEM))


def test_https_with_one_connection_for_several_requests(secure):
    async def run() -> list[tuple[int, bytes, str]]:
        found = []
        async with _client(_trusting()) as client:
            for path in ("/one", "/two", "/three"):
                response = await client.get(secure.base + path)
                stream = response.extensions["network_stream"]
                assert isinstance(stream, AsyncioStream)
                found.append((response.status_code, response.content, stream.get_extra_info("ssl_object").version()))
        return found

    found = asyncio.run(run())
    assert [(status, body) for status, body, _ in found] == [
        (200, b"answer to /one"), (200, b"answer to /two"), (200, b"answer to /three")
    ]
    assert all(version.startswith("TLS") for _, _, version in found)
    assert secure.connections == 1  # kept alive and reused


def test_a_certificate_not_trusted_is_a_connect_error(secure):
    async def run() -> None:
        async with _client() as client:  # the system's authorities: the loopback certificate is unknown
            await client.get(secure.base + "/one")

    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        asyncio.run(run())


def test_a_connection_the_server_closed_while_idle_is_not_reused(closing):
    async def run() -> list[bytes]:
        bodies = []
        async with _client() as client:
            for path in ("/one", "/two", "/three"):
                bodies.append((await client.get(closing.base + path)).content)
                await asyncio.sleep(0.3)  # the server drops the idle connection meanwhile
        return bodies

    assert asyncio.run(run()) == [b"answer to /one", b"answer to /two", b"answer to /three"]
    assert closing.connections == 3


def test_a_body_read_slowly_is_never_all_in_memory_and_arrives_whole(plain):
    async def run() -> tuple[bytes, int]:
        async with _client() as client:
            async with client.stream("GET", plain.base + "/big") as response:
                stream = response.extensions["network_stream"]
                chunks = response.aiter_raw()
                first = await chunks.__anext__()
                await asyncio.sleep(0.5)  # the server could have sent all 8 MiB by now
                waiting = len(stream._protocol.buffer)
                rest = [chunk async for chunk in chunks]
                return first + b"".join(rest), waiting

    body, waiting = asyncio.run(run())
    assert hashlib.sha256(body).digest() == hashlib.sha256(BIG).digest()
    assert waiting <= HIGH_WATER + 256 * 1024  # reading paused: at most one socket read above the mark


def test_errors_keep_their_kinds():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.2", 0))
        refused = f"http://127.0.0.2:{probe.getsockname()[1]}/"
    silent = socket.socket()
    silent.bind(("127.0.0.2", 0))
    silent.listen()  # accepts connections, never answers

    async def get(url: str, **options: float) -> None:
        async with httpx.AsyncClient(
            transport=transport(ssl.create_default_context(), httpx.Limits()), timeout=httpx.Timeout(**options)
        ) as client:
            await client.get(url)

    try:
        with pytest.raises(httpx.ConnectError, match="^Connection refused$"):  # the address is the caller's to name
            asyncio.run(get(refused, timeout=2))
        with pytest.raises(httpx.ReadTimeout):
            asyncio.run(get(f"http://127.0.0.2:{silent.getsockname()[1]}/", timeout=0.3))
    finally:
        silent.close()


def test_the_fetcher_goes_through_it(plain):
    async def run() -> tuple[bytes, object]:
        async with HttpFetcher(Limits(connect_timeout=2, read_timeout=2, total_timeout=5)) as fetcher:
            response = await fetcher.fetch(plain.base + "/feed.xml")
            return response.content, fetcher._client._transport._pool._network_backend  # type: ignore[attr-defined]

    content, backend = asyncio.run(run())
    assert content == b"answer to /feed.xml"
    assert isinstance(backend, AsyncioBackend)


def test_a_closed_tls_connection_lets_go_of_its_socket_at_once(secure):
    """No TLS close_notify is waited for (a server that never answers one would hold the
    socket for up to 30 s): closing the client closes the socket."""

    async def run() -> int:
        async with _client(_trusting()) as client:
            response = await client.get(secure.base + "/stall")
            sock = response.extensions["network_stream"].get_extra_info("socket")
            assert sock.fileno() >= 0
        await asyncio.sleep(0.1)
        return int(sock.fileno())

    assert asyncio.run(run()) == -1


def test_a_stream_is_usable_after_reads_and_writes_cut_by_their_timeouts():
    listener = socket.socket()
    listener.bind(("127.0.0.2", 0))
    listener.listen()
    reading = threading.Event()
    received = bytearray()

    def peer() -> None:
        connection, _ = listener.accept()
        with connection:
            time.sleep(0.4)  # silent first: the first read times out
            connection.sendall(b"late data")
            reading.wait(10)  # then not reading: the first large write times out
            while not received.endswith(b"y") and (chunk := connection.recv(1 << 20)):
                received.extend(chunk)
            connection.sendall(b"ok")  # all of it arrived

    thread = threading.Thread(target=peer, daemon=True)
    thread.start()

    async def run() -> list[object]:
        seen: list[object] = []
        stream = await AsyncioBackend().connect_tcp("127.0.0.2", listener.getsockname()[1], timeout=2)
        for attempt in (lambda: stream.read(100, timeout=0.1), lambda: stream.read(100, timeout=2)):
            try:
                seen.append(await attempt())
            except Exception as exc:  # noqa: BLE001 - what kind is the point
                seen.append(type(exc).__name__)
        try:
            await stream.write(b"x" * 50_000_000, timeout=0.3)
        except Exception as exc:  # noqa: BLE001
            seen.append(type(exc).__name__)
        reading.set()
        await stream.write(b"y", timeout=10)  # once the peer reads again, writing goes on
        seen.append(await stream.read(10, timeout=10))
        await stream.aclose()
        return seen

    try:
        import httpcore

        assert asyncio.run(run()) == ["ReadTimeout", b"late data", httpcore.WriteTimeout.__name__, b"ok"]
        thread.join(timeout=10)
        assert received.endswith(b"y")
    finally:
        listener.close()
