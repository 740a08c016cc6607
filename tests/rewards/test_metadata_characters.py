"""Reward metadata typed into the admin form (not through the API's body parser): a NUL or a lone
surrogate, written as a JSON escape, is a form error rather than a PostgreSQL error (issue 10)."""

import pytest
from django.test import Client

from rewards.models import Reward

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.parametrize("escaped", ["\\u0000", "\\ud800"])
def test_the_admin_form_refuses_bad_characters_in_custom_metadata(admin_user, escaped):
    client = Client()
    client.force_login(admin_user)
    response = client.post("/admin/rewards/reward/add/", {
        "name": "Mug", "type": "custom", "cost_points": "10", "metadata": '{"note": "a' + escaped + 'b"}',
        "description": "", "image_url": "", "stock": ""})
    assert response.status_code == 200
    assert "metadata" in response.context["adminform"].form.errors
    assert not Reward.objects.exists()
