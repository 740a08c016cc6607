"""Levels from XP: total XP to reach level L is 50·(L−1)·L, exact integer arithmetic, capped."""

from math import isqrt

from django.conf import settings
from django.utils.translation import gettext_lazy as _

XP_STEP = 50

DEFAULT_BANDS = [
    (1, _("Beginner")),
    (5, _("Newcomer")),
    (10, _("Active member")),
    (20, _("Veteran")),
    (30, _("Expert")),
    (50, _("Master")),
    (100, _("Legend")),
]


def level_cap() -> int:
    return settings.ENGAGEMENT_LEVEL_CAP


def xp_for_level(level: int) -> int:
    """Total XP needed to reach ``level`` (level 1 needs 0)."""
    return XP_STEP * (level - 1) * level


def level_for_xp(xp: int) -> int:
    # 50·L·(L−1) ≤ xp  ⇔  L·(L−1) ≤ xp // 50  ⇔  L ≤ (1 + √(1 + 4n)) / 2, and isqrt keeps it exact.
    n = max(0, xp) // XP_STEP
    level = (1 + isqrt(1 + 4 * n)) // 2
    return min(level, level_cap())


def title_for_level(level: int) -> str:
    bands = getattr(settings, "ENGAGEMENT_LEVEL_BANDS", None) or DEFAULT_BANDS
    title = bands[0][1]
    for start, name in bands:
        if level >= start:
            title = name
    return str(title)
