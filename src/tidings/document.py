"""The archive document format: one article per file, read and written byte-exact.

A document written by tidings is, in UTF-8::

    <!--{ts}-->
    [{title}]({url})
    ------

    {html}

``ts`` is the publication time in epoch milliseconds, ``title`` one line,
``url`` a WHATWG-serialised absolute URL and ``html`` the article HTML on one
line (see :func:`one_line_html`).

Reading is tolerant of every variant the original system produced: bodies
spanning several lines, CRLF line ends, a ``日期：<date>`` line after the
``------`` rule, YAML front matter before the first line, a UTF-8 byte order
mark and unescaped brackets in titles (the last ``](`` on the link line ends
the title). A document keeps the exact text of its header (``head``) and of
its final line end (``tail``), so ``render_document(parse_document(b)) == b``
for every file ``parse_document`` accepts.

File names of the original layout (``<id>_<title>.md``) and the folder name
of each site are made here too, so that every writer and reader of the layout
names files the same, safe way.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from ada_url import URL

from .errors import DocumentError

__all__ = [
    "Document",
    "read_bounded",
    "FIRST_FILE_ID",
    "MAX_DOCUMENT_BYTES",
    "MAX_FILE_NAME_BYTES",
    "document_file_name",
    "new_document",
    "normalise_title",
    "one_line_html",
    "parse_document",
    "parse_file_id",
    "render_document",
    "safe_path_component",
    "serialise_url",
    "site_folder_name",
]

#: The id the original system gave a site's first article; later ones count down.
FIRST_FILE_ID = 0xFFFFF
#: Longest file name, in bytes of UTF-8, that tidings writes.
MAX_FILE_NAME_BYTES = 200
#: Files larger than this are refused rather than read into memory.
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024

_BOM = "\ufeff"
_TS_LINE = re.compile(r"<!--\s*(.*?)\s*-->")
_INT = re.compile(r"[+-]?\d{1,18}")
_RULE = re.compile(r"-{3,}\s*")
_DATE_LINE = re.compile(r"日期[：:]\s*(.*)")
_TITLE_BREAKS = re.compile(r"\r\n|[\r\n\t\v\f\x85\u2028\u2029]")
# A run of HTML whitespace that holds at least one line break.
_BREAKING_SPACE = re.compile(r"[ \t\f]*[\r\n][ \t\r\n\f]*")
# Control characters and lone surrogates: never text, and unwritable as UTF-8.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_LINE_BREAK = re.compile(r"\r\n|[\r\n]")
_PRESERVING = re.compile(r"<(pre|textarea)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
# Characters never allowed in a file or folder name on any common system.
_UNSAFE_NAME_CHARS = re.compile(r'[\x00-\x1f\x7f\x80-\x9f\ud800-\udfff\\/:*?"<>|]')
# Unicode categories never kept in a name: controls, format characters (bidi
# controls such as U+202E, zero-width characters, U+FEFF), surrogates and the
# line and paragraph separators. They are invisible or reorder what is shown.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Names Windows keeps for devices, with or without an extension, in any case.
_WINDOWS_DEVICE = re.compile(
    r"(?:CON|PRN|AUX|NUL|COM[0-9\u00b9\u00b2\u00b3]|LPT[0-9\u00b9\u00b2\u00b3]|CONIN\$|CONOUT\$)"
    r" *(?:\..*)?",
    re.IGNORECASE | re.DOTALL,
)
# A site folder name that carries the mark of a changed site name.
_MARKED_FOLDER = re.compile(r".*~[0-9a-f]{8}", re.DOTALL)
_FILE_ID = re.compile(r"(\d{1,9})_")


@dataclass(frozen=True, slots=True)
class Document:
    """One archive document.

    ``ts`` is None when the file's timestamp is not a number (the original
    system wrote ``NaN`` when a feed gave no date). ``date`` comes from a
    ``日期：`` line when there is one. ``head`` is the exact text before the
    body (front matter included) and ``tail`` the exact line end after it;
    ``bom`` says whether the file began with a UTF-8 byte order mark.
    """

    ts: int | None
    title: str
    url: str
    html: str
    head: str
    tail: str = "\n"
    bom: bool = False
    date: datetime | None = None

    @property
    def published(self) -> datetime | None:
        """The publication time the document states, as aware UTC."""
        if self.ts is not None:
            try:
                return datetime.fromtimestamp(self.ts / 1000, timezone.utc)
            except (OverflowError, OSError, ValueError):
                return self.date
        return self.date


def normalise_title(title: str) -> str:
    """Put a title on one line: each line break or tab becomes a space, ends trimmed.

    Other control characters (NUL, escape sequences) are dropped: they are
    never text, and a NUL would make the file look binary.
    """
    return _CONTROL.sub("", _TITLE_BREAKS.sub(" ", title)).strip()


def one_line_html(html: str) -> str:
    """Put HTML on one line without changing how it renders.

    Each run of whitespace holding a line break becomes one space, so words on
    either side of a break are never glued together. Inside ``<pre>`` and
    ``<textarea>``, where line breaks are content, each becomes ``&#10;``.
    NUL characters become U+FFFD, as an HTML parser would read them.
    """
    # NUL as an HTML parser reads it; lone surrogates cannot be written as UTF-8.
    html = _SURROGATE.sub("\ufffd", html.replace("\x00", "\ufffd"))
    if "\n" not in html and "\r" not in html:
        return html
    parts: list[str] = []
    pos = 0
    for match in _PRESERVING.finditer(html):
        parts.append(_BREAKING_SPACE.sub(" ", html[pos : match.start()]))
        element = match.group(0)
        inner_start = element.index(">") + 1
        inner_end = element.rindex("</")
        # Breaks inside the tags themselves are only whitespace between attributes.
        parts.append(_BREAKING_SPACE.sub(" ", element[:inner_start]))
        parts.append(_LINE_BREAK.sub("&#10;", element[inner_start:inner_end]))
        parts.append(_BREAKING_SPACE.sub(" ", element[inner_end:]))
        pos = match.end()
    parts.append(_BREAKING_SPACE.sub(" ", html[pos:]))
    return "".join(parts)


def serialise_url(url: str) -> str:
    """Serialise a URL the WHATWG way (non-ASCII percent-encoded).

    Text that is not an absolute URL is kept, on one line. A ``](`` inside the
    URL is encoded so that the link line stays unambiguous.
    """
    url = url.strip()
    try:
        href = URL(url).href
    except ValueError:
        href = _CONTROL.sub("", _TITLE_BREAKS.sub("", url))
    return href.replace("](", "%5D(")


def new_document(ts: int, title: str, url: str, html: str) -> Document:
    """Build a document as tidings writes it, normalising every field."""
    title = normalise_title(title)
    url = serialise_url(url)
    return Document(
        ts=ts,
        title=title,
        url=url,
        html=one_line_html(html),
        head=f"<!--{ts}-->\n[{title}]({url})\n------\n\n",
    )


def render_document(doc: Document) -> bytes:
    """The bytes of a document file."""
    text = doc.head + doc.html + doc.tail
    return ((_BOM + text) if doc.bom else text).encode("utf-8", "replace")


class _Lines:
    """A cursor over the lines of a text that keeps each line's exact ending."""

    __slots__ = ("text", "pos", "number")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.number = 0

    def next(self, what: str) -> str:
        """The next line without its ending; DocumentError if the text ends first."""
        end = self.text.find("\n", self.pos)
        if end < 0:
            raise DocumentError(f"file ends before {what} (line {self.number + 1}); truncated?")
        line = self.text[self.pos : end]
        self.pos = end + 1
        self.number += 1
        return line[:-1] if line.endswith("\r") else line


def _decode(data: bytes) -> tuple[str, bool]:
    if not data:
        raise DocumentError("empty file")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"file too large ({len(data)} bytes, limit {MAX_DOCUMENT_BYTES})")
    if b"\x00" in data[:8192]:
        raise DocumentError("binary file (NUL bytes), not an archive document")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"not UTF-8 text: invalid byte 0x{data[exc.start]:02x} at offset {exc.start}"
        ) from exc
    if text.startswith(_BOM):
        return text[1:], True
    return text, False


def parse_document(data: bytes) -> Document:
    """Read one archive document; :class:`DocumentError` says why a file is not one."""
    text, bom = _decode(data)
    lines = _Lines(text)
    line = lines.next("the timestamp line")
    if line.strip() == "---":
        # YAML front matter: kept verbatim in the head, never interpreted.
        while lines.next("the end of the front matter").strip() != "---":
            pass
        line = lines.next("the timestamp line")
    ts_match = _TS_LINE.fullmatch(line.strip())
    if ts_match is None:
        # Not quoted: a file without this line is not a document, and its text may be anything.
        raise DocumentError(
            f"line {lines.number}: not an archive document (no <!--timestamp--> line)"
        )
    ts_text = ts_match.group(1)
    ts = int(ts_text) if _INT.fullmatch(ts_text) else None

    link = lines.next("the [title](url) line").strip()
    split = link.rfind("](")
    if not link.startswith("[") or not link.endswith(")") or split < 0:
        raise DocumentError(f"line {lines.number}: expected [title](url), found {_show(link)}")
    title = link[1:split]
    url = link[split + 2 : -1]

    rule = lines.next("the ------ line")
    if not _RULE.fullmatch(rule):
        raise DocumentError(f"line {lines.number}: expected ------, found {_show(rule)}")

    date = None
    while True:
        body_start = lines.pos
        line = lines.next("the article body")
        date_match = _DATE_LINE.fullmatch(line.strip())
        if date_match is not None:
            date = _parse_date(date_match.group(1))
            continue
        if line.strip():
            # No blank line before the body: the body starts on this line.
            lines.pos = body_start
        break

    head = text[: lines.pos]
    body = text[lines.pos :]
    if not body:
        raise DocumentError("file ends before the article body; truncated?")
    if body.endswith("\r\n"):
        html, tail = body[:-2], "\r\n"
    elif body.endswith("\n"):
        html, tail = body[:-1], "\n"
    else:
        raise DocumentError("the body does not end with a line break; truncated?")
    if not html.strip():
        raise DocumentError("the article body is empty")
    return Document(ts=ts, title=title, url=url, html=html, head=head, tail=tail, bom=bom, date=date)


def _parse_date(text: str) -> datetime | None:
    try:
        value = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if value.tzinfo is None:
        return None
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        return None


def _show(line: str, limit: int = 60) -> str:
    return repr(line if len(line) <= limit else line[:limit] + "…")


def safe_path_component(name: str, *, max_bytes: int = MAX_FILE_NAME_BYTES) -> str:
    """A file or folder name valid everywhere, made from arbitrary text.

    Control characters, ``\\/:*?"<>|``, bidi controls and other invisible
    format characters (Unicode categories Cc, Cf, Cs, Zl, Zp) are removed,
    surrounding spaces and dots trimmed (so no name is ``.`` or ``..`` or ends
    with a dot or space), a Windows device name (``CON``, ``nul.txt``,
    ``COM1`` ...) gets a leading ``_``, and the result is cut to ``max_bytes``
    (never more than 200) of UTF-8 on a character boundary.
    """
    max_bytes = min(max_bytes, MAX_FILE_NAME_BYTES)
    cleaned = _visible_name(name, max_bytes)
    if _WINDOWS_DEVICE.fullmatch(cleaned):
        cleaned = _cut("_" + cleaned, max_bytes)
    return cleaned


def _visible_name(name: str, max_bytes: int) -> str:
    """``name`` without the characters no name may hold, trimmed and cut."""
    cleaned = _UNSAFE_NAME_CHARS.sub("", name)
    if not cleaned.isascii():
        cleaned = "".join(
            c for c in cleaned if unicodedata.category(c) not in _INVISIBLE_CATEGORIES
        )
    return _cut(cleaned.strip(" ."), max_bytes)


def _cut(name: str, max_bytes: int) -> str:
    encoded = name.encode("utf-8")
    if len(encoded) <= max_bytes:
        return name
    return encoded[:max_bytes].decode("utf-8", "ignore").rstrip(" .")


def site_folder_name(site: str) -> str:
    """The folder of a site in the repository layout (``articles/<folder>/``,
    ``lists/<folder>.md``): one folder per site, never shared.

    A site name that is already a safe name (:func:`safe_path_component` keeps
    it as it is, ``lists/<folder>.md`` included) is its own folder name, as in
    the original layout. Any other name, and one that itself ends like a
    marked name, becomes its cleaned form (``site`` if nothing is left), ``~``
    and the first 8 hex digits of the SHA-256 of the site name:
    ``News/World`` is ``NewsWorld~`` and a digest, so it never meets the
    folder of ``NewsWorld`` or ``News:World``. The list file of a site starts
    with the site name, which is how an import gives a marked folder its
    site's name back.
    """
    budget = MAX_FILE_NAME_BYTES - len(".md")
    if safe_path_component(site, max_bytes=budget) == site and not _MARKED_FOLDER.fullmatch(site):
        return site
    digest = hashlib.sha256(site.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    stem = safe_path_component(site, max_bytes=budget - len(digest) - 1) or "site"
    return f"{stem}~{digest}"


def document_file_name(file_id: int, title: str) -> str:
    """The file name the original layout gives an article: ``<id>_<title>.md``.

    ``/`` in a title becomes ``--`` as in the original system; the title loses
    what :func:`safe_path_component` removes and the name is at most
    :data:`MAX_FILE_NAME_BYTES` bytes long. (The leading id means a name is
    never a Windows device name, so a title such as ``CON`` is kept.)
    """
    prefix = f"{file_id}_"
    budget = MAX_FILE_NAME_BYTES - len(prefix) - len(".md")
    stem = _visible_name(normalise_title(title).replace("/", "--"), budget)
    return f"{prefix}{stem}.md"


def parse_file_id(file_name: str) -> int | None:
    """The numeric id at the start of a ``<id>_<title>.md`` name, if any."""
    match = _FILE_ID.match(file_name)
    return int(match.group(1)) if match else None


def read_bounded(fd: int, limit: int, size_hint: int = 0) -> bytes:
    """At most ``limit + 1`` bytes from ``fd``: more than ``limit`` means the file is too large.

    ``size_hint`` (what ``fstat`` says) only sizes the first read; reading goes
    on to the end of the file or past the limit whatever it claimed.
    """
    chunks: list[bytes] = []
    total = 0
    want = min(max(size_hint, 0) + 1, limit + 1)
    while total <= limit:
        chunk = os.read(fd, max(1, min(want, limit + 1 - total)))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        want = 1 << 20
    return b"".join(chunks)
