"""k/M formatting of numbers on pages (exact in the API)."""

import pytest

from engagement import services
from engagement.templatetags.numbers import compact


@pytest.mark.parametrize(("value", "shown"), [
    (0, "0"), (999, "999"), (1000, "1k"), (1234, "1.2k"), (1999, "1.9k"), (12_345, "12.3k"),
    (999_999, "999.9k"), (1_000_000, "1M"), (3_450_000, "3.4M"), (2_000_000_000, "2G"), (-1500, "-1.5k"),
    ("7", "7"), ("n/a", "n/a"), (None, None),
])
def test_compact_rounds_down_with_a_suffix(value, shown):
    assert compact(value) == shown


@pytest.mark.django_db
def test_pages_show_compact_numbers_and_the_api_exact_ones(client, user, member, api):
    services.award(member=member, reason="manual", points=12_345, xp=1_234_567)
    client.force_login(user)
    html = client.get("/me/?metric=xp").content.decode()
    assert '<b title="1234567">1.2M</b>' in html and 'title="1234567">1.2M</td>' in html
    assert api.get("/api/v1/engagement/leaderboard?metric=xp").json()["items"][0]["xp"] == 1_234_567
