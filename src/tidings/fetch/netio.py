"""The network under httpx: plain asyncio sockets for httpcore's connection pool.

httpx reaches the network through httpcore, which by default goes through anyio. On an
update pass of many feeds that answer 304 the anyio layer was the largest single cost:
each time the pool looks for an idle connection it asks every connection whether its
socket is readable (the server closed it), and anyio answers by building a dictionary of
all the socket's attributes, with a system call for the peer's address, every time.

:class:`AsyncioBackend` is an httpcore network backend on asyncio's own transports: a
small protocol keeps what arrived in a buffer (reading pauses above
:data:`HIGH_WATER` bytes, so a body never read is never all in memory), answers "readable"
from that buffer and the end-of-stream flag, and upgrades to TLS with
``loop.start_tls`` and closes at once (no TLS close_notify waited for, nothing unsent flushed). It raises
httpcore's exceptions where anyio's backend does (connect, read, write, TLS; timeouts as
their own kinds), so httpx maps them as before.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

__all__ = ["HIGH_WATER", "AsyncioBackend", "transport"]

#: Bytes kept unread before the socket is no longer read from (and, below a quarter, again).
HIGH_WATER = 256 * 1024


class _Protocol(asyncio.Protocol):
    """What arrived on one connection, waiting to be read."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.ended = False
        self.error: BaseException | None = None
        self._reader: asyncio.Future[None] | None = None
        self._writer: asyncio.Future[None] | None = None
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self.ended = True
        self._wake_reader()
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self.error = exc
        self._wake_reader()
        if self._writer is not None and not self._writer.done():
            self._writer.set_result(None)

    def pause_writing(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writer is not None and not self._writer.done():
            self._writer.set_result(None)

    def _wake_reader(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.set_result(None)

    async def read(self, max_bytes: int) -> bytes:
        while not self.buffer:
            if self.ended:
                if self.error is not None:
                    raise httpcore.ReadError(str(self.error) or type(self.error).__name__)
                return b""
            self._reader = asyncio.get_running_loop().create_future()
            try:
                await self._reader
            finally:
                self._reader = None
        data = bytes(self.buffer[:max_bytes])
        del self.buffer[:max_bytes]
        if self._paused and len(self.buffer) < HIGH_WATER // 4 and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return data

    async def drained(self) -> None:
        if self._writer is not None:
            # Shielded: a write cut short by its timeout must not cancel the future the
            # next write waits on too.
            await asyncio.shield(self._writer)
        if self.ended and self.error is not None:
            raise httpcore.WriteError(str(self.error) or type(self.error).__name__)


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection: an asyncio transport and the protocol reading it."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol
        protocol.transport = transport

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._protocol.read(max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(_late("no data", timeout, exc)) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        if self._transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        try:
            self._transport.write(buffer)
            async with asyncio.timeout(timeout):
                await self._protocol.drained()
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(_late("could not send", timeout, exc)) from exc
        except (OSError, RuntimeError) as exc:
            raise httpcore.WriteError(str(exc)) from exc

    async def aclose(self) -> None:
        # At once, as anyio's backend does: a plain connection with nothing left to send
        # ends with a FIN; a TLS one, or one whose unsent bytes a failed write left, is
        # dropped (asyncio would wait up to 30 s for a peer's TLS close_notify, and for ever
        # for a peer that does not read).
        if self._transport.get_extra_info("ssl_object") is None and not self._transport.get_write_buffer_size():
            self._transport.close()
        else:
            self._transport.abort()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                upgraded = await loop.start_tls(
                    self._transport,
                    self._protocol,
                    ssl_context,
                    server_hostname=server_hostname,
                    ssl_handshake_timeout=timeout,
                )
        except TimeoutError as exc:
            self._transport.abort()
            raise httpcore.ConnectTimeout(_late("no TLS handshake", timeout, exc)) from exc
        except (OSError, ssl.SSLError, ConnectionError, RuntimeError) as exc:
            self._transport.abort()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        if upgraded is None:  # the connection closed during the handshake
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        assert isinstance(upgraded, asyncio.Transport)
        return AsyncioStream(upgraded, self._protocol)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # Readable while idle: the server closed the connection or sent what it should not.
            return bool(self._protocol.buffer) or self._protocol.ended or self._transport.is_closing()
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network on asyncio transports (see the module docstring)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_connection(
                    _Protocol, host, port, local_addr=(local_address, 0) if local_address else None
                )
        except TimeoutError as exc:  # (the kernel's ETIMEDOUT too)
            raise httpcore.ConnectTimeout(_late(f"no connection to {host}:{port}", timeout, exc)) from exc
        except OSError as exc:
            raise httpcore.ConnectError(_why(exc)) from exc
        return _stream(transport, protocol, socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_unix_connection(_Protocol, path)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(_late(f"no connection to {path}", timeout, exc)) from exc
        except OSError as exc:
            raise httpcore.ConnectError(_why(exc)) from exc
        return _stream(transport, protocol, socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _why(exc: OSError) -> str:
    """Why a connection failed, in the system's words ("Connection refused"); the address is
    the caller's to name (asyncio's own message repeats it). A failed lookup keeps its own
    words ("Name or service not known", which says it is one)."""
    if isinstance(exc, socket.gaierror) or not exc.errno:
        return str(exc) or type(exc).__name__
    return os.strerror(exc.errno)


def _late(what: str, timeout: float | None, exc: TimeoutError) -> str:
    """A timeout's message: ours when it was our limit, the system's when it was its own."""
    return f"{what} within {timeout:g} s" if timeout is not None and not exc.errno else f"{what}: {_why(exc)}"


def _stream(transport: asyncio.BaseTransport, protocol: _Protocol, options: Iterable[Any] | None) -> AsyncioStream:
    assert isinstance(transport, asyncio.Transport)
    sock = transport.get_extra_info("socket")
    for option in options or ():
        if sock is not None:
            sock.setsockopt(*option)
    return AsyncioStream(transport, protocol)  # (asyncio sets TCP_NODELAY itself)


def transport(verify: ssl.SSLContext, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """httpx's transport with its connection pool on :class:`AsyncioBackend`."""
    made = httpx.AsyncHTTPTransport(verify=verify, limits=limits)
    # httpx builds its pool without a way to name the backend: the same pool, rebuilt with it
    # (tests/test_update_http.py checks that fetches go through it).
    made._pool = httpcore.AsyncConnectionPool(
        ssl_context=verify,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        http1=True,
        http2=False,
        network_backend=AsyncioBackend(),
    )
    return made
