"""JSON typed into admin forms (achievement rule, campaign reasons, check-in list ticket types): a NUL
or a lone surrogate, written as a JSON escape, is a form error, not a 500 (issue 10). The reward
metadata form has its own test in tests/rewards/test_metadata_characters.py."""

import pytest
from django.test import Client

from checkin.models import CheckinList, Event, Organizer
from engagement.models import Achievement, Campaign

pytestmark = pytest.mark.django_db
ESCAPES = [pytest.param("\\u0000", id="nul"), pytest.param("\\ud800", id="surrogate")]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_client_(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def assert_form_error(response, field: str) -> None:
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors


@pytest.mark.parametrize("escaped", ESCAPES)
def test_achievement_rule(admin_client_, escaped):
    rule = '{"type": "reason_count", "reason": "a' + escaped + '", "min": 1}'
    response = admin_client_.post("/admin/engagement/achievement/add/", {
        "code": "first-test", "title": "First", "description": "", "icon": "", "points": "0", "xp": "0",
        "rule": rule, "active": "on", "position": "0"})
    assert_form_error(response, "rule")
    assert not Achievement.objects.filter(code="first-test").exists()  # seeded achievements exist


@pytest.mark.parametrize("escaped", ESCAPES)
def test_campaign_reasons(admin_client_, escaped):
    response = admin_client_.post("/admin/engagement/campaign/add/", {
        "name": "Double", "reasons": '["a' + escaped + '"]', "points_multiplier": "2", "xp_multiplier": "1",
        "starts_at_0": "2026-01-01", "starts_at_1": "00:00:00", "ends_at_0": "2026-12-31", "ends_at_1": "00:00:00",
        "active": "on"})
    assert_form_error(response, "reasons")
    assert not Campaign.objects.filter(name="Double").exists()


@pytest.mark.parametrize("escaped", ESCAPES)
def test_checkin_list_ticket_types(admin_client_, escaped):
    event = Event.objects.create(organizer=Organizer.objects.create(name="Org", slug="org"), name="E", slug="e")
    response = admin_client_.post("/admin/checkin/checkinlist/add/", {
        "event": str(event.pk), "name": "Main", "allow_entry_after_exit": "on", "require_entry_for_exit": "on",
        "ticket_types": '["a' + escaped + '"]', "attendance_points": "0"})
    assert_form_error(response, "ticket_types")
    assert not CheckinList.objects.exists()
