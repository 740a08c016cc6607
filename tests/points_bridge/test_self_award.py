"""Nobody awards themselves: every staff-initiated path refuses ``self_award_forbidden`` (403), as
/api/v1/engagement/events always did. Each test fails without the guard."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.test import APIClient

from engagement import services as ledger
from engagement.errors import SelfAwardForbidden
from engagement.models import LedgerEntry
from points_bridge import services
from points_bridge.models import Claim, ClaimTemplate

pytestmark = pytest.mark.django_db


def _staff(make_user, username: str, *codenames: str):
    user = make_user(username, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def staff(make_user):
    return _staff(make_user, "door-staff", "award_points")


@pytest.fixture
def staff_api(staff):
    client = APIClient()
    client.force_authenticate(staff)
    return client


@pytest.fixture
def template(activity):
    return ClaimTemplate.objects.create(name="Booth A", activity=activity, points=15, claim_limit=None)


def _refused(response) -> None:
    assert (response.status_code, response.json()["code"]) == (403, "self_award_forbidden")
    assert LedgerEntry.objects.count() == 0


def test_staff_cannot_add_a_typed_amount_to_themselves(staff_api, staff):
    _refused(staff_api.post("/api/v1/points/add", {"user_id": staff.pk, "points": 100_000, "description": "me"},
                            format="json"))


def test_staff_cannot_award_a_template_to_themselves(staff_api, staff, template):
    _refused(staff_api.post("/api/v1/points/add", {"user_id": staff.pk, "template": template.pk}, format="json"))
    assert not Claim.objects.exists()


def test_staff_still_award_other_members(staff_api, member, template):
    typed = staff_api.post("/api/v1/points/add", {"user_id": member.user_id, "points": 5, "description": "Helped"},
                           format="json")
    by_template = staff_api.post("/api/v1/points/add", {"user_id": member.user_id, "template": template.pk},
                                 format="json")
    assert (typed.status_code, by_template.status_code) == (201, 201)
    assert LedgerEntry.objects.filter(member=member).count() == 2


def test_the_services_refuse_too(staff, template):
    """The staff attribution page posts to the API above; the services are the last line anyway."""
    me = ledger.member_for_user(staff)
    with pytest.raises(SelfAwardForbidden):
        services.award_manual(member=me, points=5, description="me", actor=staff)
    with pytest.raises(SelfAwardForbidden):
        services.award_by_template(member=me, template=template, actor=staff)
    assert LedgerEntry.objects.count() == 0


def test_the_creator_of_a_claim_template_cannot_claim_its_codes(staff, member, template):
    template.created_by = staff
    template.save(update_fields=["created_by"])
    code = services.issue_claim_token(template=template)
    with pytest.raises(SelfAwardForbidden):
        services.claim(member=ledger.member_for_user(staff), code=code)
    assert services.claim(member=member, code=code).points == 15  # everybody else still can


def test_the_admin_records_who_created_a_claim_template(client, make_user):
    creator = _staff(make_user, "booth-owner", "add_claimtemplate", "view_claimtemplate")
    client.force_login(creator)
    response = client.post(reverse("admin:points_bridge_claimtemplate_add"), {
        "name": "Booth B", "points": "10", "points_mode": "automatic", "description": "", "enabled": "on",
        "claim_limit": "1", "limit_mode": "per_member",
    })
    assert response.status_code == 302, response.content[:2000]
    assert ClaimTemplate.objects.get(name="Booth B").created_by == creator


# --- admin adjustments -------------------------------------------------------------------------------


@pytest.fixture
def adjuster(make_user):
    return _staff(make_user, "points-admin", "adjust_points", "view_member", "change_member")


def test_an_admin_cannot_raise_their_own_balance_over_the_api(adjuster):
    client = APIClient()
    client.force_authenticate(adjuster)
    _refused(client.post("/api/v1/admin/engagement/adjust", {"user_id": adjuster.pk, "delta": 500}, format="json"))


def test_an_admin_cannot_raise_their_own_balance_on_the_adjust_page(client, adjuster):
    me = ledger.member_for_user(adjuster)
    client.force_login(adjuster)
    response = client.post(reverse("admin:engagement_member_adjust", args=[me.pk]), {"delta": 500, "note": "me"})
    assert response.status_code == 200
    assert "You cannot award yourself." in response.content.decode()
    assert LedgerEntry.objects.count() == 0


def test_an_admin_may_lower_their_own_balance(adjuster):
    me = ledger.member_for_user(adjuster)
    ledger.award(member=me, reason="manual", points=10)
    entry = ledger.adjust(member=me, delta=-4, actor=adjuster)
    assert entry.points == -4


def test_a_superuser_may_correct_their_own_balance(admin_user):
    """Decision: a superuser can grant themselves any permission anyway, so refusing them protects
    nothing; their entry names them as the actor for the audit."""
    entry = ledger.adjust(member=ledger.member_for_user(admin_user), delta=5, actor=admin_user)
    assert (entry.points, entry.actor) == (5, admin_user)
