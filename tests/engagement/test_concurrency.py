"""Ledger invariants under real concurrency: PostgreSQL, real threads, committed transactions.

Each proof has a negative control that removes the guard and shows the race really happens with this
harness, so a passing proof means the guard works, not that the threads never overlapped.
"""

import threading

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection

from engagement import services
from engagement.errors import CapReached, InsufficientPoints
from engagement.models import EarningRule, LedgerEntry, Member
from tests.concurrency import postgres_only, run_concurrently

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]
THREADS = 8


def _unlocked_read_then_wait(barrier):
    """Replace lock_member with a plain read, and hold the first read of each racing request until all
    have read: the classic check-then-act race, made deterministic. Later reads (achievement unlocks
    that the eager Celery tasks award after commit) pass straight through."""
    held, count_lock = [0], threading.Lock()

    def read(member_id):
        member = Member.objects.get(pk=member_id)
        with count_lock:
            held[0] += 1
            wait = held[0] <= barrier.parties
        if wait:
            barrier.wait(timeout=30)
        return member

    return read


def _award_poll_vote(member_id):
    def run(i):
        return services.award(member=Member.objects.get(pk=member_id), reason="poll_vote")

    return run


def test_concurrent_awards_never_exceed_the_daily_cap(member):
    EarningRule.objects.filter(reason="poll_vote").update(daily_cap=3)
    results, errors = run_concurrently(_award_poll_vote(member.pk), threads=THREADS)
    assert len(results) == 3
    assert len(errors) == THREADS - 3 and all(isinstance(e, CapReached) for e in errors)
    assert LedgerEntry.objects.filter(member=member, reason="poll_vote").count() == 3
    call_command("verify_ledger", "--no-progress")


def test_negative_control_without_the_member_lock_the_cap_is_exceeded(member, monkeypatch):
    EarningRule.objects.filter(reason="poll_vote").update(daily_cap=3)
    monkeypatch.setattr(services, "lock_member", _unlocked_read_then_wait(threading.Barrier(THREADS)))
    results, errors = run_concurrently(_award_poll_vote(member.pk), threads=THREADS)
    assert LedgerEntry.objects.filter(member=member, reason="poll_vote").count() == THREADS > 3
    # With the lock gone, the eager achievement unlocks that run after each commit race too; only
    # their unique (member, achievement) index stops them. Nothing else may fail.
    assert all(isinstance(e, IntegrityError) and "achievement" in str(e) for e in errors)


def _counting_writes(monkeypatch):
    attempts = []
    original = services._write

    def write(**kwargs):
        attempts.append(kwargs["points"])
        return original(**kwargs)

    monkeypatch.setattr(services, "_write", write)
    return attempts


def _spend_60(member_id):
    def run(i):
        return services.spend(member=Member.objects.get(pk=member_id), points=60, reason="redeem")

    return run


def test_concurrent_spends_never_overdraw(member, monkeypatch):
    services.award(member=member, reason="manual", points=100)
    attempts = _counting_writes(monkeypatch)
    results, errors = run_concurrently(_spend_60(member.pk), threads=4)
    assert len(results) == 1
    assert len(errors) == 3 and all(isinstance(e, InsufficientPoints) for e in errors)
    assert attempts == [-60], "only one spend may get past the balance check"
    member.refresh_from_db()
    assert member.points == 40
    call_command("verify_ledger", "--no-progress")


def test_negative_control_without_lock_and_conditional_update_every_spend_passes_the_check(member, monkeypatch):
    services.award(member=member, reason="manual", points=100)
    attempts = _counting_writes(monkeypatch)
    monkeypatch.setattr(services, "lock_member", _unlocked_read_then_wait(threading.Barrier(4)))
    monkeypatch.setattr(services, "balance_guard", lambda points: False)
    results, errors = run_concurrently(_spend_60(member.pk), threads=4)
    # All four saw 100 points and went on to write: the race is real. Only the database's
    # points >= 0 check constraint, our last line of defence, stops three of them.
    assert attempts == [-60] * 4
    assert len(results) == 1
    assert len(errors) == 3 and all(isinstance(e, IntegrityError) for e in errors)
    member.refresh_from_db()
    assert member.points == 40


def _award_with_key(member_id):
    def run(i):
        return services.award(member=Member.objects.get(pk=member_id), reason="manual", points=10,
                              idempotency_key="retry-1")

    return run


def test_concurrent_replays_of_one_key_create_one_entry(member):
    results, errors = run_concurrently(_award_with_key(member.pk), threads=THREADS)
    assert errors == []
    assert len({entry.pk for entry in results}) == 1
    assert sum(not entry.replayed for entry in results) == 1
    assert LedgerEntry.objects.filter(idempotency_key="retry-1").count() == 1
    member.refresh_from_db()
    assert member.points == 10


def test_concurrent_replays_for_different_members_are_settled_by_the_unique_index(make_user):
    members = [services.member_for_user(make_user(f"m{i}")) for i in range(THREADS)]

    def run(i):
        return services.award(member=members[i], reason="manual", points=5, idempotency_key="shared-key")

    results, errors = run_concurrently(run, threads=THREADS)
    assert len(results) == 1, "one request wins the key; the rest are conflicts, not second entries"
    assert len(errors) == THREADS - 1
    assert LedgerEntry.objects.filter(idempotency_key="shared-key").count() == 1
    call_command("verify_ledger", "--no-progress")


def test_negative_control_an_exists_check_without_lock_or_constraint_double_counts(member, monkeypatch):
    monkeypatch.setattr(services, "lock_member", _unlocked_read_then_wait(threading.Barrier(THREADS)))
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE engagement_ledgerentry DROP CONSTRAINT engagement_ledger_unique_key")
    try:
        results, errors = run_concurrently(_award_with_key(member.pk), threads=THREADS)
        duplicates = LedgerEntry.objects.filter(idempotency_key="retry-1").count()
    finally:
        LedgerEntry.objects.all()._raw_delete(LedgerEntry.objects.db)
        Member.objects.update(points=0, xp=0, level=1)
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE engagement_ledgerentry ADD CONSTRAINT engagement_ledger_unique_key "
                           "UNIQUE (idempotency_key)")
    assert errors == []
    assert duplicates == THREADS > 1
