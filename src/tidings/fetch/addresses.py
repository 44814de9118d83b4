"""Which network addresses tidings may be sent to by what a feed says.

A feed is the user's choice; the links inside it are the feed author's. Pages
those links name (full text, images) are fetched only from the public internet,
or from the feed's own host, so that a hostile feed cannot make tidings read a
private network (cloud metadata, routers, internal services) and archive it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_TUNNELS = tuple(
    ipaddress.ip_network(n)
    for n in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "::/96", "fec0::/10", "2001::/32")
)  # NAT64, 6to4, IPv4-compatible, site-local, Teredo: they can lead to IPv4 hosts inside


def is_web_url(url: str | None) -> bool:
    """Whether ``url`` is an http(s) address (never javascript:, data:, file:...)."""
    return bool(url) and (url or "").lower().startswith(("http://", "https://"))


def is_public(address: Address) -> bool:
    """Whether an address is on the public internet (not private, loopback, link-local, ...)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif any(address in network for network in _TUNNELS):
            return False
    return address.is_global and not address.is_multicast


async def resolve(hostname: str, port: int, timeout: float) -> list[Address]:
    """Every address ``hostname`` resolves to; OSError (or TimeoutError) when it does not."""
    async with asyncio.timeout(timeout):
        infos = await asyncio.get_running_loop().getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


async def linked_page_allowed(url: str, feed_url: str, timeout: float) -> bool:
    """Whether a page a feed links to may be fetched: its host is the feed's own, or it
    resolves to public addresses only. A name that does not resolve is left to the
    fetch, which reports it."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return False
    if not host:
        return False
    try:
        if host == (urlsplit(feed_url).hostname or "").lower():
            return True
    except ValueError:
        pass
    try:
        addresses = await resolve(host, port or (443 if parts.scheme == "https" else 80), timeout)
    except (OSError, TimeoutError, UnicodeError, ValueError):
        return True
    return all(is_public(address) for address in addresses)
