"""Where a webhook may be sent: the rules against server-side request forgery.

An endpoint URL is the integrator's, so a delivery must never reach this machine, the
private network, or a cloud metadata service. The URL is checked when an endpoint is saved
(`url_refusal`), and every address its host resolves to is checked again at delivery time
(`vetted_addresses`); the delivery connects to a vetted address, never resolving again.
"""

import ipaddress
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., Sequence[tuple]]  # socket.getaddrinfo's signature and answer

MAX_URL_LENGTH = 2000
# Cloud metadata services answer on these (AWS, GCP, Azure, OpenStack: the link-local one;
# AWS over IPv6; Alibaba). Refused even where loopback is allowed.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(text) for text in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)


class AddressRefused(Exception):
    """The URL or an address of its host may not receive webhooks; the message says why."""


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    """Return the IPv4 address an IPv6 address carries (mapped, 6to4, Teredo), or itself."""
    if isinstance(address, ipaddress.IPv6Address):
        for embedded in (address.ipv4_mapped, address.sixtofour):
            if embedded is not None:
                return embedded
        if address.teredo is not None:
            return address.teredo[1]
    return address


def ip_refusal(address: IPAddress, *, allow_loopback: bool | None = None) -> str | None:
    """Return why `address` may not receive webhooks, or None if it may."""
    if allow_loopback is None:
        allow_loopback = settings.WEBHOOKS_ALLOW_LOOPBACK
    address = _embedded_ipv4(address)
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata address"
    if address.is_unspecified:
        return f"{address} is the unspecified address"
    if address.is_loopback:
        return None if allow_loopback else f"{address} is a loopback address"
    if address.is_link_local:
        return f"{address} is a link-local address"
    if address.is_multicast:
        return f"{address} is a multicast address"
    if address.is_private:
        return f"{address} is a private address"
    if not address.is_global:
        return f"{address} is not a public internet address"
    return None


def url_refusal(url: str, *, allow_loopback: bool | None = None) -> str | None:
    """Return why `url` may not be a webhook endpoint, or None if it may (before resolving).

    https only; plain http only where loopback is allowed (development and tests). No user
    name or password in the URL; an IP literal host must itself be allowed.
    """
    if allow_loopback is None:
        allow_loopback = settings.WEBHOOKS_ALLOW_LOOPBACK
    if len(url) > MAX_URL_LENGTH:
        return f"the URL is longer than {MAX_URL_LENGTH} characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "the URL cannot be parsed"
    allowed_schemes = ("https", "http") if allow_loopback else ("https",)
    if parts.scheme not in allowed_schemes:
        return "the URL must start with https://"
    if not parts.hostname:
        return "the URL has no host"
    if parts.username is not None or parts.password is not None:
        return "the URL may not carry a user name or password"
    if port == 0:
        return "the URL's port must be 1-65535"
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return None
    return ip_refusal(literal, allow_loopback=allow_loopback)


def vetted_addresses(
    host: str,
    port: int,
    *,
    allow_loopback: bool | None = None,
    resolver: Resolver = socket.getaddrinfo,
) -> list[IPAddress]:
    """Resolve `host` and return its addresses, all of them allowed, or raise AddressRefused.

    One refused address refuses the host: a name that resolves to a public and a private
    address is an attack on whichever the connection would pick.
    """
    try:
        answers = resolver(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise AddressRefused(f"{host} does not resolve ({exc})") from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonical, sockaddr in answers:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        refusal = ip_refusal(address, allow_loopback=allow_loopback)
        if refusal:
            raise AddressRefused(f"{host} resolves to a refused address: {refusal}")
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise AddressRefused(f"{host} has no address")
    return addresses
