"""Finding the character encoding of a feed and decoding it without mojibake.

The order of evidence: a byte order mark; the UTF-16/32 pattern of ``<?``
without one; the HTTP charset (RFC 3023: it overrides the XML declaration;
``text/*`` without a charset means US-ASCII, which tidings applies only to
bytes that are ASCII, since servers send ``text/xml`` for GBK and UTF-8
feeds alike); the XML declaration; UTF-8. Then the labels real feeds get wrong are corrected: GB2312/GBK mean
GB18030 (their superset), Big5 means Big5-HKSCS, ISO-8859-1 and US-ASCII
mean windows-1252 (what every browser does), and a feed labelled Latin-1 or
ASCII whose bytes are valid UTF-8 is UTF-8. If the bytes do not decode under
the chosen encoding, UTF-8 is tried, then GB18030 and Big5-HKSCS when the
result is clearly Chinese text, then windows-1252 (with replacement
characters for its five undefined bytes); each correction is reported.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

__all__ = [
    "Decoded",
    "content_type_charset",
    "decode_feed",
    "decode_html",
    "decode_labelled",
    "normalise_encoding",
]

_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32be"),
    (codecs.BOM_UTF32_LE, "utf-32le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16be"),
    (codecs.BOM_UTF16_LE, "utf-16le"),
)
_PATTERNS = (
    (b"\x00\x00\x00<", "utf-32be"),
    (b"<\x00\x00\x00", "utf-32le"),
    (b"\x00<\x00?", "utf-16be"),
    (b"<\x00?\x00", "utf-16le"),
)
_DECLARATION = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:\-]+)["']""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)

# Labels real feeds use, mapped to the codec that reads what they really contain.
_CORRECTIONS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "gb_2312": "gb18030",
    "euc-cn": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "big5": "big5hkscs",
    "big-5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "iso-8859-1": "windows-1252",
    "latin-1": "windows-1252",
    "latin1": "windows-1252",
    "l1": "windows-1252",
    "iso8859-1": "windows-1252",
    "us-ascii": "windows-1252",
    "ascii": "windows-1252",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "utf-16": "utf-16",
    "utf-32": "utf-32",
}
_ASCII_LABELS = {"iso-8859-1", "latin-1", "latin1", "l1", "iso8859-1", "us-ascii", "ascii", "windows-1252", "cp1252"}
_CJK_FALLBACKS = ("gb18030", "big5hkscs")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True, slots=True)
class Decoded:
    """A feed's text, the encoding name reported for it, and what had to be corrected."""

    text: str
    encoding: str
    problems: tuple[str, ...] = ()
    #: True when the label was unknown or bytes had to be replaced: the text may be wrong.
    doubtful: bool = False


def content_type_charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, lower case."""
    if not content_type:
        return None
    match = _CHARSET.search(content_type)
    return match.group(1).strip().lower() if match else None


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def normalise_encoding(label: str) -> str | None:
    """A Python codec name for a character-encoding label; None for anything else
    (unknown labels, and codecs such as rot13 or base64 that are not text encodings)."""
    label = label.strip().lower()
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name == "undefined":
        return None
    return info.name


def declared_encoding(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """The encoding the bytes and headers declare, and where that came from."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, "byte order mark"
    for pattern, name in _PATTERNS:
        if data.startswith(pattern):
            return name, "byte pattern"
    charset = content_type_charset(content_type)
    media = _media_type(content_type)
    if charset:
        return charset, "HTTP charset"
    if media.startswith("text/") and ("xml" in media or media == "text/plain") and data.isascii():
        # RFC 3023's default for text/* without a charset. With non-ASCII bytes that
        # default is always wrong in practice: the XML declaration is believed instead.
        return "us-ascii", "RFC 3023 default for text/*"
    match = _DECLARATION.match(data[:1024])
    if match:
        return match.group(1).decode("ascii").lower(), "XML declaration"
    return "utf-8", "default"


def _strip_bom(data: bytes) -> bytes:
    for bom, _name in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :]
    return data


def _reported(label: str, codec: str) -> str:
    """The encoding name to report: the label, unless tidings read it as another codec."""
    if codec in ("utf-8", "gb18030"):
        return codec
    return label


def _utf8_cut_short(body: bytes) -> str | None:
    """The text of UTF-8 bytes that are valid but for a character cut off at the very end."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.end == len(body):
            return body[: exc.start].decode("utf-8", "replace")
    return None


def decode_feed(
    data: bytes, content_type: str | None = None, *, assume: str | None = None
) -> Decoded:
    """Decode feed bytes to text, correcting the usual mislabels; never raises.

    ``assume`` overrides what the bytes and headers declare (for a second try).
    """
    if assume is not None:
        label, source = assume, "assumed"
    else:
        label, source = declared_encoding(data, content_type)
    return decode_labelled(_strip_bom(data), label, source)


_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.IGNORECASE
)


def decode_html(data: bytes, content_type: str | None = None) -> Decoded:
    """Decode a web page: BOM, then HTTP charset, then ``<meta charset>``, then UTF-8,
    with the same corrections and fallbacks as feeds (GB2312 read as GB18030 ...)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return decode_labelled(data[len(bom) :], name, "byte order mark")
    charset = content_type_charset(content_type)
    if charset:
        return decode_labelled(data, charset, "HTTP charset")
    meta = _META_CHARSET.search(data[:8192])
    if meta:
        return decode_labelled(data, meta.group(1).decode("ascii").lower(), "meta charset")
    return decode_labelled(data, "utf-8", "default")


def decode_labelled(body: bytes, label: str, source: str) -> Decoded:
    """Decode bytes said (by ``source``) to be in ``label``; never raises."""
    problems: list[str] = []
    codec = _CORRECTIONS.get(label) or normalise_encoding(label)
    doubtful = False
    if codec is None:
        problems.append(f"unknown encoding {label!r} ({source}); reading as UTF-8")
        codec = "utf-8"
        label = "utf-8"
        doubtful = True
    if label in _ASCII_LABELS and not body.isascii():
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if source != "default":
                problems.append(f"labelled {label} ({source}) but the bytes are UTF-8")
            return Decoded(text, "utf-8", tuple(problems))
    try:
        return Decoded(body.decode(codec), _reported(label, codec), tuple(problems), doubtful)
    except UnicodeDecodeError as exc:
        failure = f"not valid {label} ({source}) at byte {exc.start}"
    except (LookupError, UnicodeError) as exc:
        failure = f"cannot decode as {label} ({source}): {exc}"
    truncated = _utf8_cut_short(body)
    if truncated is not None:
        # A download cut off inside a character: the text before it is sound.
        problems.append("ends inside a UTF-8 character (truncated); the partial character is dropped")
        return Decoded(truncated, "utf-8", tuple(problems), doubtful)
    if codec != "utf-8":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            problems.append(f"{failure}; decoded as utf-8")
            return Decoded(text, "utf-8", tuple(problems), doubtful)
    for fallback in _CJK_FALLBACKS:
        if fallback == codec:
            continue
        try:
            text = body.decode(fallback)
        except UnicodeDecodeError:
            continue
        if _looks_chinese(text):
            problems.append(f"{failure}; decoded as {fallback}")
            return Decoded(text, fallback, tuple(problems), doubtful)
    # Mostly Western text with a few stray bytes: windows-1252, as browsers read it.
    problems.append(f"{failure}; decoded as windows-1252")
    text = body.decode("windows-1252", "replace")
    return Decoded(text, "windows-1252", tuple(problems), doubtful or "\ufffd" in text)


def _looks_chinese(text: str) -> bool:
    """Whether text decoded by a CJK codec is really Chinese, not a few stray bytes."""
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    cjk = len(_CJK.findall(text))
    return cjk >= 8 and cjk >= 0.7 * non_ascii
