"""Engagement settings read at call time (tests override them)."""

from django.conf import settings

DEFAULT_RATES = {"unban_request": "5/hour"}


def rate(name: str) -> str | None:
    """The per-member rate of endpoint ``name`` (ENGAGEMENT_RATES), or None for no limit."""
    return {**DEFAULT_RATES, **getattr(settings, "ENGAGEMENT_RATES", {})}.get(name)
