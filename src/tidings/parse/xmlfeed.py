"""Reading XML feeds (RSS and Atom) with lxml, safely, in bounded memory.

The bytes go to libxml2's push parser in chunks; each item or entry is
turned into the model as soon as its end tag is read, then dropped from the
tree, so memory stays proportional to the input, not to the tree. The parser
never resolves entities, loads a DTD or touches the network: no external
entities, no entity expansion bombs.

A document that is not well-formed is read again after repairs (HTML named
entities such as ``&nbsp;`` become character references, a bare ``&`` or
``<`` is escaped, control characters are dropped, all outside CDATA
sections). If it is still broken, it is read item by item: a linear scan cuts
it into the feed's skeleton and one chunk per ``item`` or ``entry``; the
skeleton gives the feed and each chunk is parsed on its own, strictly, then
with libxml2's recovery unless a limit (nesting depth, text size) was hit, so
one unreadable item costs only itself. A document cut off before its end
keeps every item that was complete. What could not be read is counted on the
result (``item_elements``, ``skipped_items``) and said in ``problems``.

RSS elements in a default namespace tidings does not know (``<rss
xmlns="https://cyber.harvard.edu/rss/rss.html">``) are read as RSS's own.
"""

from __future__ import annotations

import copy
import html
import re
from dataclasses import dataclass, field
from html.entities import html5
from typing import Any

from lxml import etree

from ..errors import FeedParseError, NotAFeedError
from ..model import ParsedEntry, ParsedFeed
from .atom import atom_entry, atom_feed_fields
from .common import (
    ATOM03,
    ATOM10,
    RSS090,
    RSS10,
    Context,
    element_key,
    has_cjk,
    normalise_language,
)
from .dates import parse_date
from .encoding import choose_encoding, decode_feed, normalise_encoding
from .rss import rss_entry, rss_feed_fields

__all__ = ["parse_xml_feed"]

CHUNK = 1 << 20
#: Documents up to this size are parsed whole (faster); larger ones incrementally.
WHOLE_LIMIT = 8 << 20
_ATOM_ENTRY_TAGS = {"{http://www.w3.org/2005/Atom}entry", "{http://purl.org/atom/ns#}entry", "entry"}
_ITEM_TAGS = ("{*}item", "{*}entry")
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_UTF8_NAMES = {"utf-8", "utf8"}
_ASCII_NAMES = {"us-ascii", "ascii"}

_CDATA = re.compile(rb"<!\[CDATA\[.*?(?:\]\]>|\Z)", re.DOTALL)
_AMPERSAND = re.compile(rb"&(?:([A-Za-z][A-Za-z0-9]{0,31});|#([0-9]{1,8});|#[xX]([0-9a-fA-F]{1,8});)?")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]+")
# A "<" that cannot start markup: not followed by a name, "/", "!" or "?".
_BARE_LT = re.compile(rb"<(?![A-Za-z_:/!?\x80-\xff])")
_XML_NAMED = {b"amp", b"lt", b"gt", b"quot", b"apos"}


def _valid_xml_char(code: int) -> bool:
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _repair_reference(match: re.Match[bytes]) -> bytes:
    name, decimal, hexadecimal = match.groups()
    if name is not None:
        if name in _XML_NAMED:
            return match.group(0)
        text = html5.get(name.decode("ascii") + ";")
        if text is None:
            return b"&amp;" + match.group(0)[1:]
        return "".join(f"&#{ord(ch)};" for ch in text).encode("ascii")
    if decimal is not None or hexadecimal is not None:
        code = int(decimal) if decimal is not None else int(hexadecimal, 16)
        return match.group(0) if _valid_xml_char(code) else b"&#65533;"
    return b"&amp;"


def _repair_text(text: bytes) -> bytes:
    text = _AMPERSAND.sub(_repair_reference, text)
    return _BARE_LT.sub(b"&lt;", text) if b"<" in text else text


def repair_xml(payload: bytes) -> bytes:
    """Fix the usual well-formedness errors of feeds (UTF-8 bytes in, UTF-8 bytes out)."""
    payload = _CONTROL.sub(b"", payload)
    parts: list[bytes] = []
    position = 0
    for cdata in _CDATA.finditer(payload):
        parts.append(_repair_text(payload[position : cdata.start()]))
        parts.append(cdata.group(0))
        position = cdata.end()
    parts.append(_repair_text(payload[position:]))
    return b"".join(parts)


@dataclass(slots=True)
class _Pass:
    """The outcome of one parse of the document."""

    entries: list[ParsedEntry] = field(default_factory=list)
    root: Any = None
    context: Context | None = None
    error: etree.XMLSyntaxError | None = None
    #: How many item or entry elements the document has (any namespace, any place).
    item_elements: int = 0
    #: Set when the document was read item by item: what was skipped, for ``problems``.
    by_item: list[str] | None = None


def _version(root: Any) -> str | None:
    tag = root.tag
    if not isinstance(tag, str):
        return None
    namespace, _, local = tag[1:].partition("}") if tag[:1] == "{" else ("", "", tag)
    local = local.lower()
    if local == "rss":
        version = (root.get("version") or "").strip()
        if version.startswith("2."):
            return "rss20"
        if version == "0.91":
            # Netscape's 0.91 names its DTD; UserLand's does not.
            docinfo = root.getroottree().docinfo
            return "rss091n" if "netscape" in (docinfo.system_url or "").lower() else "rss091u"
        return {"0.92": "rss092", "0.93": "rss093", "0.94": "rss094"}.get(version, "rss")
    if local == "rdf":
        for child in root:
            if isinstance(child.tag, str) and child.tag.startswith(f"{{{RSS090}}}"):
                return "rss090"
        return "rss10"
    if local == "feed":
        if namespace == ATOM10:
            return "atom10"
        if namespace == ATOM03:
            return "atom03"
        return "atom"
    if local == "channel" and namespace in (RSS10, RSS090, ""):
        return "rss"
    return None


def _channel(root: Any, version: str) -> Any:
    if version.startswith("rss") and version not in ("rss10", "rss090"):
        for child in root:
            if isinstance(child.tag, str) and element_key(child.tag) == "channel":
                return child
    if version in ("rss10", "rss090"):
        for child in root:
            if isinstance(child.tag, str) and element_key(child.tag) == "channel":
                return child
    return root


def _feed_language(root: Any, channel: Any) -> str | None:
    for child in channel:
        if isinstance(child.tag, str) and element_key(child.tag) in ("language", "dc:language"):
            text = (child.text or "").strip()
            if text:
                return normalise_language(text)
    return normalise_language(channel.get(_XML_LANG) or root.get(_XML_LANG))


def _feed_title(channel: Any) -> str | None:
    for child in channel:
        if isinstance(child.tag, str) and element_key(child.tag) in ("title", "atom:title"):
            return str(child.text) if child.text is not None else None
    return None


def _foreign_rss_namespace(root: Any) -> str | None:
    """The namespace of an ``<rss>`` root when it is not one of RSS's (nor any tidings knows)."""
    tag = root.tag
    if not isinstance(tag, str) or tag[:1] != "{":
        return None
    namespace, _, local = tag[1:].partition("}")
    if local.lower() != "rss" or element_key(tag) != tag:
        return None
    return namespace


def _adopt_namespace(element: Any, namespace: str) -> None:
    """Move the element and everything under it that is in the namespace into no namespace."""
    cut = len(namespace) + 2
    for node in element.iter(f"{{{namespace}}}*"):
        node.tag = node.tag[cut:]


def _adopt_tree(root: Any, namespace: str) -> None:
    """Adopt a whole parsed tree and drop the declaration no element uses any more, so
    that markup serialised from it does not claim the namespace back."""
    _adopt_namespace(root, namespace)
    etree.cleanup_namespaces(root)


def _adopt_ancestors(element: Any, namespace: str) -> None:
    prefix = f"{{{namespace}}}"
    for ancestor in element.iterancestors():
        if ancestor.tag.startswith(prefix):
            ancestor.tag = ancestor.tag[len(prefix) :]


def _make_context(root: Any, url: str | None, uses_xml_base: bool) -> Context | None:
    namespace = _foreign_rss_namespace(root)
    if namespace is not None:
        # A misdeclared default namespace: the elements are RSS's all the same.
        _adopt_namespace(root, namespace)
    version = _version(root)
    if version is None:
        return None
    channel = _channel(root, version)
    language = _feed_language(root, channel)
    chinese = (language or "").lower().startswith("zh") or (
        not language and has_cjk(_feed_title(channel))
    )
    context = Context(url, version, language, chinese, uses_xml_base)
    if version == "atom" and root.tag[:1] == "{":
        context.foreign_namespace = root.tag[1:].partition("}")[0]
    if namespace is not None:
        context.rss_namespace = namespace
        context.problems.append(f"RSS elements are in the unknown namespace {namespace!r}; read as RSS")
    return context


def _parser_options(recover: bool) -> dict[str, Any]:
    return {
        "encoding": "utf-8",
        "resolve_entities": False,
        "no_network": True,
        "load_dtd": False,
        "dtd_validation": False,
        "huge_tree": False,
        "recover": recover,
        "remove_comments": True,
        "remove_pis": True,
    }


def _parse_whole(payload: bytes, url: str | None, c1: bool) -> _Pass:
    """The fast path for documents of ordinary size: one parse, then walk the items."""
    result = _Pass()
    try:
        root = etree.fromstring(payload, etree.XMLParser(**_parser_options(False)), base_url=url)
    except etree.XMLSyntaxError as exc:
        result.error = exc
        return result
    result.root = root
    result.item_elements = _count_items(root)
    # element.base (a C call) is cheaper than searching the bytes for xml:base.
    context = result.context = _make_context(root, url, True)
    if context is None:
        return result
    context.c1 = c1
    if context.rss_namespace is not None:
        _adopt_tree(root, context.rss_namespace)
    if context.version.startswith("atom"):
        for element in root:
            if element.tag in _ATOM_ENTRY_TAGS or (
                isinstance(element.tag, str) and element.tag.endswith("}entry")
            ):
                result.entries.append(atom_entry(element, context))
        return result
    # Items belong in the channel (RSS 1.0: beside it); some feeds put them after it.
    holders = [root] + [c for c in root if isinstance(c.tag, str) and element_key(c.tag) == "channel"]
    for holder in holders:
        for element in holder:
            tag = element.tag
            if isinstance(tag, str) and (tag == "item" or tag.endswith("}item")):
                result.entries.append(rss_entry(element, context))
    return result


def _parse_pass(payload: bytes, url: str | None, *, recover: bool, c1: bool) -> _Pass:
    """A parse in bounded memory: libxml2's push parser, items handled as they end."""
    result = _Pass()
    parser = etree.XMLPullParser(
        events=("end",), tag=_ITEM_TAGS, base_url=url, **_parser_options(recover)
    )
    uses_xml_base = b"xml:base" in payload
    done: list[Any] = []
    try:
        for start in range(0, len(payload), CHUNK):
            parser.feed(payload[start : start + CHUNK])
            _take_items(parser, result, url, uses_xml_base, done, c1)
        result.root = parser.close()
        _take_items(parser, result, url, uses_xml_base, done, c1)
    except etree.XMLSyntaxError as exc:
        result.error = exc
    if result.context is None and result.root is not None:
        result.context = _make_context(result.root, url, uses_xml_base)
        if result.context is not None:
            result.context.c1 = c1
    return result


def _count_items(root: Any) -> int:
    """How many item or entry elements a tree has, in any namespace and place."""
    return sum(1 for _ in root.iter(*_ITEM_TAGS))


def _take_items(
    parser: Any, result: _Pass, url: str | None, uses_xml_base: bool, done: list[Any], c1: bool
) -> None:
    for _event, element in parser.read_events():
        result.item_elements += 1
        parent = element.getparent()
        if parent is None:
            continue
        context = result.context
        if context is None:
            root = element.getroottree().getroot()
            context = result.context = _make_context(root, url, uses_xml_base)
            if context is None:
                continue
            context.c1 = c1
            result.root = root
        if context.rss_namespace is not None:
            _adopt_namespace(element, context.rss_namespace)
            _adopt_ancestors(element, context.rss_namespace)
        key = element_key(parent.tag) if isinstance(parent.tag, str) else ""
        if context.version.startswith("atom"):
            if parent is not result.root:
                continue
            result.entries.append(atom_entry(element, context))
        else:
            if key not in ("channel", "rdf:rdf", "rss"):
                continue
            if context.rss_namespace is None:
                result.entries.append(rss_entry(element, context))
            else:
                # A copy declares only the namespaces it uses: not the adopted one, which the
                # document's root still declares while the parser reads on.
                result.entries.append(rss_entry(copy.deepcopy(element), context))
        # Bound memory: drop items already read (earlier siblings are safe to remove).
        for old in done:
            old_parent = old.getparent()
            if old_parent is not None:
                old_parent.remove(old)
        done.clear()
        element.clear(keep_tail=True)
        done.append(element)


def _error_near_end(error: etree.XMLSyntaxError, payload: bytes) -> bool:
    """Whether a syntax error is where a truncated document would stop."""
    line, column = error.position if error.position else (0, 0)
    offset = 0
    for _ in range(line - 1):
        found = payload.find(b"\n", offset)
        if found < 0:
            return True
        offset = found + 1
    return len(payload) - (offset + max(column - 1, 0)) < 512


#: At most this many items of a broken document are read one by one; the rest are skipped.
MAX_ITEM_CHUNKS = 10_000
#: At most this many skipped items are named one by one in ``problems``.
_NAMED_SKIPS = 3

# What the item scan looks at: CDATA sections and comments (passed over whole, even when
# unterminated, so the scan stays linear), and the start and end tags of items, entries and
# the elements that hold them.
_SCAN = re.compile(
    rb"<!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z)"
    rb"|<(/?)((?:[A-Za-z_][\w.-]*:)?(?:item|entry|channel|feed|rss|RDF))(?=[\s/>])",
    re.DOTALL,
)
_ITEM_LOCAL_NAMES = (b"item", b"entry")
# How a chunk ends: with its end tag, where the next item or the holder begins, or at the
# end of a document that was cut off.
_CLOSED, _UNCLOSED, _CUT = "closed", "unclosed", "cut"


@dataclass(slots=True)
class _Split:
    """A broken document cut into its skeleton (the feed without its items) and item chunks."""

    skeleton: bytes
    #: Where each item starts and stops and how it ends; only the first MAX_ITEM_CHUNKS.
    chunks: list[tuple[int, int, str]]
    #: How many items there are in all.
    count: int
    local_name: bytes


def _split_items(payload: bytes) -> _Split | None:
    """Cut the document at its item (or entry) tags, in one linear scan; None when it has none.

    The first item-like tag names the items (``item``, ``entry``, ``rss:item`` ...). An item
    ends at its end tag, else where the next item starts or its holder ends. What lies between
    items goes to the skeleton, up to MAX_ITEM_CHUNKS items; past them only the count grows.
    """
    name: bytes | None = None
    chunks: list[tuple[int, int, str]] = []
    count = 0
    pieces: list[bytes] = []
    position = 0  # where the skeleton not yet copied starts
    opened = -1  # where the item being scanned starts

    def close(stop: int, ending: str) -> None:
        if len(chunks) < MAX_ITEM_CHUNKS:
            chunks.append((opened, stop, ending))

    for match in _SCAN.finditer(payload):
        qname = match.group(2)
        if qname is None:
            continue
        closing = match.group(1) == b"/"
        if qname.rpartition(b":")[2] in _ITEM_LOCAL_NAMES:
            if name is None and not closing:
                name = qname
            if qname != name:
                continue
            if closing:
                if opened >= 0:
                    end = payload.find(b">", match.end())
                    position = len(payload) if end < 0 else end + 1
                    close(position, _CLOSED)
                    opened = -1
                continue
            count += 1
            if opened >= 0:
                close(match.start(), _UNCLOSED)
            elif count <= MAX_ITEM_CHUNKS:
                pieces.append(payload[position : match.start()])
            opened = position = match.start()
            end = payload.find(b">", match.end())
            if end > 0 and payload[end - 1 : end] == b"/":  # <item ... />
                position = end + 1
                close(position, _CLOSED)
                opened = -1
        elif closing and opened >= 0:
            # The holder ends while an item is open: the item lacks its end tag.
            close(match.start(), _UNCLOSED)
            opened = -1
            position = match.start()
    if name is None:
        return None
    if opened >= 0:
        close(len(payload), _CUT)
        position = len(payload)
    pieces.append(payload[position:])
    return _Split(b"".join(pieces), chunks, count, name.rpartition(b":")[2])


_LIMIT_ERRORS = {etree.ErrorTypes.ERR_RESOURCE_LIMIT, etree.ErrorTypes.ERR_NO_MEMORY}


_POSITION = re.compile(r",? line \d+, column \d+.*\Z", re.DOTALL)


def _is_limit(error: etree.XMLSyntaxError) -> bool:
    """Whether parsing stopped at one of libxml2's limits (nesting depth, size of a text)."""
    message = str(error)
    return error.code in _LIMIT_ERRORS or "XML_PARSE_HUGE" in message or "huge text node" in message


def _reason(error: etree.XMLSyntaxError | None, one: str) -> str:
    """What stopped the parse of a chunk, without the position (which is the chunk's own)."""
    if error is None:
        return f"no {one} in it"
    return _POSITION.sub("", str(error.msg or error)) or "not readable"


def _parse_tolerantly(
    document: bytes, url: str | None, parsers: tuple[Any, Any], *, past_limits: bool = False
) -> tuple[Any, bool, etree.XMLSyntaxError | None]:
    """Parse strictly, then with libxml2's recovery: the root, whether recovery was needed,
    and the strict error. A document that hit a limit is not recovered, unless ``past_limits``
    (what recovery keeps of it would be cut short at an arbitrary point)."""
    strict, tolerant = parsers
    try:
        return etree.fromstring(document, strict, base_url=url), False, None
    except etree.XMLSyntaxError as exc:
        error = exc
    if _is_limit(error) and not past_limits:
        return None, True, error
    try:
        root = etree.fromstring(document, tolerant, base_url=url)
    except etree.XMLSyntaxError:
        root = None
    return root, True, error


def _wrapper(holder: Any) -> tuple[bytes, bytes]:
    """Start and end tags that give a chunk the namespaces and base of the items' holder."""
    attributes = []
    for prefix, uri in holder.nsmap.items():
        name = "xmlns" if prefix is None else f"xmlns:{prefix}"
        attributes.append(f' {name}="{html.escape(uri, quote=True)}"')
    base = holder.base
    if base:
        attributes.append(f' xml:base="{html.escape(str(base), quote=True)}"')
    return f"<chunk{''.join(attributes)}>".encode("utf-8"), b"</chunk>"


def _holder(root: Any, version: str) -> Any:
    return root if version.startswith("atom") or version in ("rss10", "rss090") else _channel(root, version)


def _parse_by_item(payload: bytes, url: str | None, c1: bool) -> _Pass | None:
    """Read a broken document item by item (see the module docstring); None when the
    document has no items or its skeleton gives no feed."""
    split = _split_items(payload)
    if split is None:
        return None
    parsers = (
        etree.XMLParser(**_parser_options(False)),
        etree.XMLParser(**_parser_options(True)),
    )
    root, _tolerated, _error = _parse_tolerantly(split.skeleton, url, parsers, past_limits=True)
    if root is None:
        return None
    context = _make_context(root, url, True)
    if context is None:
        return None
    context.c1 = c1
    if context.rss_namespace is not None:
        _adopt_tree(root, context.rss_namespace)
    atom = context.version.startswith("atom")
    one, noun = ("entry", "entries") if atom else ("item", "items")
    start, end = _wrapper(_holder(root, context.version))
    result = _Pass(root=root, context=context, item_elements=split.count)
    skipped: list[str] = []
    tolerated = 0
    for number, (begin, stop, ending) in enumerate(split.chunks, 1):
        if ending == _CUT:
            skipped.append(f"{one} {number} is cut off: the document ends inside it")
            continue
        chunk_root, recovered, error = _parse_tolerantly(start + payload[begin:stop] + end, url, parsers)
        element = None
        if chunk_root is not None:
            for child in chunk_root:
                tag = child.tag
                if isinstance(tag, str) and tag.rpartition("}")[2].encode("utf-8") == split.local_name:
                    element = child
                    break
        if element is None:
            skipped.append(f"{one} {number}: {_reason(error, one)}")
            continue
        tolerated += recovered
        if context.rss_namespace is not None:
            _adopt_tree(chunk_root, context.rss_namespace)
        entry = atom_entry(element, context) if atom else rss_entry(element, context)
        result.entries.append(entry)
    notes: list[str] = []
    missing = split.count - len(result.entries)
    if missing:
        notes.append(f"{missing} of {split.count} {noun} could not be read and were skipped")
        if split.count > MAX_ITEM_CHUNKS:
            notes.append(f"{noun} after the first {MAX_ITEM_CHUNKS:,} were not tried")
        notes.extend(skipped[:_NAMED_SKIPS])
    if tolerated:
        notes.append(
            f"{tolerated} of {split.count} {noun} were read by error recovery and may be incomplete"
        )
    result.by_item = notes
    return result


def _payload(data: bytes, content_type: str | None) -> tuple[bytes, str, list[str], bool]:
    """UTF-8 bytes for libxml2, the encoding to report, corrections made, and doubt."""
    label, _source, ignored = choose_encoding(data, content_type)
    codec = normalise_encoding(label)
    if codec == "utf-8" or (label in _ASCII_NAMES and data.isascii()):
        # The common case: libxml2 reads (and checks) UTF-8 itself.
        return data, "utf-8" if codec == "utf-8" else label, list(ignored), bool(ignored)
    decoded = decode_feed(data, content_type)
    payload = decoded.text.encode("utf-8", "replace")
    return payload, decoded.encoding, list(decoded.problems), decoded.doubtful


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _first_pass(payload: bytes, url: str | None, c1: bool) -> _Pass:
    if len(payload) <= WHOLE_LIMIT:
        return _parse_whole(payload, url, c1)
    return _parse_pass(payload, url, recover=False, c1=c1)


def parse_xml_feed(data: bytes, content_type: str | None, url: str | None) -> ParsedFeed:
    """Read an RSS or Atom document."""
    payload, encoding, problems, recovered = _payload(data, content_type)
    result = _first_pass(payload, url, payload is not data)
    if result.error is not None and payload is data and not _is_utf8(data):
        # Labelled (or assumed) UTF-8 but not: decode with the fallbacks and try again.
        decoded = decode_feed(data, assume="utf-8")
        payload, encoding = decoded.text.encode("utf-8", "replace"), decoded.encoding
        problems.extend(decoded.problems)
        recovered = recovered or decoded.doubtful
        result = _first_pass(payload, url, True)
    if result.error is not None:
        recovered = True
        problems.append(f"not well-formed: {result.error}")
        repaired = repair_xml(payload)
        c1 = payload is not data
        strict = _parse_pass(repaired, url, recover=False, c1=c1)
        if strict.error is None:
            result = strict
        elif (by_item := _parse_by_item(repaired, url, c1)) is not None:
            result = by_item
        elif strict.context is not None and _error_near_end(strict.error, repaired):
            result = strict
            problems.append(f"document ends early: kept the {len(strict.entries)} complete entries")
        else:
            result = _parse_pass(repaired, url, recover=True, c1=c1)
            if result.root is None and strict.root is not None:
                result = strict
    if result.context is None:
        raise _not_a_feed(result, data)
    media = (content_type or "").split(";")[0].strip().lower()
    if media and "xml" not in media and "rss" not in media and "atom" not in media:
        problems.append(f"served as {media}, not as XML")
        recovered = True
    return _feed(result, result.context, encoding, recovered, problems)


def _not_a_feed(result: _Pass, data: bytes) -> FeedParseError:
    root = result.root
    if root is not None and isinstance(root.tag, str):
        local = root.tag.rpartition("}")[2]
        if local.lower() == "html":
            title = " ".join((root.findtext(".//{*}title") or "").split())[:80]
            named = f" ({title!r})" if title else ""
            return NotAFeedError(f"received an HTML page{named}, not a feed")
        return NotAFeedError(f"received an XML document with root element <{local}>, not a feed")
    if not data.strip():
        return FeedParseError("received an empty document, not a feed")
    reason = f": {result.error}" if result.error is not None else ""
    start = data[:40].decode("utf-8", "replace").strip()
    return FeedParseError(f"received something that is not a feed (starts {start!r}){reason}")


def _feed(
    result: _Pass, ctx: Context, encoding: str, recovered: bool, problems: list[str]
) -> ParsedFeed:
    root = result.root
    if ctx.rss_namespace is not None:
        _adopt_tree(root, ctx.rss_namespace)
    if ctx.version.startswith("atom"):
        fields = atom_feed_fields(root, ctx)
    else:
        fields = rss_feed_fields(_channel(root, ctx.version), ctx)
        if ctx.version in ("rss10", "rss090"):
            for child in root:
                if isinstance(child.tag, str) and element_key(child.tag) == "image":
                    fields.update({k: v for k, v in rss_feed_fields(child, ctx).items() if k == "image"})
                    for part in child:
                        if isinstance(part.tag, str) and element_key(part.tag) == "url":
                            fields.setdefault("image", (part.text or "").strip() or None)
    updated_text = fields.pop("updated_text", None)
    read, found = len(result.entries), max(result.item_elements, len(result.entries))
    if result.by_item is not None:
        problems = problems + result.by_item
    elif read < found:
        noun = "entry" if ctx.version.startswith("atom") else "item"
        where = "none was read" if read == 0 else f"{found - read} were not read"
        problems = problems + [
            f"the document has {found} {noun} elements but {where}: they are not where "
            f"the {ctx.version} format puts them"
        ]
    return ParsedFeed(
        version=ctx.version,
        encoding=encoding,
        entries=tuple(result.entries),
        id=fields.get("id"),
        title=fields.get("title"),
        link=fields.get("link"),
        subtitle=fields.get("subtitle"),
        language=ctx.language or fields.get("language"),
        updated=parse_date(updated_text, chinese=ctx.chinese),
        author=fields.get("author"),
        image=fields.get("image"),
        ttl_minutes=fields.get("ttl_minutes"),
        categories=tuple(fields.get("categories", ())),
        recovered=recovered,
        problems=tuple(problems + ctx.problems),
        item_elements=found,
        skipped_items=found - read,
        prev_archive=fields.get("prev_archive"),
        next_page=fields.get("next_page"),
        complete=bool(fields.get("complete")),
    )
