"""Limited-time rewards: an availability window with its own refusal codes, a per-member limit (exact
under concurrency, proven on PostgreSQL with a negative control), the store's additive fields, the
admin's availability filter and the fan zone's countdown."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engagement import services as ledger
from engagement.models import Member
from rewards import services
from rewards.errors import MemberLimitReached, RewardExpired, RewardNotYetAvailable
from rewards.models import Redemption, Reward
from tests.concurrency import postgres_only, run_concurrently

REWARDS, REDEEM = "/api/v1/engagement/rewards", "/api/v1/engagement/redeem"
ADMIN_REWARDS = "/api/v1/admin/engagement/rewards"
HOUR = timedelta(hours=1)


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def sticker(make_reward):
    return make_reward("merch_physical", name="Sticker", cost_points=10, stock=None, max_per_member=2)


# --- The window ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_before_the_window_the_refusal_says_when_it_opens(rich_member, make_reward, now):
    reward = make_reward("merch_physical", available_from=now + HOUR)
    with pytest.raises(RewardNotYetAvailable) as info:
        services.redeem(member=rich_member, reward_id=reward.pk, at=now)
    assert info.value.code == "reward_not_yet_available"
    assert info.value.extra == {"available_from": (now + HOUR).isoformat()}
    assert Member.objects.get(pk=rich_member.pk).points == 1000


@pytest.mark.django_db
def test_the_window_closes_at_available_until_exactly(rich_member, make_reward, now):
    reward = make_reward("merch_physical", available_from=now - HOUR, available_until=now + HOUR)
    services.redeem(member=rich_member, reward_id=reward.pk, at=now + HOUR - timedelta(microseconds=1))
    with pytest.raises(RewardExpired) as info:
        services.redeem(member=rich_member, reward_id=reward.pk, at=now + HOUR)
    assert info.value.code == "reward_expired"
    assert info.value.extra == {"available_until": (now + HOUR).isoformat()}
    assert Redemption.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("window", "code", "field"), [
    ({"available_from": HOUR}, "reward_not_yet_available", "available_from"),
    ({"available_until": -HOUR}, "reward_expired", "available_until"),
])
def test_api_refusals_outside_the_window_keep_the_error_shape(member_api, rich_member, make_reward, now, window,
                                                              code, field):
    reward = make_reward("merch_physical", **{name: now + delta for name, delta in window.items()})
    response = member_api.post(REDEEM, {"reward_id": reward.pk}, format="json")
    body = response.json()
    assert response.status_code == 409
    assert body["code"] == code and body["detail"] and body[field] == (now + window[field]).isoformat()


@pytest.mark.django_db
def test_an_inactive_reward_keeps_its_old_code_even_inside_its_window(rich_member, make_reward, now):
    reward = make_reward("merch_physical", active=False, available_until=now - HOUR)
    with pytest.raises(Exception) as info:  # noqa: PT011 - the code is what we check
        services.redeem(member=rich_member, reward_id=reward.pk, at=now)
    assert info.value.code == "reward_unavailable"


# --- The per-member limit -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_member_redeems_a_limited_reward_at_most_max_per_member_times(rich_member, sticker):
    services.redeem(member=rich_member, reward_id=sticker.pk)
    services.redeem(member=rich_member, reward_id=sticker.pk)
    with pytest.raises(MemberLimitReached) as info:
        services.redeem(member=rich_member, reward_id=sticker.pk)
    assert (info.value.code, info.value.extra, info.value.status_code) == ("reward_member_limit", {"limit": 2}, 409)
    assert Member.objects.get(pk=rich_member.pk).points == 1000 - 2 * 10  # the refusal spent nothing


@pytest.mark.django_db
def test_the_limit_is_per_member(rich_member, sticker, make_user, fund):
    other = fund(ledger.member_for_user(make_user("bob")), 100)
    for buyer in (rich_member, rich_member, other, other):
        services.redeem(member=buyer, reward_id=sticker.pk)
    assert Redemption.objects.filter(reward=sticker).count() == 4


@pytest.mark.django_db
def test_a_rejected_redemption_gives_the_slot_back_but_a_pending_one_holds_it(rich_member, sticker):
    first = services.redeem(member=rich_member, reward_id=sticker.pk)
    services.redeem(member=rich_member, reward_id=sticker.pk)  # both pending
    with pytest.raises(MemberLimitReached):
        services.redeem(member=rich_member, reward_id=sticker.pk)
    services.reject(redemption_id=first.pk, note="out of glue")
    assert services.redeem(member=rich_member, reward_id=sticker.pk).status == "pending"


@pytest.mark.django_db
def test_a_replay_of_a_redemption_is_answered_even_at_the_limit(rich_member, sticker):
    services.redeem(member=rich_member, reward_id=sticker.pk, idempotency_key="k1")
    services.redeem(member=rich_member, reward_id=sticker.pk, idempotency_key="k2")
    assert services.redeem(member=rich_member, reward_id=sticker.pk, idempotency_key="k2").replayed is True


@pytest.mark.django_db
def test_a_reward_without_a_limit_pays_no_query_for_it(rich_member, make_reward):
    reward = make_reward("merch_physical", stock=None)
    with CaptureQueriesContext(connection) as queries:
        services.redeem(member=rich_member, reward_id=reward.pk)
    # (The ledger write's own statement counts its balance UPDATE's rows: only a count of redemptions is the limit's.)
    counting = [q["sql"] for q in queries.captured_queries
                if "COUNT(" in q["sql"].upper() and Redemption._meta.db_table in q["sql"]]
    assert counting == []


@pytest.mark.django_db
def test_the_api_refuses_over_the_limit_with_a_stable_code(member_api, rich_member, sticker):
    codes = [member_api.post(REDEEM, {"reward_id": sticker.pk}, format="json").status_code for _ in range(3)]
    response = member_api.post(REDEEM, {"reward_id": sticker.pk}, format="json")
    assert codes[:2] == [201, 201] and codes[2] == 409
    assert response.json()["code"] == "reward_member_limit" and response.json()["limit"] == 2


@pytest.mark.django_db
def test_a_limit_of_zero_is_refused_by_the_admin_api_and_the_database(admin_api):
    body = {"name": "Mug", "type": "custom", "cost_points": 5, "max_per_member": 0}
    response = admin_api.post(ADMIN_REWARDS, body, format="json")
    assert response.status_code == 400 and "max_per_member" in response.json()["errors"]
    created = admin_api.post(ADMIN_REWARDS, {**body, "max_per_member": 3}, format="json")
    assert created.status_code == 201 and created.json()["max_per_member"] == 3
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Reward.objects.filter(pk=created.json()["id"]).update(max_per_member=0)


# --- The store's list ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_tells_a_member_what_is_left_for_them_and_how_long(member_api, rich_member, make_reward, now):
    reward = make_reward("merch_physical", name="Scarf", stock=None, max_per_member=3,
                         available_until=now + timedelta(days=2))
    services.redeem(member=rich_member, reward_id=reward.pk)
    item = next(r for r in member_api.get(REWARDS).json() if r["id"] == reward.pk)
    assert item["remaining"] == 2 and item["max_per_member"] == 3 and item["available_now"] is True
    assert 2 * 86400 - 60 < item["seconds_left"] <= 2 * 86400
    assert item["starts_in"] is None and item["available_until"] is not None


@pytest.mark.django_db
def test_anonymous_readers_and_unlimited_rewards_have_no_remaining(api, make_reward):
    make_reward("merch_physical", max_per_member=1)
    make_reward("custom")
    items = api.get(REWARDS).json()
    assert [item["remaining"] for item in items] == [None, None]
    assert all(item["seconds_left"] is None for item in items)


@pytest.mark.django_db
def test_upcoming_rewards_are_listed_only_when_asked_and_ended_ones_never(api, make_reward, now):
    soon = make_reward("custom", name="Soon", available_from=now + HOUR)
    make_reward("custom", name="Over", available_until=now - HOUR)
    assert api.get(REWARDS).json() == []
    items = api.get(REWARDS, {"upcoming": "true"}).json()
    assert [(item["id"], item["available_now"]) for item in items] == [(soon.pk, False)]
    assert 3500 < items[0]["starts_in"] <= 3600
    assert api.get(REWARDS, {"upcoming": "maybe"}).json()["code"] == "validation_error"


# --- Admin --------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("value", "expected"), [("now", {"Always", "Open"}), ("upcoming", {"Later"}),
                                                  ("ended", {"Over"})])
def test_the_admin_filters_rewards_by_availability(admin_user, make_reward, now, value, expected):
    make_reward("custom", name="Always")
    make_reward("custom", name="Open", available_from=now - HOUR, available_until=now + HOUR)
    make_reward("custom", name="Later", available_from=now + HOUR)
    make_reward("custom", name="Over", available_until=now - HOUR)
    client = Client()
    client.force_login(admin_user)
    page = client.get("/admin/rewards/reward/", {"availability": value})
    assert page.status_code == 200
    assert {reward.name for reward in page.context["cl"].queryset} == expected


@pytest.mark.django_db
def test_the_admin_form_edits_the_limit(admin_user):
    client = Client()
    client.force_login(admin_user)
    page = client.get("/admin/rewards/reward/add/")
    assert 'name="max_per_member"' in page.content.decode()


# --- Fan zone -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_fan_zone_loads_the_countdown_script_without_inline_code(client, user):
    client.force_login(user)
    html = client.get("/me/").content.decode()
    assert "js/countdown.js" in html and html.index("js/countdown.js") < html.index("js/fanzone.js")


# --- Concurrency (PostgreSQL, real threads, committed transactions) -----------------------------------

THREADS = 8


def _race(member_id: int, reward_id: int):
    return run_concurrently(
        lambda i: services.redeem(member=Member.objects.get(pk=member_id), reward_id=reward_id), threads=THREADS)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_racing_redemptions_of_one_member_never_exceed_the_limit(member, make_reward):
    ledger.award(member=member, reason="test_fund", points=1000, xp=0)
    reward = make_reward("merch_physical", cost_points=10, stock=None, max_per_member=2)
    results, errors = _race(member.pk, reward.pk)
    assert len(results) == 2
    assert len(errors) == THREADS - 2 and all(isinstance(e, MemberLimitReached) for e in errors), errors[:3]
    assert Redemption.objects.filter(member=member).count() == 2
    assert Member.objects.get(pk=member.pk).points == 1000 - 20


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_negative_control_without_the_member_lock_the_limit_is_exceeded(member, make_reward, unlocked_redeem):
    ledger.award(member=member, reason="test_fund", points=1000, xp=0)
    reward = make_reward("merch_physical", cost_points=10, stock=None, max_per_member=2)
    unlocked_redeem("_check_member_limit", threads=THREADS)
    results, errors = _race(member.pk, reward.pk)
    assert errors == []
    assert Redemption.objects.filter(member=member).count() == THREADS > 2


@pytest.mark.django_db
def test_the_fan_zone_renders_offer_end_times_on_the_server(client, user, make_reward, now):
    make_reward("custom", name="Flash scarf", available_until=now + timedelta(hours=5))
    make_reward("custom", name="Next week", available_from=now + timedelta(days=7))
    make_reward("custom", name="Evergreen")
    client.force_login(user)
    html = client.get("/me/").content.decode()
    block = html[html.index('id="limited-offers"'):]
    block = block[:block.index("</ul>")]
    assert "Flash scarf" in block and "Next week" in block and "Evergreen" not in block
    assert block.index("Flash scarf") < block.index("Next week")  # soonest boundary first
    assert 'data-done-text="Ended"' in block and "<time data-countdown" in block
    assert 5 * 3600 - 60 < int(block.split('data-seconds="')[1].split('"')[0]) <= 5 * 3600
