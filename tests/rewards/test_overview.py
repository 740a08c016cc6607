from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from engagement import services as ledger
from engagement.models import Member
from rewards import overview, services

pytestmark = pytest.mark.django_db
OVERVIEW = "/admin/rewards/engagementoverview/"


def _members(make_user, fund, earnings: list[int]) -> list[Member]:
    return [fund(Member.objects.get(user=make_user(f"m{i}")), points) for i, points in enumerate(earnings)]


def test_points_per_week_nets_refunds_against_spending(rich_member, tshirt, admin_user):
    redemption = services.redeem(member=rich_member, reward_id=tshirt.pk)
    services.redeem(member=rich_member, reward_id=tshirt.pk)
    services.reject(redemption_id=redemption.pk, actor=admin_user)
    (week,) = overview.points_per_week(at=timezone.now())
    assert (week["issued"], week["spent"], week["net"]) == (1000, 60, 940)
    assert week["ratio"] == round(1000 / 60, 2)


def test_redemptions_per_day_counts_by_status(rich_member, tshirt, admin_user):
    now = timezone.now()
    services.redeem(member=rich_member, reward_id=tshirt.pk, at=now - timedelta(days=2))
    rejected = services.redeem(member=rich_member, reward_id=tshirt.pk)
    services.redeem(member=rich_member, reward_id=tshirt.pk)
    services.reject(redemption_id=rejected.pk, actor=admin_user)
    rows = overview.redemptions_per_day(at=now)
    assert [(r["total"], r["pending"], r["rejected"], r["bar"]) for r in rows] == [(1, 1, 0, 50), (2, 1, 1, 100)]


def test_unusual_earners_are_far_above_the_median(make_user, fund):
    members = _members(make_user, fund, [10, 12, 15, 20, 400])
    flagged, median = overview.unusual_earners(at=timezone.now())
    assert median == 15 and [(v.member, v.earned) for v in flagged] == [(members[-1], 400)]
    assert flagged[0].times_median == round(400 / 15, 1)


def test_old_earnings_and_refunds_do_not_count_as_velocity(make_user, fund, rich_member, tshirt, admin_user):
    old = Member.objects.get(user=make_user("old"))
    ledger.award(member=old, reason="test_fund", points=5000, xp=0, at=timezone.now() - timedelta(days=8))
    _members(make_user, fund, [10, 10, 10])
    flagged, _ = overview.unusual_earners(at=timezone.now())
    assert [v.member for v in flagged] == [rich_member]  # 1000 this week; old's 5000 are from last week


def test_quiet_weeks_flag_nobody_below_the_minimum(make_user, fund):
    _members(make_user, fund, [1, 1, 1, 20])
    assert overview.unusual_earners(at=timezone.now())[0] == []


def test_overview_page_is_linked_from_the_admin_index_and_renders(admin_user, rich_member, tshirt):
    services.redeem(member=rich_member, reward_id=tshirt.pk)
    client = Client()
    client.force_login(admin_user)
    assert OVERVIEW.encode() in client.get("/admin/").content
    page = client.get(OVERVIEW)
    assert page.status_code == 200
    for text in (b"Redemptions per day", b"Points issued vs spent per week", b"Unusual earning velocity",
                 b"1 redemption(s) waiting"):
        assert text in page.content


def test_overview_needs_both_view_permissions(make_user):
    clerk = make_user("clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_redemption"))
    client = Client()
    client.force_login(clerk)
    assert OVERVIEW.encode() not in client.get("/admin/").content
    assert client.get(OVERVIEW).status_code == 302
    clerk.user_permissions.add(Permission.objects.get(codename="view_ledgerentry"))
    assert client.get(OVERVIEW).status_code == 200
