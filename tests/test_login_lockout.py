"""Passwords cannot be guessed at leisure: django-axes locks an account, and an address, after
AXES_FAILURE_LIMIT wrong passwords on every login path, answering 429 with Retry-After."""

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

LIMIT = 3
FORM, ADMIN, TOKEN = "/accounts/login/", "/admin/login/", "/api/v1/auth/token"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_FAILURE_LIMIT = LIMIT
    # The API's own per-address throttle (20/min) is not what these tests look at.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth": "1000/min"}}


def _post(client, path: str, username: str, password: str = "wrong", *, addr: str = "203.0.113.9"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=addr)


def _assert_locked_page(response):
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 15 * 60
    assert "Too many failed logins" in response.content.decode()


@pytest.mark.parametrize("path", [FORM, ADMIN])
def test_a_login_form_locks_the_account_after_the_limit(client, make_user, path):
    make_user("alice", is_staff=True)
    statuses = [_post(client, path, "alice").status_code for _ in range(LIMIT - 1)]
    assert statuses == [200] * (LIMIT - 1)  # the form again, with its error
    _assert_locked_page(_post(client, path, "alice"))
    # Locked means locked: the right password does not get in either, from anywhere.
    _assert_locked_page(_post(client, path, "alice", "pw-for-tests", addr="198.51.100.1"))


def test_a_login_form_locks_the_address_after_the_limit(client, make_user):
    make_user("carol")
    for i in range(LIMIT - 1):
        assert _post(client, FORM, f"guess-{i}").status_code == 200
    _assert_locked_page(_post(client, FORM, "guess-last"))
    _assert_locked_page(_post(client, FORM, "carol", "pw-for-tests"))  # the same address, a fresh account
    assert _post(client, FORM, "carol", "pw-for-tests", addr="198.51.100.1").status_code == 302


def test_the_api_token_locks_too_with_a_json_refusal(client, make_user):
    make_user("alice")
    for _ in range(LIMIT - 1):
        response = _post(client, TOKEN, "alice")
        assert (response.status_code, response.json()["code"]) == (401, "invalid_credentials")
    # The failure that reaches the limit is refused as locked; then even the right password, elsewhere.
    for password, addr in (("wrong", "203.0.113.9"), ("pw-for-tests", "198.51.100.1")):
        response = _post(client, TOKEN, "alice", password, addr=addr)
        assert (response.status_code, response.json()["code"]) == (429, "login_locked")
        assert 1 <= int(response["Retry-After"]) <= 15 * 60
        assert "token" not in response.json()


def test_failures_on_one_path_count_on_the_others(client, make_user):
    make_user("alice", is_staff=True)
    _post(client, FORM, "alice")
    _post(client, TOKEN, "alice")
    _assert_locked_page(_post(client, ADMIN, "alice"))


def test_below_the_limit_a_good_password_still_logs_in(client, make_user):
    make_user("alice")
    for _ in range(LIMIT - 1):
        _post(client, FORM, "alice")
    assert _post(client, FORM, "alice", "pw-for-tests").status_code == 302


@override_settings(TRUSTED_PROXIES=[])
def test_forged_x_forwarded_for_does_not_escape_the_address_lockout(client):
    statuses = [client.post(FORM, {"username": f"guess-{i}", "password": "x"}, REMOTE_ADDR="203.0.113.9",
                            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code for i in range(LIMIT + 2)]
    assert statuses[LIMIT - 1:] == [429] * 3
