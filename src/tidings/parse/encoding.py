"""Finding the character encoding of a feed and decoding it without mojibake.

The order of evidence: a byte order mark; the UTF-16/32 pattern of ``<?``
without one; the HTTP charset (RFC 3023: it overrides the XML declaration;
``text/*`` without a charset means US-ASCII, which tidings applies only to
bytes that are ASCII, since servers send ``text/xml`` for GBK and UTF-8
feeds alike); the XML declaration; UTF-8. Only real character encodings
count: the labels of the WHATWG Encoding Standard plus a few Chinese and
Unicode ones; any other label (Python's ``unicode_escape``, ``punycode``,
``utf-7`` ...) is passed over for the next evidence and reported. Then the
labels real feeds get wrong are corrected: GB2312/GBK mean GB18030 (their
superset), Big5 means Big5-HKSCS, ISO-8859-1 and US-ASCII mean windows-1252
(what every browser does), and a feed labelled Latin-1 or ASCII whose bytes
are valid UTF-8 is UTF-8. If the bytes do not decode under
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
    "choose_encoding",
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

# The labels of the WHATWG Encoding Standard (what browsers accept), each with the Python codec
# that reads what the label really names there: the GBK labels read as GB18030 (their superset),
# Big5 as Big5-HKSCS, Latin-1 and US-ASCII as windows-1252, Shift_JIS as windows-31j (cp932),
# EUC-KR as its superset UHC (cp949). UTF-16 without a byte order mark follows Python's codec.
_WHATWG_LABELS = (
    ("utf-8", "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8"),
    ("cp866", "866 cp866 csibm866 ibm866"),
    ("iso8859-2", "csisolatin2 iso-8859-2 iso-ir-101 iso8859-2 iso88592 iso_8859-2 iso_8859-2:1987 l2 latin2"),
    ("iso8859-3", "csisolatin3 iso-8859-3 iso-ir-109 iso8859-3 iso88593 iso_8859-3 iso_8859-3:1988 l3 latin3"),
    ("iso8859-4", "csisolatin4 iso-8859-4 iso-ir-110 iso8859-4 iso88594 iso_8859-4 iso_8859-4:1988 l4 latin4"),
    ("iso8859-5", "csisolatincyrillic cyrillic iso-8859-5 iso-ir-144 iso8859-5 iso88595 iso_8859-5 iso_8859-5:1988"),
    (
        "iso8859-6",
        "arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114 iso-8859-6 iso-8859-6-e "
        "iso-8859-6-i iso-ir-127 iso8859-6 iso88596 iso_8859-6 iso_8859-6:1987",
    ),
    (
        "iso8859-7",
        "csisolatingreek ecma-118 elot_928 greek greek8 iso-8859-7 iso-ir-126 iso8859-7 iso88597 "
        "iso_8859-7 iso_8859-7:1987 sun_eu_greek",
    ),
    (
        "iso8859-8",
        "csiso88598e csisolatinhebrew hebrew iso-8859-8 iso-8859-8-e iso-ir-138 iso8859-8 iso88598 "
        "iso_8859-8 iso_8859-8:1988 visual csiso88598i iso-8859-8-i logical",
    ),
    ("iso8859-10", "csisolatin6 iso-8859-10 iso-ir-157 iso8859-10 iso885910 l6 latin6"),
    ("iso8859-13", "iso-8859-13 iso8859-13 iso885913"),
    ("iso8859-14", "iso-8859-14 iso8859-14 iso885914"),
    ("iso8859-15", "csisolatin9 iso-8859-15 iso8859-15 iso885915 iso_8859-15 l9"),
    ("iso8859-16", "iso-8859-16"),
    ("koi8-r", "cskoi8r koi koi8 koi8-r koi8_r"),
    ("koi8-u", "koi8-ru koi8-u"),
    ("mac-roman", "csmacintosh mac macintosh x-mac-roman"),
    ("cp874", "dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874"),
    ("cp1250", "cp1250 windows-1250 x-cp1250"),
    ("cp1251", "cp1251 windows-1251 x-cp1251"),
    (
        "cp1252",
        "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 iso8859-1 iso88591 "
        "iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii windows-1252 x-cp1252",
    ),
    ("cp1253", "cp1253 windows-1253 x-cp1253"),
    (
        "cp1254",
        "cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9 iso_8859-9:1989 l5 "
        "latin5 windows-1254 x-cp1254",
    ),
    ("cp1255", "cp1255 windows-1255 x-cp1255"),
    ("cp1256", "cp1256 windows-1256 x-cp1256"),
    ("cp1257", "cp1257 windows-1257 x-cp1257"),
    ("cp1258", "cp1258 windows-1258 x-cp1258"),
    ("mac-cyrillic", "x-mac-cyrillic x-mac-ukrainian"),
    ("gb18030", "chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk gb18030"),
    ("big5hkscs", "big5 big5-hkscs cn-big5 csbig5 x-x-big5"),
    ("euc_jp", "cseucpkdfmtjapanese euc-jp x-euc-jp"),
    ("iso2022_jp", "csiso2022jp iso-2022-jp"),
    ("cp932", "csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis"),
    (
        "cp949",
        "cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989 ksc5601 ksc_5601 "
        "windows-949",
    ),
    ("utf-16-be", "unicodefffe utf-16be"),
    ("utf-16-le", "csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16le"),
    ("utf-16", "utf-16"),
)
# Labels outside the standard that Chinese and Unicode feeds use for the same encodings.
_MORE_LABELS = (
    ("gb18030", "euc-cn cp936 ms936"),
    ("big5hkscs", "big-5 cp950 big5hkscs"),
    ("cp1252", "latin-1"),
    ("cp932", "cp932"),
    ("cp949", "cp949"),
    ("utf-32", "utf-32"),
    ("utf-32-be", "utf-32be"),
    ("utf-32-le", "utf-32le"),
)
_LABELS = {label: codec for codec, labels in _WHATWG_LABELS + _MORE_LABELS for label in labels.split()}
# Labels of the standard's "replacement" encoding (ISO-2022-KR/CN, HZ: 7-bit encodings that can
# smuggle markup past filters, which browsers refuse to decode) and x-user-defined (no text).
_REFUSED_LABELS = {
    "csiso2022kr", "hz-gb-2312", "iso-2022-cn", "iso-2022-cn-ext", "iso-2022-kr", "replacement",
    "x-user-defined",
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
    """The Python codec that reads a character-encoding label; None for anything else.

    Only the labels of the WHATWG Encoding Standard and the Chinese and Unicode
    labels above count: Python's own codecs that are no character encoding of
    the web (``unicode_escape``, ``raw_unicode_escape``, ``punycode``, ``idna``,
    ``utf-7``, ``rot13``, ``base64``, EBCDIC ...) are not labels a feed may use.
    Matching ignores case, surrounding white space, and ``_`` for ``-``.
    """
    label = label.strip().lower()
    codec = _LABELS.get(label)
    if codec is None and "_" in label:
        codec = _LABELS.get(label.replace("_", "-"))
    return codec


def _unusable(label: str, source: str) -> str:
    """Why a label that :func:`normalise_encoding` refuses is not used, for the problems list."""
    name = label.strip().lower()
    if name in _REFUSED_LABELS:
        why = "an encoding that carries no text tidings can read"
    else:
        try:
            codecs.lookup(name)
        except LookupError:
            why = "an unknown encoding"
        else:
            why = "not a character encoding feeds use"
    return f"ignored the encoding label {label!r} ({source}): {why}"


def _evidence(data: bytes, content_type: str | None) -> list[tuple[str, str]]:
    """What the bytes and headers say about the encoding, strongest first; UTF-8 last."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return [(name, "byte order mark")]
    for pattern, name in _PATTERNS:
        if data.startswith(pattern):
            return [(name, "byte pattern")]
    found: list[tuple[str, str]] = []
    charset = content_type_charset(content_type)
    media = _media_type(content_type)
    if charset:
        found.append((charset, "HTTP charset"))
    elif media.startswith("text/") and ("xml" in media or media == "text/plain") and data.isascii():
        # RFC 3023's default for text/* without a charset. With non-ASCII bytes that
        # default is always wrong in practice: the XML declaration is believed instead.
        return [("us-ascii", "RFC 3023 default for text/*")]
    match = _DECLARATION.match(data[:1024])
    if match:
        found.append((match.group(1).decode("ascii").lower(), "XML declaration"))
    found.append(("utf-8", "default"))
    return found


def choose_encoding(data: bytes, content_type: str | None = None) -> tuple[str, str, tuple[str, ...]]:
    """The encoding label to read the bytes with, where it came from, and the labels passed over.

    A label that names no character encoding (see :func:`normalise_encoding`)
    is passed over for the next evidence, and said so in the third value.
    """
    ignored: list[str] = []
    for label, source in _evidence(data, content_type):
        if source == "default" or normalise_encoding(label) is not None:
            return label, source, tuple(ignored)
        ignored.append(_unusable(label, source))
    return "utf-8", "default", tuple(ignored)  # not reached: the default always counts


def declared_encoding(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """The encoding the bytes and headers declare, and where that came from."""
    label, source, _ignored = choose_encoding(data, content_type)
    return label, source


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
        return decode_labelled(_strip_bom(data), assume, "assumed")
    label, source, ignored = choose_encoding(data, content_type)
    return _with_ignored(decode_labelled(_strip_bom(data), label, source), ignored)


def _with_ignored(decoded: Decoded, ignored: tuple[str, ...]) -> Decoded:
    """The decoded text with the labels passed over noted first (they make the text doubtful)."""
    if not ignored:
        return decoded
    return Decoded(decoded.text, decoded.encoding, ignored + decoded.problems, True)


_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.IGNORECASE
)


def decode_html(data: bytes, content_type: str | None = None) -> Decoded:
    """Decode a web page: BOM, then HTTP charset, then ``<meta charset>``, then UTF-8,
    with the same corrections and fallbacks as feeds (GB2312 read as GB18030 ...)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return decode_labelled(data[len(bom) :], name, "byte order mark")
    ignored: list[str] = []
    charset = content_type_charset(content_type)
    if charset:
        if normalise_encoding(charset) is not None:
            return decode_labelled(data, charset, "HTTP charset")
        ignored.append(_unusable(charset, "HTTP charset"))
    meta = _META_CHARSET.search(data[:8192])
    if meta:
        label = meta.group(1).decode("ascii").lower()
        if normalise_encoding(label) is not None:
            return _with_ignored(decode_labelled(data, label, "meta charset"), tuple(ignored))
        ignored.append(_unusable(label, "meta charset"))
    return _with_ignored(decode_labelled(data, "utf-8", "default"), tuple(ignored))


def decode_labelled(body: bytes, label: str, source: str) -> Decoded:
    """Decode bytes said (by ``source``) to be in ``label``; never raises."""
    problems: list[str] = []
    codec = normalise_encoding(label)
    doubtful = False
    if codec is None:
        problems.append(f"{_unusable(label, source)}; reading as UTF-8")
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
