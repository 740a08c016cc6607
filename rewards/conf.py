"""Rewards settings, read in one place (at call time, so tests can override them)."""

from django.conf import settings


def redeem_rate() -> str:
    """Redemptions per member, in config.ratelimit syntax (default: DRF's "redeem" rate, 5/hour)."""
    default = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get("redeem", "5/hour")
    return getattr(settings, "REWARDS_REDEEM_RATE", default)


def admin_notify_emails() -> list[str]:
    """Who hears about new pending redemptions besides superusers with an email address."""
    return list(getattr(settings, "ADMINS_NOTIFY_EMAILS", []))
