"""Strict environment parsing: a bad value stops start-up instead of being guessed at."""

import ipaddress
import os
import re
import zoneinfo

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
# config.ratelimit's syntax (not imported: settings load before the cache it uses).
_RATE = re.compile(r"[1-9][0-9]{0,8}/(s|sec|second|m|min|minute|h|hour|d|day)")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_timezone(name: str, default: str) -> str:
    value = env_str(name, default)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name} is not a known time zone: {value!r}") from None
    return value


def env_url(name: str, *, schemes: tuple[str, ...]) -> str:
    value = env_str(name)
    if value and not value.startswith(tuple(f"{s}://" for s in schemes)):
        raise ImproperlyConfigured(f"{name} must start with one of {', '.join(schemes)}://, not {value!r}")
    return value


def env_rate(name: str, default: str) -> str:
    """A rate such as "30/min" in config.ratelimit's syntax, checked at start-up."""
    from config.ratelimit import parse_rate  # imported late: settings are loaded before any app

    value = env_str(name, default)
    try:
        count, _ = parse_rate(value)
    except (ValueError, KeyError):
        count = 0
    if count < 1:
        raise ImproperlyConfigured(f"{name} must look like 30/min (count/s|min|hour|day), not {value!r}")
    return value


def env_networks(name: str, default: str = "") -> list[str]:
    """A comma-separated list of IP addresses or networks (``10.0.0.0/8, ::1``), each checked."""
    items = env_list(name, default)
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not an IP address or network") from None
    return items


def env_rates(name: str) -> dict[str, str | None]:
    """``scope=rate`` pairs, comma-separated ("leaderboard=300/min,admin=off"), rates in
    config.ratelimit syntax; ``off`` switches a limit off."""
    rates: dict[str, str | None] = {}
    for item in env_list(name):
        scope, _, rate = item.partition("=")
        scope, rate = scope.strip(), rate.strip()
        if rate == "off":
            rates[scope] = None
            continue
        if not scope or not _RATE.fullmatch(rate):
            raise ImproperlyConfigured(f"{name}: {item!r} is not scope=N/unit (unit s, min, hour, day) or scope=off")
        rates[scope] = rate
    return rates
