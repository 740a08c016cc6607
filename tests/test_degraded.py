"""Cache trouble degrades, it never fails a request; a lost database connection answers 503, not 500."""

import logging

import pytest
from django.contrib.auth.models import Permission
from django.db import OperationalError
from rest_framework.test import APIClient

from config import ratelimit
from engagement.models import LedgerEntry
from tests.live import free_port

DEAD_REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
                          "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1}}}


@pytest.fixture
def cache_down(settings):
    settings.CACHES = DEAD_REDIS
    ratelimit.cache_unavailable.__globals__["warn_now_and_then"].__globals__["_last"].clear()


@pytest.fixture
def recorder(make_user):
    staff = make_user("frontend")
    staff.user_permissions.add(Permission.objects.get(codename="record_action"))
    client = APIClient()
    client.force_authenticate(staff)
    return client


@pytest.mark.django_db
def test_with_the_cache_down_a_rate_limited_action_is_recorded_and_a_warning_logged(
        cache_down, recorder, member, caplog):
    with caplog.at_level(logging.WARNING, logger="config.ratelimit"):
        response = recorder.post("/api/v1/engagement/events", {"user_id": member.user_id, "reason": "comment_create"},
                                 format="json")
    assert response.status_code == 201, response.content
    assert LedgerEntry.objects.filter(member=member, reason="comment_create").count() == 1
    assert "Cache unavailable, rate limit" in caplog.text and "not applied (failing open)" in caplog.text


@pytest.mark.django_db
def test_with_the_cache_down_logins_still_work(cache_down, make_user):
    make_user("bob", password="pw-for-tests")
    response = APIClient().post("/api/v1/auth/token", {"username": "bob", "password": "pw-for-tests"}, format="json")
    assert response.status_code == 200 and response.json()["token"]


@pytest.mark.django_db
def test_with_the_cache_down_the_redeem_limit_fails_open(cache_down, member_api, member):
    from engagement import services
    from rewards.models import Reward
    from rewards.presets import PRESETS

    services.award(member=member, reason="test_fund", points=500)
    reward = Reward.objects.create(**{**PRESETS["merch_physical"], "cost_points": 10, "stock": 5})
    response = member_api.post("/api/v1/engagement/redeem", {"reward_id": reward.pk}, format="json")
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_a_database_error_in_a_request_answers_json_503_with_retry_after(member_api, monkeypatch):
    from engagement import api

    def lost(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(api, "member_for_user", lost)
    response = member_api.get("/api/v1/engagement/profile")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable" and response["Retry-After"] == "5"


@pytest.mark.django_db
def test_a_page_whose_database_is_lost_answers_a_plain_503(client, monkeypatch):
    from django.contrib.auth import views

    def lost(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(views.LoginView, "get", lost)
    response = client.get("/accounts/login/")
    assert response.status_code == 503 and response["Content-Type"].startswith("text/plain")
