import pytest

from engagement import levels


@pytest.mark.parametrize(
    ("level", "xp"), [(1, 0), (2, 100), (3, 300), (10, 4500), (20, 19000), (50, 122500), (200, 1990000)]
)
def test_xp_for_level_matches_the_formula(level, xp):
    assert levels.xp_for_level(level) == xp


@pytest.mark.parametrize(
    ("xp", "level"),
    [(0, 1), (99, 1), (100, 2), (299, 2), (300, 3), (4499, 9), (4500, 10), (122499, 49), (122500, 50)],
)
def test_level_for_xp_is_exact_at_band_edges(xp, level):
    assert levels.level_for_xp(xp) == level


def test_level_is_capped_at_200():
    assert levels.level_for_xp(10**12) == 200


def test_level_for_xp_agrees_with_brute_force_for_every_xp_up_to_level_60():
    level = 1
    for xp in range(0, levels.xp_for_level(60)):
        while levels.xp_for_level(level + 1) <= xp:
            level += 1
        assert levels.level_for_xp(xp) == level


@pytest.mark.parametrize(("level", "title"), [(1, "Beginner"), (4, "Beginner"), (5, "Newcomer"), (10, "Active member"),
                                              (20, "Veteran"), (30, "Expert"), (50, "Master"), (100, "Legend")])
def test_titles_follow_the_default_bands(level, title):
    assert levels.title_for_level(level) == title
