"""The transactional outbox (config/outbox.py): a committed change's side effects survive a broker outage.

The broker is taken away by making every publish fail as kombu does when Redis refuses the connection
(``broker_down``); tests/test_outage.py does the same with a real redis-server that is stopped.
"""

from datetime import timedelta

import pytest
from celery import shared_task
from celery.app.task import Task
from django.core import mail
from django.db import OperationalError as DatabaseOperationalError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu.exceptions import OperationalError

from config import outbox
from config.models import OutboxTask
from engagement import services
from engagement.models import LedgerEntry, MemberAchievement

LATER = timedelta(minutes=5)
attempts = {"flaky": 0}


@shared_task(name="tests.outbox.flaky")
def flaky(*, fail_times: int) -> None:
    attempts["flaky"] += 1
    if attempts["flaky"] <= fail_times:
        raise ConnectionError("the SMTP server hung up")


@pytest.fixture
def broker_down(monkeypatch):
    """Every publish fails as kombu's does with Redis gone; ``broker_down.undo()`` brings the broker back."""

    def refuse(self, *args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(Task, "apply_async", refuse)
    return monkeypatch


def first_comment_unlocks(member) -> int:
    return MemberAchievement.objects.filter(member=member, achievement__code="first_comment").count()


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_answers_normally_and_the_evaluation_runs_once_when_it_is_back(member, broker_down):
    entry = services.award(member=member, reason="comment_create")  # commits; the relay fails quietly

    assert LedgerEntry.objects.filter(pk=entry.pk).exists()
    row = OutboxTask.objects.get()
    assert (row.task, row.kwargs, row.done_at) == ("engagement.tasks.evaluate_achievements",
                                                   {"member_id": member.pk}, None)
    assert first_comment_unlocks(member) == 0

    broker_down.undo()
    assert outbox.sweep(at=timezone.now() + LATER) == 1  # eager here: the worker's side runs at once
    assert first_comment_unlocks(member) == 1
    assert [m.subject for m in mail.outbox] == ["Achievement unlocked: First comment"]
    assert not OutboxTask.objects.filter(done_at__isnull=True).exists()

    # Delivered again (a duplicate message, a second sweep): applied once all the same.
    assert outbox.run(outbox_id=row.pk) is False
    assert outbox.sweep(at=timezone.now() + LATER * 100) == 0
    assert first_comment_unlocks(member) == 1 and len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_negative_control_without_the_outbox_the_write_fails_after_commit_and_the_evaluation_is_lost(
        member, broker_down):
    # What every service did before: publish straight from the on-commit hook.
    broker_down.setattr(outbox, "enqueue", lambda task, **kwargs: task.delay_on_commit(**kwargs))

    with pytest.raises(OperationalError):
        services.award(member=member, reason="comment_create", idempotency_key="comment-1")
    assert LedgerEntry.objects.filter(member=member).count() == 1  # committed, yet the caller got an error

    broker_down.undo()
    replay = services.award(member=member, reason="comment_create", idempotency_key="comment-1")
    assert replay.replayed  # the client's retry is a replay and enqueues nothing
    outbox.sweep(at=timezone.now() + LATER)
    assert first_comment_unlocks(member) == 0 and mail.outbox == []  # lost for good


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_leaves_no_task_behind(member):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.award(member=member, reason="comment_create")
        raise RuntimeError("the request failed after the award")
    assert not OutboxTask.objects.exists() and not LedgerEntry.objects.exists()
    assert first_comment_unlocks(member) == 0


@pytest.mark.django_db(transaction=True)
def test_a_failing_task_is_recorded_backs_off_and_runs_again_until_it_succeeds():
    attempts["flaky"] = 0
    with transaction.atomic():
        row = outbox.enqueue(flaky, fail_times=2)  # the relay on commit runs it (eagerly): attempt 1 fails

    row.refresh_from_db()
    assert (row.attempts, row.done_at) == (1, None)
    assert "ConnectionError: the SMTP server hung up" in row.last_error
    first_due = row.due_at
    assert first_due > timezone.now() + timedelta(seconds=60)  # backing off, not hammering

    assert outbox.sweep(at=first_due) == 1  # attempt 2 fails too and backs off further
    row.refresh_from_db()
    assert row.attempts == 2 and row.done_at is None and row.due_at > first_due

    assert outbox.sweep(at=row.due_at) == 1  # attempt 3 succeeds
    row.refresh_from_db()
    assert row.done_at is not None and attempts["flaky"] == 3


@pytest.mark.django_db(transaction=True)
def test_the_sweep_stops_at_the_first_refusal_and_doubles_each_sent_rows_wait(broker_down, monkeypatch):
    with transaction.atomic():
        rows = [outbox.enqueue(flaky, fail_times=0) for _ in range(3)]
    due = {row.pk: row.due_at for row in OutboxTask.objects.all()}
    now = timezone.now() + LATER
    assert outbox.sweep(at=now) == 0
    assert {row.pk: row.due_at for row in OutboxTask.objects.filter(dispatches=0)} == due  # untouched

    broker_down.undo()
    sent = []
    monkeypatch.setattr(outbox, "relay", lambda pk: sent.append(pk) or True)  # a broker that loses them all
    assert outbox.sweep(at=now) == 3 and sent == [row.pk for row in rows]
    assert set(OutboxTask.objects.values_list("dispatches", "due_at")) == {(1, now + timedelta(seconds=120))}
    for times in range(2, 6):
        outbox.sweep(at=now + timedelta(hours=times))
    waits = {row.due_at - now - timedelta(hours=5) for row in OutboxTask.objects.all()}
    assert waits == {timedelta(seconds=480)}  # doubling stops at 8 × OUTBOX_RESEND_SECONDS


@pytest.mark.django_db(transaction=True)
def test_finished_rows_are_forgotten_after_the_keep_period(settings):
    settings.OUTBOX_KEEP_DAYS = 7
    with transaction.atomic():
        outbox.enqueue(flaky, fail_times=0)
    assert OutboxTask.objects.filter(done_at__isnull=False).count() == 1
    outbox.sweep(at=timezone.now() + timedelta(days=6))
    assert OutboxTask.objects.count() == 1
    outbox.sweep(at=timezone.now() + timedelta(days=8))
    assert OutboxTask.objects.count() == 0


@shared_task(name="tests.outbox.mail", outbox_effect_outside_database=True)
def mail_once(*, to: str) -> None:
    mail.send_mail("Hello", "body", None, [to])


@shared_task(name="tests.outbox.write")
def write_entry(*, member_id: int) -> None:
    services.award(member=services.Member.objects.get(pk=member_id), reason="test_fund", points=1)


@pytest.fixture
def database_lost_at_the_first_done_mark(monkeypatch):
    real, calls = outbox._mark_done, []

    def lost_once(outbox_id):
        calls.append(outbox_id)
        if len(calls) == 1:
            raise DatabaseOperationalError("terminating connection due to administrator command")
        real(outbox_id)

    monkeypatch.setattr(outbox, "_mark_done", lost_once)
    monkeypatch.setattr(outbox.time, "sleep", lambda seconds: None)
    return calls


@pytest.mark.django_db(transaction=True)
def test_an_email_sent_before_the_database_was_lost_is_recorded_not_sent_again(database_lost_at_the_first_done_mark):
    with transaction.atomic():
        row = outbox.enqueue(mail_once, to="ann@example.org")  # runs on commit; the done mark fails once
    row.refresh_from_db()
    assert row.done_at is not None and row.attempts == 0
    assert outbox.sweep(at=timezone.now() + LATER * 100) == 0
    assert [m.to for m in mail.outbox] == [["ann@example.org"]]


@pytest.mark.django_db(transaction=True)
def test_a_database_only_task_whose_commit_was_lost_runs_again(member, database_lost_at_the_first_done_mark):
    # Control: its writes rolled back with the lost transaction, so marking it done would lose them.
    with transaction.atomic():
        row = outbox.enqueue(write_entry, member_id=member.pk)
    row.refresh_from_db()
    assert row.done_at is None and row.attempts == 1
    assert not LedgerEntry.objects.filter(reason="test_fund").exists()
    outbox.sweep(at=row.due_at)
    assert LedgerEntry.objects.filter(reason="test_fund").count() == 1


@pytest.mark.django_db
def test_several_tasks_of_one_change_are_one_insert_and_one_message(django_capture_on_commit_callbacks, monkeypatch):
    from config import tasks

    sent = []
    monkeypatch.setattr(tasks.run_outbox_tasks, "apply_async", lambda kwargs: sent.append(kwargs))
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        rows = outbox.enqueue_many((flaky, {"fail_times": 0}), (flaky, {"fail_times": 1}))
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert sent == [{"outbox_ids": [row.pk for row in rows]}]
    stored = OutboxTask.objects.filter(pk__in=sent[0]["outbox_ids"]).order_by("pk")
    assert [(r.task, r.kwargs, r.done_at, r.dispatches) for r in stored] == [
        (flaky.name, {"fail_times": 0}, None, 0), (flaky.name, {"fail_times": 1}, None, 0)]


@pytest.mark.django_db
def test_the_batch_runs_every_row_once_even_if_one_fails(django_capture_on_commit_callbacks):
    attempts["flaky"] = 0
    with django_capture_on_commit_callbacks(execute=True):  # eager Celery: the batch runs at commit
        ok, failing = outbox.enqueue_many((flaky, {"fail_times": 0}), (flaky, {"fail_times": 10}))
    ok.refresh_from_db()
    failing.refresh_from_db()
    assert ok.done_at is not None and ok.attempts == 0
    assert failing.done_at is None and failing.attempts == 1  # left to the sweep, with its error
    assert outbox.run(outbox_id=ok.pk) is False  # done rows are never run again


# --- The relay thread (a real broker: rows of several requests share one message) ---------------------


@pytest.fixture
def real_broker(monkeypatch, settings):
    """Celery as with Redis (not eager), publishes recorded; the relay's own thread does them."""
    import threading

    from celery import current_app

    from config import tasks

    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = False
    settings.OUTBOX_RELAY_LINGER_MS = 20
    sent, published = [], threading.Event()

    def record(kind):
        def apply_async(kwargs):
            sent.append((kind, kwargs, threading.current_thread().name))
            published.set()
        return apply_async

    monkeypatch.setattr(tasks.run_outbox_task, "apply_async", record("one"))
    monkeypatch.setattr(tasks.run_outbox_tasks, "apply_async", record("many"))
    relay = outbox._Relay()
    monkeypatch.setattr(outbox, "_relay_thread", relay)
    yield sent, published, relay
    current_app.conf.task_always_eager = eager


@pytest.mark.django_db
def test_with_a_real_broker_the_request_does_not_publish_the_relay_thread_does(django_capture_on_commit_callbacks,
                                                                                real_broker):
    sent, published, _ = real_broker
    with django_capture_on_commit_callbacks(execute=True):
        row = outbox.enqueue(flaky, fail_times=0)
    assert published.wait(timeout=30), "the relay thread never published"
    assert sent == [("one", {"outbox_id": row.pk}, "outbox-relay")]


def test_rows_of_several_commits_that_wait_together_go_as_one_message(real_broker):
    sent, _, relay = real_broker
    relay._pid = outbox.os.getpid()  # as if its thread ran; nothing is published until flush
    relay._ids = [11, 12]
    relay._ids += [13]
    relay.flush()
    assert [(kind, kwargs) for kind, kwargs, _ in sent] == [("many", {"outbox_ids": [11, 12, 13]})]
    relay.flush()
    assert len(sent) == 1, "nothing left to publish"


def test_a_large_backlog_is_split_into_messages_of_at_most_relay_batch_rows(real_broker):
    sent, _, relay = real_broker
    relay._pid, relay._ids = outbox.os.getpid(), list(range(1, outbox.RELAY_BATCH * 2 + 2))
    relay.flush()
    assert [len(kwargs.get("outbox_ids", [0])) for _, kwargs, _ in sent] == [outbox.RELAY_BATCH, outbox.RELAY_BATCH, 1]


def test_a_broker_error_in_the_relay_thread_leaves_the_rows_to_the_sweep_and_the_thread_alive(real_broker,
                                                                                              monkeypatch, caplog):
    from config import tasks

    sent, published, relay = real_broker

    def refuse(kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.run_outbox_task, "apply_async", refuse)
    relay.submit([21])
    for _ in range(3000):  # the thread takes the id, fails quietly (warn_now_and_then), and waits again
        if not relay._ids and not relay._wake.is_set():
            break
        outbox.time.sleep(0.01)
    assert relay._thread.is_alive()
    monkeypatch.setattr(tasks.run_outbox_task, "apply_async", lambda kwargs: sent.append(kwargs) or published.set())
    relay.submit([22])
    assert published.wait(timeout=30)
    assert sent == [{"outbox_id": 22}]


def test_once_the_broker_refuses_a_backlog_the_rest_is_left_to_the_sweep_not_tried_message_by_message(
        real_broker, monkeypatch):
    from config import tasks

    tried = []

    def refuse(kwargs):
        tried.append(kwargs)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.run_outbox_tasks, "apply_async", refuse)
    _, _, relay = real_broker
    relay._pid, relay._ids = outbox.os.getpid(), list(range(1, outbox.RELAY_BATCH * 3 + 1))
    relay.flush()
    assert len(tried) == 1 and relay._ids == []
