"""Forwarding to an external Point System through the outbox, against a real HTTP server on loopback
that fails the first attempts."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.sites import site
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from engagement import services as ledger
from engagement.models import Activity
from points_bridge import conf, forwarding, tasks
from points_bridge.admin import OutboxEntryAdmin
from points_bridge.models import OutboxEntry

pytestmark = pytest.mark.django_db
Status = OutboxEntry.Status


class PointSystemServer:
    """A tiny external Point System: records every request and answers 500 for the first ``failures``."""

    def __init__(self, failures: int = 0):
        self.failures, self.requests = failures, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
                failing = len(outer.requests) <= outer.failures
                payload = json.dumps({"detail": "down"} if failing else {"id": len(outer.requests)}).encode()
                self.send_response(500 if failing else 201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def forwarding_on(ps_settings):
    def configure(url: str):
        ps_settings.POINT_SYSTEM_FORWARD_URL = url
        ps_settings.POINT_SYSTEM_FORWARD_KEY = "remote-key"

    return configure


@pytest.fixture
def participant(db):
    return ledger.participant_for_external_id(1700000001)


def test_nothing_is_queued_when_forwarding_is_off(ps_settings, participant):
    ledger.award(member=participant, reason="x", points=5)
    assert OutboxEntry.objects.count() == 0


def test_the_outbox_row_rolls_back_with_its_entry(forwarding_on, participant):
    forwarding_on("http://127.0.0.1:9/")
    with pytest.raises(RuntimeError, match="fails later"):
        with transaction.atomic():
            ledger.award(member=participant, reason="x", points=5)
            raise RuntimeError("the caller's transaction fails later")
    assert OutboxEntry.objects.count() == 0


def test_failed_attempts_back_off_then_deliver_once_with_one_idempotency_key(
    forwarding_on, participant, django_capture_on_commit_callbacks
):
    activity = Activity.objects.create(name="Booth", slug="booth", external_id=102)
    with PointSystemServer(failures=2) as server:
        forwarding_on(server.url)
        with django_capture_on_commit_callbacks(execute=True):
            entry = ledger.award(member=participant, reason="claim", points=15, activity=activity,
                                 meta={"description": "Booth A"})
        row = OutboxEntry.objects.get(entry=entry)
        assert (row.status, row.attempts) == (Status.PENDING, 1)  # first attempt ran on commit and failed
        assert row.last_status_code == 500 and row.next_attempt_at > timezone.now()

        assert tasks.sweep_outbox() == 0  # not due yet: the backoff is respected
        later = row.next_attempt_at
        assert forwarding.deliver(outbox_id=row.pk, at=later) == forwarding.backoff(2)
        row.refresh_from_db()
        assert (row.status, row.attempts) == (Status.PENDING, 2)
        assert row.next_attempt_at - later == forwarding.backoff(2) > forwarding.backoff(1)

        assert forwarding.deliver(outbox_id=row.pk, at=row.next_attempt_at) is None
        row.refresh_from_db()
        assert (row.status, row.attempts, row.last_status_code) == (Status.SENT, 3, 201)
        assert forwarding.deliver(outbox_id=row.pk, at=row.next_attempt_at + timedelta(hours=1)) is None

    assert len(server.requests) == 3
    keys = {r["headers"]["Idempotency-Key"] for r in server.requests}
    assert keys == {f"plaudit-ledger-{entry.pk}"}
    last = server.requests[-1]
    assert last["path"] == "/points/1700000001/add?type=activity"
    assert last["headers"]["Authorization"] == "Bearer remote-key"
    assert last["body"]["points"] == 15 and last["body"]["activity_id"] == 102
    assert last["body"]["description"] == "Booth A" and last["body"]["timestamp"]


def test_removals_are_forwarded_to_remove_with_positive_points(forwarding_on, participant):
    with PointSystemServer() as server:
        forwarding_on(server.url)
        ledger.award(member=participant, reason="x", points=20)
        ledger.spend(member=participant, points=8)
        for row in OutboxEntry.objects.order_by("pk"):
            forwarding.deliver(outbox_id=row.pk)
    assert [r["path"] for r in server.requests] == ["/points/1700000001/add?type=manual",
                                                    "/points/1700000001/remove"]
    assert server.requests[1]["body"]["points"] == 8
    assert set(OutboxEntry.objects.values_list("status", flat=True)) == {Status.SENT}


def test_members_without_an_external_id_are_skipped(forwarding_on, member):
    forwarding_on("http://127.0.0.1:9/")
    entry = ledger.award(member=member, reason="x", points=5)
    forwarding.deliver(outbox_id=OutboxEntry.objects.get(entry=entry).pk)
    assert OutboxEntry.objects.get(entry=entry).status == Status.SKIPPED


def test_a_row_is_claimed_by_one_worker_only(forwarding_on, participant):
    forwarding_on("http://127.0.0.1:9/")
    entry = ledger.award(member=participant, reason="x", points=5)
    row = OutboxEntry.objects.get(entry=entry)
    assert forwarding._claim(row.pk, timezone.now()) is not None
    assert forwarding._claim(row.pk, timezone.now()) is None


def test_gives_up_after_max_attempts_and_the_admin_can_retry(
    forwarding_on, participant, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(conf, "FORWARD_MAX_ATTEMPTS", 2)
    with PointSystemServer(failures=2) as server:
        forwarding_on(server.url)
        entry = ledger.award(member=participant, reason="x", points=5)
        row = OutboxEntry.objects.get(entry=entry)
        at = timezone.now()
        forwarding.deliver(outbox_id=row.pk, at=at)
        forwarding.deliver(outbox_id=row.pk, at=at + timedelta(days=1))
        row.refresh_from_db()
        assert row.status == Status.FAILED and "down" in row.last_error
        request = RequestFactory().post("/")
        request.user = admin_user
        admin = OutboxEntryAdmin(OutboxEntry, site)
        monkeypatch.setattr(admin, "message_user", lambda *a, **k: None)
        with django_capture_on_commit_callbacks(execute=True):
            admin.retry(request, OutboxEntry.objects.filter(pk=row.pk))
        row.refresh_from_db()
    assert row.status == Status.SENT and len(server.requests) == 3


def _outbox_log():
    """(object id, flag, message, user id) of the outbox's LogEntries, oldest first."""
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(OutboxEntry)).order_by("pk")
    return [(int(e.object_id), e.action_flag, e.change_message, e.user_id) for e in entries]


@pytest.fixture
def outbox_rows(forwarding_on, participant):
    """Four outbox rows: failed, pending, sending (a worker has it) and sent."""
    forwarding_on("http://127.0.0.1:9/")  # nothing is delivered: on-commit callbacks never run here
    rows = [OutboxEntry.objects.get(entry=ledger.award(member=participant, reason="x", points=5)) for _ in range(4)]
    for row, status in zip(rows, [Status.FAILED, Status.PENDING, Status.SENDING, Status.SENT], strict=True):
        OutboxEntry.objects.filter(pk=row.pk).update(status=status, attempts=3)
    return rows


def test_retry_logs_each_requeued_row_and_not_the_rest(outbox_rows, admin_user, client):
    client.force_login(admin_user)
    response = client.post("/admin/points_bridge/outboxentry/",
                           {"action": "retry", "_selected_action": [row.pk for row in outbox_rows]})
    assert response.status_code == 302
    failed, pending, sending, sent = outbox_rows
    message = "Queued for delivery again."
    assert _outbox_log() == [(failed.pk, CHANGE, message, admin_user.pk), (pending.pk, CHANGE, message, admin_user.pk)]
    assert LogEntry.objects.get(object_id=str(failed.pk)).object_repr == f"entry {failed.entry_id}: pending"
    statuses = [(row.status, row.attempts) for row in OutboxEntry.objects.order_by("pk")]
    assert statuses == [(Status.PENDING, 0), (Status.PENDING, 0), (Status.SENDING, 3), (Status.SENT, 3)]
    history = client.get(f"/admin/points_bridge/outboxentry/{failed.pk}/history/")
    assert history.status_code == 200 and message.encode() in history.content


def test_a_failing_log_entry_rolls_the_retry_back(outbox_rows, admin_user, client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("log table unavailable")

    monkeypatch.setattr(LogEntry.objects, "log_actions", broken)
    client.force_login(admin_user)
    with pytest.raises(RuntimeError):
        client.post("/admin/points_bridge/outboxentry/", {"action": "retry", "_selected_action": [outbox_rows[0].pk]})
    assert (OutboxEntry.objects.get(pk=outbox_rows[0].pk).status, _outbox_log()) == (Status.FAILED, [])


def test_an_unreachable_server_is_a_failure_not_a_crash(forwarding_on, participant):
    with PointSystemServer() as server:
        url = server.url
    forwarding_on(url)  # nothing listens there any more
    entry = ledger.award(member=participant, reason="x", points=5)
    row = OutboxEntry.objects.get(entry=entry)
    assert forwarding.deliver(outbox_id=row.pk) == forwarding.backoff(1)
    row.refresh_from_db()
    assert row.status == Status.PENDING and "ConnectError" in row.last_error


def test_the_sweep_hands_back_rows_a_dead_worker_left(forwarding_on, participant):
    with PointSystemServer() as server:
        forwarding_on(server.url)
        entry = ledger.award(member=participant, reason="x", points=5)
        row = OutboxEntry.objects.get(entry=entry)
        long_ago = timezone.now() - timedelta(hours=1)
        OutboxEntry.objects.filter(pk=row.pk).update(status=Status.SENDING, claimed_at=long_ago)
        assert tasks.sweep_outbox() == 1
    row.refresh_from_db()
    assert row.status == Status.SENT and len(server.requests) == 1
