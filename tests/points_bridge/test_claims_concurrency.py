"""Invariant 5 on PostgreSQL: a template's limits hold under concurrent claims (real threads, real
commits), with a negative control proving the harness does catch the race without the row lock."""

import threading

import pytest
from django.contrib.auth import get_user_model

from engagement.services import member_for_user
from points_bridge import services
from points_bridge.errors import ClaimError
from points_bridge.models import Claim, ClaimTemplate
from tests.concurrency import postgres_only, run_concurrently

pytestmark = [postgres_only, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 8


def make_members(n: int):
    User = get_user_model()
    return [member_for_user(User.objects.create_user(username=f"racer{i}", password="x")) for i in range(n)]


def claim_from(members, code):
    def attempt(i: int):
        return services.claim(member=members[i], code=code).pk

    return attempt


def test_overall_limit_holds_under_concurrent_claims():
    template = ClaimTemplate.objects.create(name="First three", points=5, claim_limit=3,
                                            limit_mode=ClaimTemplate.LimitMode.OVERALL)
    members = make_members(THREADS)
    results, errors = run_concurrently(claim_from(members, services.issue_claim_token(template=template)),
                                       threads=THREADS)
    assert len(results) == 3
    assert len(errors) == THREADS - 3 and all(getattr(e, "code", None) == "claim_limit_reached" for e in errors)
    assert Claim.objects.filter(template=template).count() == 3


def test_per_member_limit_holds_when_one_member_races_themselves():
    template = ClaimTemplate.objects.create(name="Once each", points=5, claim_limit=1)
    member = make_members(1)[0]
    results, errors = run_concurrently(claim_from([member] * THREADS, services.issue_claim_token(template=template)),
                                       threads=THREADS)
    assert len(results) == 1 and len(errors) == THREADS - 1
    member.refresh_from_db()
    assert member.points == 5


def test_negative_control_without_the_lock_the_limit_is_exceeded(monkeypatch):
    """Same race with the row lock removed: every thread counts before anybody inserts (a barrier makes
    the interleaving certain instead of lucky), so all of them pass the check."""
    template = ClaimTemplate.objects.create(name="First three", points=5, claim_limit=3,
                                            limit_mode=ClaimTemplate.LimitMode.OVERALL)
    members = make_members(THREADS)
    all_counted = threading.Barrier(THREADS)
    counted = services.claims_counted

    def unlocked(template_id):
        return ClaimTemplate.objects.get(pk=template_id)

    def count_then_wait(**kwargs):
        n = counted(**kwargs)
        all_counted.wait(30)
        return n

    monkeypatch.setattr(services, "_lock_template", unlocked)
    monkeypatch.setattr(services, "claims_counted", count_then_wait)
    results, errors = run_concurrently(claim_from(members, services.issue_claim_token(template=template)),
                                       threads=THREADS)
    assert not [e for e in errors if not isinstance(e, ClaimError)]
    assert Claim.objects.filter(template=template).count() > 3
