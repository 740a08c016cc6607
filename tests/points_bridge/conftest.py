import pytest
from django.test import Client

from engagement.models import Activity

API_KEY = "test-point-system-key"


@pytest.fixture
def ps_settings(settings):
    settings.POINT_SYSTEM_API_KEY = API_KEY
    settings.POINT_SYSTEM_TRUSTED_CLIENTS = []
    settings.POINT_SYSTEM_PUBLIC_READS = True
    settings.POINT_SYSTEM_FORWARD_URL = ""
    return settings


@pytest.fixture
def ps(ps_settings):
    """A Point System client as real plugins are: no CSRF token, no cookies, the shared key."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {API_KEY}")


@pytest.fixture
def anon(ps_settings):
    return Client()


@pytest.fixture
def activity(db):
    return Activity.objects.create(name="Booths", slug="booths", external_id=102)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # PBKDF2 at full strength costs ~0.3 s per user; these tests create many and never test hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
