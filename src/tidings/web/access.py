"""Who may change the archive (and, when it is private, read it).

There is one credential, the token of the configuration (``tidings serve --token``
or ``$TIDINGS_TOKEN``). Programs send it as ``Authorization: Bearer TOKEN``
(feed readers may send it as the password of HTTP Basic). People sign in once
with a form; the server then sets a session cookie (HttpOnly, SameSite=Strict)
made of a random id and its HMAC under a key derived from the token, so
sessions end when the token changes. Every changing form carries a CSRF token,
the HMAC of the session id, and is also refused when its Origin is another site.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request

SESSION_COOKIE = "session"
SESSION_SECONDS = 30 * 86400
MAX_FORM_BYTES = 16 * 1024


class Access:
    def __init__(self, token: str | None, *, clock: Callable[[], float] = time.time) -> None:
        self.token = token or None  # an empty token would let anyone in
        self._key = hashlib.sha256(b"tidings session\0" + token.encode()).digest() if token else None
        self._clock = clock
        self._ended: set[str] = set()  # sessions signed out while this server runs

    @property
    def enabled(self) -> bool:
        return self.token is not None

    def _mac(self, message: str) -> str:
        assert self._key is not None
        return hmac.new(self._key, message.encode(), hashlib.sha256).hexdigest()[:40]

    def token_matches(self, given: str) -> bool:
        return self.token is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def by_header(self, request: Request) -> bool:
        """Whether the request carries the token (Bearer, or the password of HTTP Basic)."""
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return self.token_matches(value.strip())
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return False
            return self.token_matches(decoded.partition(":")[2])
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
