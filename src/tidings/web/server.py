"""The HTTP server's own guards: a deadline for each request to arrive, and a cap on connections.

uvicorn's h11 protocol waits for a request for as long as the client likes (its
keep-alive timeout runs only while a connection is idle between requests, and
stops at the first byte of the next one) and accepts every connection it is
given, so a client sending a few bytes of a request line on each of many
connections could hold them all open. :func:`guarded_protocol` makes a
subclass of it that closes a connection whose request (headers and body) has
not arrived in full within ``request_timeout`` seconds, answering 408 when no
response has begun, and answers 503 and closes any connection beyond
``max_connections``. Everything else is uvicorn's.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["GuardedProtocol", "guarded_protocol"]


def _plain_response(status: int, reason: str, message: str, *extra: str) -> bytes:
    body = message.encode()
    head = [
        f"HTTP/1.1 {status} {reason}",
        "content-type: text/plain; charset=utf-8",
        f"content-length: {len(body)}",
        "connection: close",
        *extra,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class GuardedProtocol(H11Protocol):
    """uvicorn's h11 protocol with a per-request deadline and a connection cap
    (the class attributes; :func:`guarded_protocol` sets them)."""

    request_timeout: float = 10.0
    max_connections: int = 256
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.write(
                _plain_response(503, "Service Unavailable", "too many connections: try again shortly\n", "retry-after: 1")
            )
            transport.close()
            return
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()  # the next request on this connection gets its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def _watch(self) -> None:
        """Keep a deadline running while a request is awaited or still arriving, none
        while the app works on a request received in full. Later bytes of the same
        request never push the deadline back."""
        if self.transport.is_closing():
            self._cancel_deadline()
        elif self.conn.their_state in (h11.IDLE, h11.SEND_BODY):
            if self._deadline is None:
                self._deadline = self.loop.call_later(self.request_timeout, self._expire)
        else:
            self._cancel_deadline()

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.conn.our_state is h11.IDLE:  # no response has begun: say why
            self.transport.write(
                _plain_response(408, "Request Timeout", "the request did not arrive in time\n")
            )
        self.transport.close()


def guarded_protocol(*, request_timeout: float, max_connections: int) -> type[GuardedProtocol]:
    """A protocol class for ``uvicorn.Config(http=...)`` with these limits."""
    if request_timeout <= 0 or max_connections < 1:
        raise ValueError("request_timeout must be positive and max_connections at least 1")
    return type(
        "GuardedProtocol",
        (GuardedProtocol,),
        {"request_timeout": request_timeout, "max_connections": max_connections},
    )
