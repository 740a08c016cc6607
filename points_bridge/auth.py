"""Who may call the Point System protocol: a shared secret, or a trusted client address.

The protocol has no authentication of its own and some clients cannot send any header, hence the
address allow-list. We read REMOTE_ADDR only: config.proxies has put the real client there, believing
X-Forwarded-For only from TRUSTED_PROXIES. Behind a reverse proxy, list the clients' own addresses here
(and the proxy in TRUSTED_PROXIES), never the proxy's: everybody reaches us through it.
"""

import hmac
import ipaddress

from config.errors import DomainError
from points_bridge import conf


class ProtocolAuthError(DomainError):
    status_code = 401
    default_code = "not_authenticated"


def client_is_trusted(remote_addr: str) -> bool:
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return False
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    return any(address in network for network in conf.trusted_networks())


def bearer_matches(header: str, key: str) -> bool:
    scheme, _, given = (header or "").partition(" ")
    # compare_digest on bytes: constant time in the key's length, and no TypeError on non-ASCII input.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), key.encode())


def authorize(request, *, write: bool) -> None:
    """Raise ProtocolAuthError unless the request may use this endpoint."""
    if not write and conf.public_reads():
        return
    if client_is_trusted(request.META.get("REMOTE_ADDR", "")):
        return
    key = conf.api_key()
    if not key:
        raise ProtocolAuthError(
            "The Point System API key is not configured on this server (POINT_SYSTEM_API_KEY).",
            code="api_key_not_configured", status_code=403,
        )
    if not bearer_matches(request.headers.get("Authorization", ""), key):
        raise ProtocolAuthError("Send 'Authorization: Bearer <POINT_SYSTEM_API_KEY>'.")
