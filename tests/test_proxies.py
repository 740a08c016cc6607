"""Forwarded headers are believed only from TRUSTED_PROXIES (config/proxies.py)."""

import random

import pytest
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from config.proxies import TrustedProxyMiddleware, client_address, parse_networks

TOKEN = "/api/v1/auth/token"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Every refused login hashes the password once (PBKDF2, ~0.3 s); these tests send fifty.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _seen(**meta):
    """Run the middleware and return (REMOTE_ADDR, is_secure, X-Forwarded-For) as the view sees them."""
    seen = {}

    def view(request):
        seen.update(addr=request.META["REMOTE_ADDR"], secure=request.is_secure(),
                    xff=request.META.get("HTTP_X_FORWARDED_FOR"))
        return HttpResponse()

    TrustedProxyMiddleware(view)(RequestFactory().get("/", **meta))
    return seen["addr"], seen["secure"], seen["xff"]


@override_settings(TRUSTED_PROXIES=[], SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_without_trusted_proxies_a_client_cannot_pose_as_another_address_or_https():
    addr, secure, xff = _seen(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.2.3.4",
                              HTTP_X_FORWARDED_PROTO="https")
    assert (addr, secure, xff) == ("203.0.113.9", False, None)


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"], SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_a_trusted_proxy_tells_us_the_client_and_the_scheme():
    addr, secure, _ = _seen(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7",
                            HTTP_X_FORWARDED_PROTO="https")
    assert (addr, secure) == ("198.51.100.7", True)


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"], SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_an_untrusted_peer_is_not_believed_even_when_proxies_are_configured():
    addr, secure, _ = _seen(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.0.0.5",
                            HTTP_X_FORWARDED_PROTO="https")
    assert (addr, secure) == ("203.0.113.9", False)


@pytest.mark.parametrize(("xff", "client"), [
    ("198.51.100.7", "198.51.100.7"),
    # The client wrote a fake first hop; our proxy appended the address it really saw.
    ("6.6.6.6, 198.51.100.7", "198.51.100.7"),
    # Two of our proxies in a row are skipped.
    ("6.6.6.6, 198.51.100.7, 10.1.1.1", "198.51.100.7"),
    # Garbage where an address should be: the last proxy we trust is all we know.
    ("198.51.100.7, not-an-ip, 10.1.1.1", "10.1.1.1"),
    ("", "10.0.0.2"),
    ("::ffff:198.51.100.7", "198.51.100.7"),
    ("2001:db8::1", "2001:db8::1"),
])
def test_x_forwarded_for_is_read_from_the_right(xff, client):
    assert client_address("10.0.0.2", xff, parse_networks(["10.0.0.0/8"])) == client


def test_a_bad_proxy_setting_is_refused(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config import env

    monkeypatch.setenv("X_PROXIES", "10.0.0.0/8, proxy.example")
    with pytest.raises(ImproperlyConfigured, match="'proxy.example' is not an IP"):
        env.env_networks("X_PROXIES")


# --- the reproduction: the login throttle ----------------------------------------------------


def _wrong_passwords(client, *, peer: str, n: int = 25) -> list[int]:
    """n wrong passwords, each with a fresh random X-Forwarded-For and a fresh username."""
    statuses = []
    for i in range(n):
        forged = ".".join(str(random.randint(1, 254)) for _ in range(4))
        response = client.post(TOKEN, {"username": f"nobody-{i}", "password": "wrong"},
                               REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forged)
        statuses.append(response.status_code)
    return statuses


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=[])
def test_random_x_forwarded_for_does_not_escape_the_login_throttle(client):
    statuses = _wrong_passwords(client, peer="203.0.113.9")
    assert 429 in statuses
    assert statuses.index(429) <= 20  # the "auth" throttle allows 20 a minute per client


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_behind_a_trusted_proxy_each_forwarded_client_is_counted_on_its_own(client):
    assert set(_wrong_passwords(client, peer="10.0.0.2")) == {401}


@pytest.mark.django_db
def test_point_system_trusted_clients_are_the_real_clients_behind_a_proxy(settings, client):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    settings.POINT_SYSTEM_API_KEY = ""
    settings.POINT_SYSTEM_TRUSTED_CLIENTS = ["192.0.2.7"]
    settings.POINT_SYSTEM_FORWARD_URL = ""

    def add(**meta):
        return client.post("/points/7/add?type=manual", '{"points": 5}', "application/json", **meta).status_code

    assert add(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="192.0.2.7") == 201
    assert add(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="192.0.2.8") == 403  # another client, same proxy
    assert add(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="192.0.2.7") == 403  # not our proxy: not believed
