"""Who may change the archive (and, when it is private, read it).

There is one credential, the token of the configuration (``tidings serve --token``
or ``$TIDINGS_TOKEN``). Programs send it as ``Authorization: Bearer TOKEN``
(feed readers may send it as the password of HTTP Basic). People sign in once
with a form; the server then sets a session cookie (HttpOnly, SameSite=Strict)
made of a random id and its HMAC under a key derived from the token, so
sessions end when the token changes. Every changing form carries a CSRF token,
the HMAC of the session id, and is also refused when its Origin is another site.

Wrong tokens are throttled per client address (:class:`Throttle`): after a few
failures every further try from that address, the right token included, is
answered 429 with Retry-After until a back-off that doubles with each failure
has passed, so the token cannot be guessed at the speed of the server.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request

SESSION_COOKIE = "session"
SESSION_SECONDS = 30 * 86400
MAX_FORM_BYTES = 16 * 1024
_CHECKED = "tidings.token_checked"  # the scope key caching a request's token check


class TooManyAttempts(Exception):
    """A client gave too many wrong tokens; it may try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many wrong tokens from this address: try again in {retry_after} s")
        self.retry_after = retry_after


@dataclass
class _Failures:
    count: int
    last: float  # when the latest failure was
    until: float  # no try is checked before this time


class Throttle:
    """Back-off on wrong tokens, per client address.

    A client's first ``allowed`` failures cost nothing; each later one makes it
    wait ``first_wait`` seconds, doubling, at most ``longest_wait``. While it
    waits, :meth:`attempt` refuses without looking at what it sent. A success
    forgets the client, as does ``forget_after`` seconds without a failure. At
    most ``max_clients`` clients are remembered (the least recently failing is
    dropped first), so a flood of addresses cannot exhaust memory.
    """

    def __init__(
        self,
        *,
        allowed: int = 5,
        first_wait: float = 2.0,
        longest_wait: float = 900.0,
        forget_after: float = 3600.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.allowed = allowed
        self.first_wait = first_wait
        self.longest_wait = longest_wait
        self.forget_after = forget_after
        self.max_clients = max_clients
        self._clock = clock
        self._clients: OrderedDict[str, _Failures] = OrderedDict()
        self._lock = threading.Lock()  # sync views check tokens in the thread pool

    def tracked(self) -> int:
        """How many clients are remembered."""
        return len(self._clients)

    def wait(self, client: str) -> float:
        """Seconds ``client`` must wait before its next try is checked (0: it may try now)."""
        with self._lock:
            return self._wait(client, self._clock())

    def _wait(self, client: str, now: float) -> float:
        failures = self._clients.get(client)
        if failures is None:
            return 0.0
        if now >= failures.until and now - failures.last > self.forget_after:
            del self._clients[client]
            return 0.0
        return max(0.0, failures.until - now)

    def attempt(self, client: str, matches: Callable[[], bool]) -> bool:
        """Check a credential of ``client`` with ``matches`` and record the outcome;
        TooManyAttempts, without calling ``matches``, while the client must wait.
        Checking and recording happen under one lock, so parallel requests cannot
        slip more tries in before the back-off starts."""
        with self._lock:
            now = self._clock()
            wait = self._wait(client, now)
            if wait > 0:
                raise TooManyAttempts(math.ceil(wait))
            if matches():
                self._clients.pop(client, None)
                return True
            failures = self._clients.pop(client, None) or _Failures(0, now, now)
            failures.count += 1
            failures.last = now
            beyond = failures.count - self.allowed
            if beyond >= 0:
                failures.until = now + min(self.longest_wait, self.first_wait * 2.0 ** min(beyond, 64))
            self._clients[client] = failures  # now the most recent
            while len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)
            return False


def client_address(request: Request) -> str:
    """The address throttling counts by: the client's IP address, for IPv6 its /64
    (one host usually has a whole /64 to choose addresses from)."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class Access:
    def __init__(
        self, token: str | None, *, clock: Callable[[], float] = time.time, throttle: Throttle | None = None
    ) -> None:
        self.token = token or None  # an empty token would let anyone in
        self._key = hashlib.sha256(b"tidings session\0" + token.encode()).digest() if token else None
        self._clock = clock
        self._ended: set[str] = set()  # sessions signed out while this server runs
        self.throttle = throttle if throttle is not None else Throttle()

    @property
    def enabled(self) -> bool:
        return self.token is not None

    def _mac(self, message: str) -> str:
        assert self._key is not None
        return hmac.new(self._key, message.encode(), hashlib.sha256).hexdigest()[:40]

    def token_matches(self, given: str) -> bool:
        return self.token is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def check_token(self, request: Request, given: str) -> bool:
        """Whether ``given`` is the token, counted against the request's client:
        TooManyAttempts while that client is backing off (even for the right token,
        so that guessing cannot go on)."""
        if self.token is None:
            return False
        return self.throttle.attempt(client_address(request), lambda: self.token_matches(given))

    def by_header(self, request: Request) -> bool:
        """Whether the request carries the token (Bearer, or the password of HTTP Basic).

        A request without such a header is no try; one with a wrong token is a
        failure of its client (see :meth:`check_token`). The answer is kept on the
        request, so middleware and view checking it both count it once."""
        scope = request.scope
        if _CHECKED not in scope:
            scope[_CHECKED] = self._header_check(request)
        return bool(scope[_CHECKED])

    def _header_check(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return self.check_token(request, value.strip())
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            return self.check_token(request, decoded.partition(":")[2])
        return False

    def new_session(self) -> str:
        """A cookie value for a person who just gave the token: id, time of issue, signature."""
        session_id = f"{secrets.token_urlsafe(18)}.{int(self._clock())}"
        return f"{session_id}.{self._mac('session:' + session_id)}"

    def session(self, request: Request) -> str | None:
        """The signed-in session id of ``request``, or None (forged, expired or signed out)."""
        if self._key is None:
            return None
        session_id, _, mac = request.cookies.get(SESSION_COOKIE, "").rpartition(".")
        if not session_id or not hmac.compare_digest(mac.encode(), self._mac("session:" + session_id).encode()):
            return None
        issued = session_id.rpartition(".")[2]
        if not issued.isdigit() or not 0 <= self._clock() - int(issued) < SESSION_SECONDS:
            return None
        return None if session_id in self._ended else session_id

    def end(self, session_id: str) -> None:
        """Sign a session out (its cookie no longer counts, even if a copy is kept)."""
        self._ended.add(session_id)

    def csrf(self, session_id: str) -> str:
        return self._mac("csrf:" + session_id)

    def may_read(self, request: Request) -> bool:
        return self.by_header(request) or self.session(request) is not None

    def form_allowed(self, request: Request, fields: dict[str, str]) -> bool:
        """Whether a changing form comes from a signed-in page of this site."""
        session_id = self.session(request)
        if session_id is None or not same_origin(request):
            return False
        return hmac.compare_digest(fields.get("csrf", "").encode(), self.csrf(session_id).encode())


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    # The host (and port) must be this one; the scheme may differ behind a TLS-terminating proxy.
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


async def read_form(request: Request) -> dict[str, str]:
    """The fields of a small urlencoded form (the first value of each)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return {}
    try:
        parsed = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {name: values[0] for name, values in parsed.items()}
