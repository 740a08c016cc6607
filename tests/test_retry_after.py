"""Every 429 says when to come back (docs/api.md promises Retry-After), and QR claims are rate-limited."""

import pytest
from django.test import override_settings
from rest_framework.exceptions import Throttled

from config.exceptions import error_payload
from config.ratelimit import RateLimited, hit
from engagement.models import Activity
from points_bridge import services
from points_bridge.models import Claim, ClaimTemplate

CLAIM = "/api/v1/points/claim"


def test_a_rate_limited_domain_error_carries_retry_after():
    with pytest.raises(RateLimited) as caught:
        for _ in range(3):
            hit("test", "me", "2/min", now=1_000_000.0)
    body, status, headers = error_payload(caught.value)
    assert (status, body["code"]) == (429, "throttled")
    assert headers["Retry-After"] == str(body["retry_after"]) and int(headers["Retry-After"]) >= 1


@pytest.mark.parametrize(("wait", "expected"), [(12.2, "13"), (0.1, "1"), (None, "60")])
def test_drf_throttled_always_carries_retry_after(wait, expected):
    _, status, headers = error_payload(Throttled(wait=wait))
    assert (status, headers["Retry-After"]) == (429, expected)


def test_other_errors_have_no_retry_after():
    _, status, headers = error_payload(RateLimited("no", status_code=400))
    assert (status, headers) == (400, {})


@pytest.mark.django_db
@override_settings(REWARDS_REDEEM_RATE="1/hour")
def test_the_redeem_limit_answers_with_retry_after(member_api, member):
    member_api.post("/api/v1/engagement/redeem", {"reward_id": 999999}, format="json")
    response = member_api.post("/api/v1/engagement/redeem", {"reward_id": 999999}, format="json")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3601


@pytest.fixture
def template(db):
    activity = Activity.objects.create(name="Booths", slug="booths")
    return ClaimTemplate.objects.create(name="Booth A", activity=activity, points=1, claim_limit=None)


@pytest.mark.django_db
@override_settings(POINT_SYSTEM_CLAIM_RATE="3/min")
def test_claims_are_rate_limited_per_member_but_replays_are_free(member_api, make_user, api, template):
    code = services.issue_claim_token(template=template)
    codes = [member_api.post(CLAIM, {"code": code}, format="json", headers={"Idempotency-Key": f"k{i}"}).status_code
             for i in range(3)]
    replay = member_api.post(CLAIM, {"code": code}, format="json", headers={"Idempotency-Key": "k0"})
    refused = member_api.post(CLAIM, {"code": code}, format="json")
    assert codes == [201, 201, 201] and replay.status_code == 200
    assert (refused.status_code, refused.json()["code"]) == (429, "throttled") and int(refused["Retry-After"]) >= 1
    api.force_authenticate(make_user("bob"))
    assert api.post(CLAIM, {"code": code}, format="json").status_code == 201  # another member is not limited
    assert Claim.objects.count() == 4


@pytest.mark.django_db
@override_settings(POINT_SYSTEM_CLAIM_RATE="2/min")
def test_bad_codes_count_against_the_claim_limit_too(member_api):
    codes = [member_api.post(CLAIM, {"code": f"guess-{i}"}, format="json").status_code for i in range(3)]
    assert codes == [400, 400, 429]
