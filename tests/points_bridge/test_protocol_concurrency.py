"""Blind retries racing each other on PostgreSQL: one entry, one participant, whatever the interleaving."""

import pytest

from engagement.models import LedgerEntry, Member
from points_bridge import point_system
from points_bridge.point_system import Change
from tests.concurrency import postgres_only, run_concurrently

pytestmark = [postgres_only, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 6


def test_concurrent_identical_adds_for_a_new_user_record_one_entry(settings):
    settings.POINT_SYSTEM_FORWARD_URL = ""
    change = Change(user_id=1999999999, operation="activity", points=10, description="Quiz", activity_id=77)
    results, errors = run_concurrently(lambda i: point_system.add_points(change=change).pk, threads=THREADS)
    assert errors == []
    assert len(set(results)) == 1
    assert LedgerEntry.objects.count() == 1
    assert Member.objects.get(external_id=1999999999).points == 10


def test_concurrent_removals_never_overdraw(settings):
    settings.POINT_SYSTEM_FORWARD_URL = ""
    point_system.add_points(change=Change(user_id=5, operation="manual", points=30))
    # Different descriptions: these are distinct requests, not retries, so de-duplication does not apply.
    results, errors = run_concurrently(
        lambda i: point_system.remove_points(change=Change(user_id=5, operation="remove", points=10,
                                                           description=f"coffee {i}")).pk,
        threads=THREADS,
    )
    assert len(results) == 3 and len(errors) == THREADS - 3
    assert all(getattr(e, "code", None) == "insufficient_points" for e in errors)
    assert Member.objects.get(external_id=5).points == 0
