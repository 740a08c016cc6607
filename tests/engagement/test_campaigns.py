import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from engagement import services
from engagement.admin_achievements import CampaignForm
from engagement.models import Campaign, EarningRule, LedgerEntry

NOW = timezone.now()


def campaign(*, reasons=("comment_create",), points="2", xp="1.5", start=-1, end=1, **extra) -> Campaign:
    return Campaign.objects.create(
        name=extra.pop("name", "Double comments"), reasons=list(reasons), points_multiplier=Decimal(points),
        xp_multiplier=Decimal(xp), starts_at=NOW + dt.timedelta(hours=start), ends_at=NOW + dt.timedelta(hours=end),
        **extra,
    )


@pytest.mark.django_db
def test_a_running_campaign_multiplies_the_award_and_says_so_in_meta(member):
    boost = campaign()
    entry = services.award(member=member, reason="comment_create", at=NOW)  # rule: 5 points, 5 XP
    assert (entry.points, entry.xp) == (10, 8)  # 5 × 2, and 5 × 1.5 = 7.5 rounds half up
    assert entry.meta["campaign"] == {"id": boost.pk, "name": "Double comments", "points_multiplier": "2.00",
                                      "xp_multiplier": "1.50"}
    member.refresh_from_db()
    assert (member.points, member.xp) == (10, 8)


@pytest.mark.django_db
@pytest.mark.parametrize("at_hours", [-2, 1, 3])
def test_no_boost_outside_the_campaigns_time_box(member, at_hours):
    campaign(start=0, end=1)  # [now, now + 1h): its end is exclusive
    entry = services.award(member=member, reason="comment_create", at=NOW + dt.timedelta(hours=at_hours))
    assert (entry.points, entry.xp) == (5, 5)
    assert "campaign" not in entry.meta


@pytest.mark.django_db
def test_no_boost_for_other_reasons_or_inactive_campaigns(member):
    campaign(reasons=["poll_vote"])
    campaign(active=False, name="Switched off")
    entry = services.award(member=member, reason="comment_create", at=NOW)
    assert entry.points == 5 and "campaign" not in entry.meta


@pytest.mark.django_db
def test_a_campaign_can_target_earning_rules(member):
    boost = campaign(reasons=[], points="3", xp="3")
    boost.rules.add(EarningRule.objects.get(reason="poll_vote"))
    entry = services.award(member=member, reason="poll_vote", at=NOW)
    assert (entry.points, entry.xp) == (9, 9)


@pytest.mark.django_db
def test_overlapping_campaigns_do_not_stack_the_best_one_applies(member):
    campaign(points="2", xp="2", name="Double")
    campaign(points="3", xp="1", name="Triple points")
    entry = services.award(member=member, reason="comment_create", at=NOW)
    assert (entry.points, entry.xp, entry.meta["campaign"]["name"]) == (15, 5, "Triple points")


@pytest.mark.django_db
def test_explicit_amounts_are_boosted_too_and_caps_still_count_awards(member):
    campaign(reasons=["checkin"], points="2", xp="2")
    assert services.award(member=member, reason="checkin", points=7, xp=1, at=NOW).points == 14


@pytest.mark.django_db
def test_a_replay_after_the_campaign_ended_returns_the_first_entry(member):
    campaign(start=-1, end=0)
    first = services.award(member=member, reason="comment_create", idempotency_key="k-1",
                           at=NOW - dt.timedelta(minutes=30))
    replay = services.award(member=member, reason="comment_create", idempotency_key="k-1", at=NOW)
    assert replay.replayed and replay.pk == first.pk and replay.points == 10
    assert LedgerEntry.objects.filter(member=member).count() == 1


@pytest.mark.django_db
def test_campaign_validation_in_model_and_admin_form():
    bad = Campaign(name="x", reasons="checkin", starts_at=NOW, ends_at=NOW - dt.timedelta(hours=1))
    with pytest.raises(ValidationError) as exc:
        bad.full_clean()
    assert {"ends_at", "reasons"} <= set(exc.value.message_dict)
    low = Campaign(name="x", reasons=["checkin"], points_multiplier=Decimal("0.5"), starts_at=NOW,
                   ends_at=NOW + dt.timedelta(hours=1))
    with pytest.raises(ValidationError) as exc:
        low.full_clean()
    assert "points_multiplier" in exc.value.message_dict
    data = {"name": "Nothing", "reasons": "[]", "points_multiplier": "2", "xp_multiplier": "1",
            "starts_at": "2026-01-01 10:00", "ends_at": "2026-01-02 10:00", "active": "on"}
    form = CampaignForm(data=data)
    assert not form.is_valid()
    assert "at least one earning rule or reason" in str(form.errors)
    form = CampaignForm(data={**data, "reasons": '["checkin"]'})
    assert form.is_valid(), form.errors
