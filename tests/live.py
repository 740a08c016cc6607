"""Real processes for tests that need them: a private redis-server, gunicorn, a Celery worker and beat.

Everything listens on loopback on a free port and is stopped by the test that started it. The shared
Redis and PostgreSQL of the machine are never stopped or flushed: a test that takes Redis away starts its
own ``redis-server``. Server processes use the test database (``database_url()``), so a test that uses
them must be ``transactional`` (its rows committed, visible to the other processes).
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)
BIN = Path(sys.executable).parent
SECRET = "live-test-" + "x" * 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_until(condition: Callable[[], object], *, timeout: float = 30, every: float = 0.2, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")


class Process:
    """One child process with its output in a file (read back when a test fails)."""

    def __init__(self, name: str, command: list[str], *, env: dict, log_dir: Path):
        self.name, self.command, self.env = name, command, env
        self.log = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Process":
        out = self.log.open("ab")
        self.proc = subprocess.Popen(self.command, cwd=BASE_DIR, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        out.close()
        return self

    def stop(self, *, kill: bool = False) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.kill() if kill else self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self, tail: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-tail:] if self.log.exists() else ""


class RedisServer(Process):
    """A private, non-persistent redis-server: stopping it loses every queued message, as a real
    Redis without persistence does when it restarts."""

    def __init__(self, log_dir: Path, port: int | None = None):
        self.port = port or free_port()
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        super().__init__(f"redis-{self.port}", [binary, "--port", str(self.port), "--bind", "127.0.0.1",
                                                "--save", "", "--appendonly", "no"], env=dict(os.environ),
                         log_dir=log_dir)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        super().start()
        wait_until(self._answers, timeout=15, what=f"redis-server on {self.port}")
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def server_env(*, redis_url: str, log_dir: Path, **extra: str) -> dict:
    """A production-shaped environment (DEBUG=false) on the test database and the given Redis."""
    env = {
        "PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(log_dir), "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false", "SECRET_KEY": SECRET, "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false", "DATABASE_URL": database_url(), "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false", "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(log_dir / "mail"), "SITE_URL": "https://club.example", "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


def gunicorn(env: dict, log_dir: Path, *, workers: int = 2) -> tuple[Process, str]:
    port = free_port()
    process = Process("gunicorn", [str(BIN / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers),
                                   "--timeout", "60", "--graceful-timeout", "5"], env=env, log_dir=log_dir).start()
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if not process.alive():
            raise AssertionError(f"gunicorn exited:\n{process.output()}")
        try:
            return httpx.get(f"{url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(up, timeout=60, what="gunicorn")
    return process, url


def celery_worker(env: dict, log_dir: Path, *, name: str = "worker") -> Process:
    return Process(name, [str(BIN / "celery"), "-A", "config", "worker", "--pool=solo", "--without-gossip",
                          "--without-mingle", "-n", f"{name}-{os.getpid()}@%h", "--loglevel=WARNING"],
                   env=env, log_dir=log_dir).start()


def celery_beat(env: dict, log_dir: Path) -> Process:
    return Process("beat", [str(BIN / "celery"), "-A", "config", "beat", "--loglevel=WARNING",
                            "-s", str(log_dir / "beat-schedule")], env=env, log_dir=log_dir).start()


def sent_mail(log_dir: Path) -> list[str]:
    """Every message the file email backend wrote, one string each."""
    folder = log_dir / "mail"
    if not folder.exists():
        return []
    return [m for path in sorted(folder.glob("*.log")) for m in path.read_text().split("-" * 79) if "Subject:" in m]


def prod_local(env: dict, log_dir: Path) -> tuple[Process, str]:
    """``make prod-local``'s script (.ci/prod-local): collectstatic into ``env["STATIC_ROOT"]``, migrate,
    check --deploy, then gunicorn + worker + beat under honcho, all in one process group. Returns once
    gunicorn answers ``/healthz`` at all (a 503 while the first heartbeat is due counts as up)."""
    port = free_port()
    env = {**env, "PORT": str(port), "BEAT_SCHEDULE_FILE": str(log_dir / "beat-schedule"),
           "PROMETHEUS_MULTIPROC_DIR": str(log_dir / "prometheus")}
    process = Process("prod-local", [str(BASE_DIR / ".ci" / "prod-local")], env=env, log_dir=log_dir).start()
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if not process.alive():
            raise AssertionError(f"prod-local exited:\n{process.output()}")
        try:
            return httpx.get(f"{url}/healthz", timeout=3).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    wait_until(up, timeout=120, what="prod-local's gunicorn")
    return process, url


def pids_with_env(name: str, value: str) -> list[int]:
    """Processes of this machine whose environment has ``name=value`` (Linux /proc): what a test left."""
    wanted, found = f"{name}={value}".encode(), []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and wanted in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found
