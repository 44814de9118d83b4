"""Which network addresses tidings may be sent to by what a feed says.

A feed is the user's choice; the links inside it are the feed author's. Pages
those links name (full text, images) are fetched only from the public internet,
or from the feed's own host, so that a hostile feed cannot make tidings read a
private network (cloud metadata, routers, internal services) and archive it.
The same holds for redirects: every hop is checked, and a feed on the public
internet cannot redirect tidings into a private one.

What counts as public is an :data:`AddressPolicy`, a function of one address;
:func:`is_public` is the default. :class:`~tidings.fetch.Limits` carries the
policy, so that tests (and unusual networks) can declare which addresses are
public. This module is cheap to import: asyncio and socket load on first lookup.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable

__all__ = [
    "Address",
    "AddressPolicy",
    "all_allowed",
    "embedded_ipv4",
    "is_public",
    "is_web_url",
    "literal_address",
    "resolve",
]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Whether an address counts as the public internet (``is_public`` unless told otherwise).
AddressPolicy = Callable[[Address], bool]

# Not public whatever a Python version's ``is_global`` says (its tables changed between releases).
_NOT_PUBLIC_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",  # the retired 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
    )
)
_NOT_PUBLIC_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",  # unspecified, loopback and the deprecated IPv4-compatible addresses
        "::ffff:0:0:0/96",  # IPv4-translated (SIIT)
        "64:ff9b:1::/48",  # local-use NAT64: its embedded address has no fixed place
        "100::/64",  # discard
        "2001::/23",  # IETF protocol assignments (Teredo, judged by its embedded addresses, is apart)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
        "5f00::/16",  # SRv6 segment identifiers
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # the deprecated site-local
        "ff00::/8",  # multicast
    )
)
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
_TEREDO = ipaddress.IPv6Network("2001::/32")


def is_web_url(url: str | None) -> bool:
    """Whether ``url`` is an http(s) address (never javascript:, data:, file:...)."""
    return bool(url) and (url or "").lower().startswith(("http://", "https://"))


def embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...] | None:
    """The IPv4 addresses an IPv6 address leads to, for the forms that carry them: IPv4-mapped
    (``::ffff:a.b.c.d``), NAT64 (``64:ff9b::a.b.c.d``), 6to4 (``2002:AABB:CCDD::``) and Teredo
    (its server and its client); None for any other address."""
    if address in _MAPPED:
        return (ipaddress.IPv4Address(int(address) & 0xFFFFFFFF),)
    if address in _NAT64:
        return (ipaddress.IPv4Address(int(address) & 0xFFFFFFFF),)
    if address in _SIX_TO_FOUR:
        return (ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF),)
    if address in _TEREDO:
        server = ipaddress.IPv4Address((int(address) >> 64) & 0xFFFFFFFF)
        client = ipaddress.IPv4Address(~int(address) & 0xFFFFFFFF)
        return (server, client)
    return None


def is_public(address: Address) -> bool:
    """Whether an address is on the public internet: not private, loopback, link-local,
    carrier-grade NAT, unspecified, multicast, reserved or documentation. An IPv6 address
    that carries an IPv4 one (mapped, NAT64, 6to4, Teredo) is judged by what it carries."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            address = ipaddress.IPv6Address(int(address))
        embedded = embedded_ipv4(address)
        if embedded is not None:
            return all(is_public(inner) for inner in embedded)
        if any(address in network for network in _NOT_PUBLIC_V6):
            return False
    elif any(address in network for network in _NOT_PUBLIC_V4):
        return False
    return address.is_global and not address.is_multicast


def all_allowed(addresses: Iterable[Address], policy: AddressPolicy = is_public) -> bool:
    """Whether there is at least one address and the policy allows every one."""
    found = list(addresses)
    return bool(found) and all(policy(address) for address in found)


def literal_address(host: str) -> Address | None:
    """The address a host written as an IP literal (``127.0.0.1``, ``::1``, ``[::1]``) names."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


async def resolve(hostname: str, port: int, timeout: float) -> list[Address]:
    """Every address ``hostname`` resolves to, in the resolver's order and without repeats;
    an IP literal is its own answer (no lookup). OSError or TimeoutError when it does not
    resolve; UnicodeError or ValueError for a name that cannot be looked up at all."""
    literal = literal_address(hostname)
    if literal is not None:
        return [literal]
    import asyncio
    import socket

    async with asyncio.timeout(timeout):
        infos = await asyncio.get_running_loop().getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    found: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found
