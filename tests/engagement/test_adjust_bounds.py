"""An admin adjustment is bounded (issue 10: ``delta`` of 2**63 overflowed the bigint columns, a 500)."""

import pytest
from django.test import Client

from engagement import services
from engagement.errors import LedgerError
from engagement.models import LedgerEntry

pytestmark = pytest.mark.django_db
BOUND = 1_000_000_000  # BOUND, documented in docs/api.md


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.parametrize("delta", [2**63, -(2**63), 2**64, BOUND + 1, -BOUND - 1])
def test_the_api_refuses_a_delta_beyond_the_bound(admin_api, member, delta):
    response = admin_api.post("/api/v1/admin/engagement/adjust", {"user_id": member.user_id, "delta": delta},
                              format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error" and "delta" in response.json()["errors"]
    assert not LedgerEntry.objects.exists()


def test_the_api_accepts_the_bound_itself(admin_api, member):
    response = admin_api.post("/api/v1/admin/engagement/adjust",
                              {"user_id": member.user_id, "delta": BOUND}, format="json")
    assert response.status_code == 201 and response.json()["balance"] == BOUND


def test_the_admin_page_shows_a_form_error_for_a_huge_delta(admin_user, member):
    client = Client()
    client.force_login(admin_user)
    response = client.post(f"/admin/engagement/member/{member.pk}/adjust/", {"delta": str(2**63), "note": "typo"})
    assert response.status_code == 200
    assert response.context["form"].errors["delta"]
    assert not LedgerEntry.objects.exists()


def test_the_service_refuses_it_too(member, admin_user):
    assert services.MAX_ADJUST == BOUND
    with pytest.raises(LedgerError) as refused:
        services.adjust(member=member, delta=2**63, actor=admin_user)
    assert refused.value.code == "invalid_amount"
    assert not LedgerEntry.objects.exists()
