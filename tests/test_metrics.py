"""/metrics: who may read it, the figures read from the database, request latency, multi-process mode."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from checkin.models import CheckinList, Event, Organizer, Scan
from config.models import OutboxTask
from engagement import services
from rewards import services as rewards_services
from rewards.models import Reward
from rewards.presets import PRESETS
from tests.live import BASE_DIR


def scrape(**headers) -> tuple[int, str]:
    response = Client(**headers).get("/metrics")
    return response.status_code, response.content.decode()


def sample(text: str, line_start: str) -> float:
    """The value of the one sample whose line starts with ``line_start`` (name and labels)."""
    values = [line.rsplit(" ", 1)[1] for line in text.splitlines() if line.startswith(line_start + " ")]
    assert len(values) == 1, (line_start, text)
    return float(values[0])


@pytest.mark.django_db
def test_loopback_reads_prometheus_text():
    response = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert sample(response.content.decode(), "plaudit_figures_ok") == 1


@pytest.mark.django_db
@pytest.mark.parametrize("headers", [
    {"REMOTE_ADDR": "203.0.113.5"},
    # A proxy on the same machine: loopback, but the visitor is whoever X-Forwarded-For names.
    {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.5"},
    {"REMOTE_ADDR": "203.0.113.5", "HTTP_AUTHORIZATION": "Bearer wrong"},
])
def test_others_are_refused_with_json(headers, settings):
    settings.METRICS_TOKEN = "metrics-secret"
    response = Client(**headers).get("/metrics")
    assert response.status_code == 403 and response.json()["code"] == "metrics_forbidden"


@pytest.mark.django_db
def test_the_token_opens_it_from_anywhere(settings):
    settings.METRICS_TOKEN = "metrics-secret"
    status, _ = scrape(REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="198.51.100.7",
                       HTTP_AUTHORIZATION="Bearer metrics-secret")
    assert status == 200


@pytest.mark.django_db
def test_allowed_networks_come_from_the_setting(settings):
    from config import metrics

    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    metrics.allowed_networks.cache_clear()
    try:
        assert scrape(REMOTE_ADDR="10.1.2.3")[0] == 200
        assert scrape(REMOTE_ADDR="127.0.0.1")[0] == 403
    finally:
        metrics.allowed_networks.cache_clear()


def make_scans() -> None:
    event = Event.objects.create(organizer=Organizer.objects.create(name="Org", slug="org"), name="Conf", slug="c")
    clist = CheckinList.objects.create(event=event, name="Main")
    Scan.objects.create(checkin_list=clist, type=Scan.Type.ENTRY)
    Scan.objects.create(checkin_list=clist, type=Scan.Type.ENTRY, successful=False,
                        error_reason=Scan.Reason.INVALID, raw_code="nope")


@pytest.mark.django_db
def test_business_figures_are_read_from_the_database(member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.award(member=member, reason="comment_create")  # and the worker unlocks first_comment
    services.award(member=member, reason="test_fund", points=100)
    reward = Reward.objects.create(**{**PRESETS["merch_physical"], "cost_points": 10, "stock": 5})
    rewards_services.redeem(member=member, reward_id=reward.pk)
    make_scans()
    text = scrape()[1]
    assert sample(text, 'plaudit_ledger_entries_total{reason="comment_create"}') == 1
    assert sample(text, 'plaudit_ledger_entries_total{reason="achievement"}') == 1  # one series for all
    assert sample(text, 'plaudit_points_awarded_total{reason="test_fund"}') == 100
    assert sample(text, 'plaudit_points_spent_total{reason="redeem"}') == 10
    assert sample(text, 'plaudit_scans_total{result="ok",type="entry"}') == 1
    assert sample(text, 'plaudit_scans_total{result="invalid",type="entry"}') == 1
    assert sample(text, 'plaudit_redemptions_in_status{status="pending"}') == 1
    assert sample(text, "plaudit_redemptions_total") == 1


@pytest.mark.django_db
def test_outbox_lag_and_heartbeat_age():
    created = timezone.now() - timedelta(seconds=120)
    OutboxTask.objects.create(task="plaudit.heartbeat", created=created, due_at=created)
    text = scrape()[1]
    assert sample(text, 'plaudit_outbox_oldest_pending_seconds{outbox="tasks"}') >= 120
    assert sample(text, 'plaudit_outbox_oldest_pending_seconds{outbox="forwarding"}') == 0
    assert sample(text, "plaudit_outbox_tasks_pending") == 1


@pytest.mark.django_db
def test_request_latency_per_view():
    Client().get("/board/")
    text = scrape()[1]
    count = 'plaudit_http_request_duration_seconds_count{method="GET",status="200",view="bridge-board"}'
    assert sample(text, count) >= 1


@pytest.mark.django_db
def test_a_failing_figure_leaves_the_scrape_standing(monkeypatch):
    from engagement import monitoring

    def broken():
        raise RuntimeError("database gone")

    monkeypatch.setattr(monitoring.LedgerEntry.objects, "values", lambda *a, **k: broken())
    status, text = scrape()
    assert status == 200
    assert sample(text, "plaudit_figures_ok") == 0
    assert "plaudit_http_request_duration_seconds" in text


MULTIPROCESS_REQUEST = """
import django, sys
django.setup()
from django.test import Client
Client().get("/healthz")
if sys.argv[1] == "scrape":
    print(Client().get("/metrics").content.decode())
"""


def test_multiprocess_mode_adds_up_every_process(tmp_path):
    # Two processes, as two gunicorn workers: the second one's scrape counts the first one's request.
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings",
           "SQLITE_PATH": str(tmp_path / "empty.sqlite3")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    for role in ("request", "scrape"):
        done = subprocess.run([sys.executable, "-c", MULTIPROCESS_REQUEST, role], env=env, cwd=BASE_DIR,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    # The empty database fails the health check (503) and the figures; the latency is still counted.
    count = 'plaudit_http_request_duration_seconds_count{method="GET",status="503",view="healthz"}'
    assert sample(done.stdout, count) == 2
    assert sample(done.stdout, "plaudit_figures_ok") == 0
