"""Settings are parsed strictly; production mode refuses to start half-configured."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k" * 20 + "-production-secret-key-with-enough-entropy-0123456789"


def run_manage(*args: str, **environ: str) -> subprocess.CompletedProcess:
    # DJANGO_ALLOW_ASYNC_UNSAFE is set by the Playwright fixture for this test process only.
    dropped = {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **environ},
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("raw", ["yes", "TRUE", " on ", "1"])
def test_env_bool_accepts_the_usual_spellings_of_true(monkeypatch, raw):
    monkeypatch.setenv("X_FLAG", raw)
    assert env.env_bool("X_FLAG", False) is True


@pytest.mark.parametrize("raw", ["False", "0", "off", "no"])
def test_env_bool_reads_false_as_false(monkeypatch, raw):
    monkeypatch.setenv("X_FLAG", raw)
    assert env.env_bool("X_FLAG", True) is False


def test_env_bool_refuses_anything_else(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG must be true or false"):
        env.env_bool("X_FLAG", True)


def test_env_int_refuses_non_numbers_and_values_below_the_minimum(monkeypatch):
    monkeypatch.setenv("X_INT", "ten")
    with pytest.raises(ImproperlyConfigured):
        env.env_int("X_INT", 1)
    monkeypatch.setenv("X_INT", "-1")
    with pytest.raises(ImproperlyConfigured):
        env.env_int("X_INT", 1, minimum=0)


def test_env_url_and_timezone_are_validated(monkeypatch):
    monkeypatch.setenv("X_URL", "mysql://db")
    with pytest.raises(ImproperlyConfigured):
        env.env_url("X_URL", schemes=("postgres",))
    monkeypatch.setenv("X_TZ", "Mars/Olympus")
    with pytest.raises(ImproperlyConfigured):
        env.env_timezone("X_TZ", "UTC")


def test_production_mode_needs_a_real_secret_key():
    result = run_manage("check", DEBUG="false", ALLOWED_HOSTS="plaudit.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_mode_needs_allowed_hosts():
    result = run_manage("check", DEBUG="false", SECRET_KEY=GOOD_KEY)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_bad_values_stop_start_up():
    result = run_manage("check", DEBUG="sometimes")
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_check_deploy_is_clean_in_production_mode():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="false", SECRET_KEY=GOOD_KEY,
                        ALLOWED_HOSTS="plaudit.example.org")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _prepare_threshold(**environ: str) -> str:
    code = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'].get('prepare_threshold'))"
    result = run_manage("shell", "-c", code, **environ)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # after shell's "N objects imported" line


def test_postgresql_prepares_the_ledger_statements_unless_told_not_to():
    url = "postgres://plaudit@db.invalid:5432/plaudit"  # parsed only, never connected to
    assert _prepare_threshold(DATABASE_URL=url) == "5"
    assert _prepare_threshold(DATABASE_URL=url, DB_PREPARED_STATEMENTS="false") == "None"
    assert _prepare_threshold() == "None"  # SQLite has nothing to prepare


@pytest.mark.parametrize("raw", ["30", "0/min", "x/min", "5/fortnight", "-1/s"])
def test_env_rate_refuses_what_the_limiter_cannot_read(monkeypatch, raw):
    monkeypatch.setenv("X_RATE", raw)
    with pytest.raises(ImproperlyConfigured, match="X_RATE must look like"):
        env.env_rate("X_RATE", "30/min")


def test_env_rate_keeps_a_good_rate(monkeypatch):
    monkeypatch.setenv("X_RATE", "10/hour")
    assert env.env_rate("X_RATE", "30/min") == "10/hour"
