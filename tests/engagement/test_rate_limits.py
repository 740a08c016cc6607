"""Every engagement and rewards endpoint has a per-caller rate limit (a setting), answered with 429
``throttled`` and ``retry_after``; the specification's numbers where it gives them."""

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from engagement import conf
from engagement.models import EarningRule

pytestmark = pytest.mark.django_db
V1 = "/api/v1"

# (client fixture, method, path, body, scope). Bodies may be refused (400/404/409): a refused request
# still counts, so the second one shows the limit.
ENDPOINTS = [
    ("member_api", "get", "/engagement/profile", None, "profile_read"),
    ("member_api", "patch", "/engagement/profile", {}, "profile_write"),
    ("member_api", "patch", "/engagement/avatar", {}, "profile_write"),
    ("member_api", "post", "/engagement/avatar/upload", {}, "avatar_upload"),
    ("member_api", "get", "/engagement/transactions", None, "transactions"),
    ("member_api", "get", "/engagement/achievements", None, "achievements"),
    ("api", "get", "/engagement/leaderboard", None, "leaderboard"),
    ("member_api", "get", "/engagement/leaderboard", None, "leaderboard"),
    ("api", "get", "/engagement/rewards", None, "rewards"),
    ("member_api", "get", "/engagement/redemptions", None, "redemptions"),
    ("member_api", "post", "/engagement/unban-request", {"message": "hi"}, "unban_request"),
    ("admin_api", "post", "/engagement/events", {}, "events"),
    ("admin_api", "get", "/admin/engagement/leaderboard", None, "admin"),
    ("admin_api", "get", "/admin/engagement/transactions", None, "admin"),
    ("admin_api", "post", "/admin/engagement/adjust", {}, "admin"),
    ("admin_api", "get", "/admin/engagement/profile/999999", None, "admin"),
    ("admin_api", "post", "/admin/engagement/members/999999/ban", {}, "admin"),
    ("admin_api", "get", "/admin/engagement/rewards", None, "admin"),
    ("admin_api", "patch", "/admin/engagement/rewards/999999", {}, "admin"),
    ("admin_api", "get", "/admin/engagement/redemptions", None, "admin"),
    ("admin_api", "get", "/admin/engagement/redemptions/999999", None, "admin"),
]


def call(client, method: str, path: str, body):
    return getattr(client, method)(V1 + path, body, format="json") if body is not None else \
        getattr(client, method)(V1 + path)


@pytest.mark.parametrize(("client_name", "method", "path", "body", "scope"), ENDPOINTS)
def test_every_endpoint_answers_429_with_retry_after_past_its_limit(request, settings, client_name, method, path,
                                                                    body, scope):
    settings.ENGAGEMENT_RATES = {scope: "1/hour"}
    client = request.getfixturevalue(client_name)
    first = call(client, method, path, body)
    assert first.status_code != 429
    second = call(client, method, path, body)
    assert (second.status_code, second.json()["code"]) == (429, "throttled"), second.json()
    assert 0 < second.json()["retry_after"] <= 3601


def test_a_limit_can_be_switched_off(settings, member_api):
    settings.ENGAGEMENT_RATES = {"transactions": None}
    assert conf.rate("transactions") is None
    assert {member_api.get(f"{V1}/engagement/transactions").status_code for _ in range(3)} == {200}


def test_callers_are_counted_apart(settings, member_api, admin_api):
    settings.ENGAGEMENT_RATES = {"leaderboard": "1/hour"}
    clients = (APIClient(), member_api, admin_api)  # anonymous (by address), then two users
    assert [c.get(f"{V1}/engagement/leaderboard").status_code for c in clients] == [200] * 3


def test_refused_requests_cost_no_allowance(settings, member_api):
    settings.ENGAGEMENT_RATES = {"admin": "1/hour", "profile_read": "1/hour"}
    assert [member_api.get(f"{V1}/admin/engagement/rewards").status_code for _ in range(3)] == [403] * 3
    assert [APIClient().get(f"{V1}/engagement/profile").status_code for _ in range(3)] == [401] * 3


def test_the_specifications_numbers_are_the_defaults():
    assert conf.DEFAULT_RATES["unban_request"] == "5/hour"
    assert django_settings.ENGAGEMENT_ACTION_RATES == {"comment_create": "20/min", "comment_reacted": "60/min",
                                                      "poll_vote": "60/min"}
    assert django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["redeem"] == "5/hour"
    assert all(conf.rate(scope) for scope in {scope for *_, scope in ENDPOINTS})


def test_the_twenty_first_comment_in_a_minute_is_refused(admin_api, member):
    EarningRule.objects.filter(reason="comment_create").update(daily_cap=None)
    body = {"user_id": member.user_id, "reason": "comment_create"}
    codes = [admin_api.post(f"{V1}/engagement/events", body, format="json").status_code for _ in range(21)]
    assert codes == [201] * 20 + [429]
