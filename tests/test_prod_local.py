"""`make prod-local` refuses to start without the production settings, before touching anything."""

import subprocess

from tests.live import BASE_DIR, BIN


def test_it_names_every_missing_setting_and_starts_nothing():
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "plaudit.example.org"}
    done = subprocess.run([str(BASE_DIR / ".ci" / "prod-local")], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "set DATABASE_URL REDIS_URL in the environment" in done.stderr
    assert done.stdout == ""  # no collectstatic, no migrate, no server
