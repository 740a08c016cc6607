"""Levels from XP: total XP to reach level L is 50·(L−1)·L, exact integer arithmetic, capped."""

from math import isqrt

from django.conf import settings
from django.utils.translation import gettext_lazy as _

XP_STEP = 50

# (first level, title, colour): the club specification's titles in its order (Začátečník, Nováček,
# Aktivní člen, Veterán, Expert, Mistr, Legenda in Czech), each with the colour of its badge. The
# colours are dark enough for white badge text. ENGAGEMENT_LEVEL_BANDS replaces the list (a band
# without a colour gets the default one of its position).
DEFAULT_BANDS = [
    (1, _("Beginner"), "#6b7280"),
    (5, _("Newcomer"), "#15803d"),
    (10, _("Active member"), "#1d4ed8"),
    (20, _("Veteran"), "#7e22ce"),
    (30, _("Expert"), "#c2410c"),
    (50, _("Master"), "#b91c1c"),
    (100, _("Legend"), "#a16207"),
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


def _band(level: int) -> tuple:
    """(start, title, colour) of the band ``level`` is in."""
    bands = getattr(settings, "ENGAGEMENT_LEVEL_BANDS", None) or DEFAULT_BANDS
    found = 0
    for position, band in enumerate(bands):
        if level >= band[0]:
            found = position
    band = bands[found]
    colour = band[2] if len(band) > 2 else DEFAULT_BANDS[min(found, len(DEFAULT_BANDS) - 1)][2]
    return band[0], band[1], colour


def title_for_level(level: int) -> str:
    return str(_band(level)[1])


def color_for_level(level: int) -> str:
    """The badge colour of the level's title band, as a CSS hex colour."""
    return _band(level)[2]
