"""Engagement settings read at call time (tests override them)."""

from django.conf import settings

# Per caller (a user, or an address for anonymous reads). The club specification's numbers where it
# gives them (unban requests 5 an hour; redeem 5 an hour is REWARDS_REDEEM_RATE; comments, votes and
# reactions are ENGAGEMENT_ACTION_RATES, per member and reason); elsewhere generous enough for any
# page or app, low enough to stop a script.
DEFAULT_RATES = {
    "unban_request": "5/hour",
    "profile_read": "120/min",
    "profile_write": "30/min",
    "avatar_upload": "10/hour",
    "username_suggestions": "30/min",
    "transactions": "60/min",
    "achievements": "60/min",
    "challenges": "60/min",
    "streak": "120/min",
    "leaderboard": "120/min",
    "seasons": "120/min",
    "teams_write": "30/min",
    "rewards": "120/min",
    "redemptions": "60/min",
    "events": "1200/min",
    "admin": "600/min",
}


def rate(name: str) -> str | None:
    """The rate of scope ``name`` (ENGAGEMENT_RATES over the defaults), or None for no limit."""
    return {**DEFAULT_RATES, **getattr(settings, "ENGAGEMENT_RATES", {})}.get(name)


def team_board_cache_seconds() -> int:
    """How long a team board's sums are reused (ENGAGEMENT_TEAM_BOARD_CACHE_SECONDS, default 5; 0 = off).
    The sums are one GROUP BY over every membership of the season: a big screen refreshing every few
    seconds and every /me/ page would otherwise repeat it."""
    return int(getattr(settings, "ENGAGEMENT_TEAM_BOARD_CACHE_SECONDS", 5))
