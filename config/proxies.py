"""Believe X-Forwarded-For and X-Forwarded-Proto only when a configured proxy sent them.

Any client can send these headers. Left alone, DRF's throttles keyed on whatever X-Forwarded-For said
(25 wrong passwords with random values were never throttled) and, in production, Django's
SECURE_PROXY_SSL_HEADER trusted a client's claim to be on https. This middleware runs first, before
anything reads ``REMOTE_ADDR`` or ``request.is_secure()``:

- the direct peer is in TRUSTED_PROXIES: ``REMOTE_ADDR`` becomes the client the proxies saw. We walk
  X-Forwarded-For from the right (each proxy appends the address it received from), skipping our own
  proxies; the first address that is not one of them is the client. The forwarded headers stay.
- otherwise: every forwarded header is removed, so nothing later can believe it.

After it, ``REMOTE_ADDR`` is the one client address everything uses: DRF (NUM_PROXIES = 0), axes, the
rate limits, the Point System's trusted clients.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Headers a client could use to pose as somebody else or as https (Django reads the Host and Port ones
# only with USE_X_FORWARDED_HOST/PORT, which we do not set; dropped all the same).
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
                     "HTTP_X_FORWARDED_PORT", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def parse_networks(items, *, setting: str = "TRUSTED_PROXIES") -> tuple[Network, ...]:
    """Addresses or networks (``10.0.0.0/8``, ``::1``); a bad one is a configuration error."""
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(str(item).strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"{setting}: {item!r} is not an IP address or network") from None
    return tuple(networks)


@lru_cache(maxsize=8)
def _trusted(items: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(items)


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped  # ::ffff:192.0.2.1 is the IPv4 client of a dual-stack socket
    return address


def _is_trusted(address: Address | None, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address(peer: str, forwarded_for: str, networks: tuple[Network, ...]) -> str:
    """The client behind our proxies: X-Forwarded-For read from the right, our proxies skipped.

    A malformed entry ends the walk: nothing left of it can be trusted, so the proxy that handed it to
    us is the client we know of."""
    client = peer
    for hop in reversed([part for part in forwarded_for.split(",") if part.strip()]):
        address = _address(hop)
        if address is None:
            break
        client = str(address)
        if not _is_trusted(address, networks):
            break
    return client


class TrustedProxyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        networks = _trusted(tuple(settings.TRUSTED_PROXIES))
        meta = request.META
        peer = meta.get("REMOTE_ADDR", "")
        # Kept even when the headers are dropped: a request relayed by any proxy, trusted or not, must not
        # pass for a local one (/metrics lets loopback in by address).
        request.came_through_proxy = "HTTP_X_FORWARDED_FOR" in meta
        if networks and _is_trusted(_address(peer), networks):
            meta["REMOTE_ADDR"] = client_address(peer, meta.get("HTTP_X_FORWARDED_FOR", ""), networks)
        else:
            for header in FORWARDED_HEADERS:
                meta.pop(header, None)
        return self.get_response(request)
