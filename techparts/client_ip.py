"""The client's address, the one place that decides whether a proxy header is believed."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """Return the address of the client that sent `request`.

    With `TRUST_PROXY_HEADERS` on, the app sits behind one proxy that appends the address it
    saw to `X-Forwarded-For`: the last entry is that address (earlier entries come from the
    client and may be forged). Otherwise, or when the header holds no valid address, the
    connection's own `REMOTE_ADDR`: a header any client can send is never trusted then.
    None when no address is known (a request built in code).
    """
    if settings.TRUST_PROXY_HEADERS:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        address = _valid(forwarded.rsplit(",", 1)[-1])
        if address:
            return address
    return _valid(request.META.get("REMOTE_ADDR", ""))


def address_bucket(address: str | None) -> str:
    """Return the unit a per-address limit counts: the address, or its /64 for IPv6.

    One IPv6 host usually holds a whole /64, so counting single IPv6 addresses would let it
    rotate through billions of them.
    """
    if address is None:
        return "unknown"
    parsed = ipaddress.ip_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _valid(text: str) -> str | None:
    candidate = text.strip()
    if candidate.startswith("[") and "]" in candidate:  # "[v6]:port"
        candidate = candidate[1 : candidate.index("]")]
    elif candidate.count(":") == 1:  # "v4:port"
        candidate = candidate.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)  # ::ffff:192.0.2.1 is the IPv4 client 192.0.2.1
    return str(address)
