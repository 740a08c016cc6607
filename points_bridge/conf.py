"""The bridge's settings, read in one place (they are parsed from the environment in config/settings.py)."""

import ipaddress
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Forwarding: how often and how patiently we retry the external Point System.
FORWARD_TIMEOUT_SECONDS = 10.0
FORWARD_MAX_ATTEMPTS = 8
FORWARD_BACKOFF_BASE = timedelta(seconds=30)
FORWARD_BACKOFF_MAX = timedelta(hours=1)
# A row left in "sending" longer than this belongs to a worker that died; the sweep hands it back.
FORWARD_STUCK_AFTER = timedelta(minutes=5)


def claim_rate() -> str:
    """QR claims per member (POINT_SYSTEM_CLAIM_RATE, config.ratelimit syntax; default 30/min): enough for
    a visitor walking past booths, too few to try codes in bulk."""
    return settings.POINT_SYSTEM_CLAIM_RATE


def api_key() -> str:
    return settings.POINT_SYSTEM_API_KEY


def public_reads() -> bool:
    return settings.POINT_SYSTEM_PUBLIC_READS


def dedup_window() -> timedelta:
    return settings.POINT_SYSTEM_DEDUP_WINDOW


def forward_url() -> str:
    return settings.POINT_SYSTEM_FORWARD_URL


def forward_key() -> str:
    return settings.POINT_SYSTEM_FORWARD_KEY


def trusted_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """POINT_SYSTEM_TRUSTED_CLIENTS as networks; a single address is a /32 (or /128) network."""
    networks = []
    for item in settings.POINT_SYSTEM_TRUSTED_CLIENTS:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"POINT_SYSTEM_TRUSTED_CLIENTS: {item!r} is not an address or network") from None
    return networks
