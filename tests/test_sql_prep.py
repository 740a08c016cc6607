"""config.sql.prepared: the parameters of the hot paths' INSERTs are exactly what the ORM would send."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from config import sql
from config.models import OutboxTask
from engagement.models import Member
from points_bridge.models import Claim, ClaimTemplate
from rewards.models import Redemption, Reward


def orm_params(objs, names):
    fields = [type(objs[0])._meta.get_field(name) for name in names]
    return [f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in objs for f in fields]


def assert_same(fast, orm):
    # Same values of the same types (the integer adapters are wrapper types on PostgreSQL; Jsonb has no
    # equality of its own, so compare what it wraps).
    assert len(fast) == len(orm)
    for a, b in zip(fast, orm, strict=True):
        assert type(a) is type(b), (a, b)
        if hasattr(a, "obj"):
            assert a.obj == b.obj
        else:
            assert a == b, (a, b)


def names(model):
    return sql._insert_names(model)


@pytest.mark.django_db
def test_redemption_outbox_and_claim_parameters_match_the_orm(monkeypatch):
    from django.utils import timezone

    stamp = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: stamp)  # ``updated`` is auto_now: the same on both sides
    user = get_user_model().objects.create(username="prep")
    member = Member.objects.get_or_create(user=user)[0]
    reward = Reward.objects.create(name="R", type="merch_digital", cost_points=3, stock=None,
                                   metadata={"license_key": "K"})
    template = ClaimTemplate.objects.create(name="T", points=1, claim_limit=None)
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    redemptions = [
        Redemption(member=member, reward=reward, reward_type=reward.type, cost_points=3, cost_type="points",
                   status=Redemption.Status.APPROVED, decided_at=at, took_stock=True, spend_entry=None,
                   idempotency_key="k", created=at),
        Redemption(member=member, reward=reward, reward_type="merch_physical", cost_points=0,
                   status=Redemption.Status.PENDING, decided_at=None, took_stock=False, idempotency_key=None,
                   created=at + timedelta(seconds=1), decided_by=user, note="a note"),
    ]
    assert_same(sql.prepared(redemptions, names(Redemption)), orm_params(redemptions, names(Redemption)))
    tasks = [OutboxTask(task="t.a", kwargs={"redemption_id": 5}, created=at, due_at=at),
             OutboxTask(task="t.b", kwargs={}, created=at, due_at=at + timedelta(minutes=1), dispatches=2)]
    assert_same(sql.prepared(tasks, names(OutboxTask)), orm_params(tasks, names(OutboxTask)))
    claims = [Claim(template=template, member=member, entry=None, points=7, via=Claim.Via.SELF, actor=user,
                    created=at),
              Claim(template=template, member=member, entry=None, points=1, via="staff", actor=None, created=at)]
    assert_same(sql.prepared(claims, names(Claim)), orm_params(claims, names(Claim)))


@pytest.mark.django_db
def test_values_off_the_fast_path_go_through_the_field():
    # A bool for an integer, a number for text, a naive datetime: each as the field itself prepares it.
    at = datetime(2026, 1, 2, 3, 4, 5)  # noqa: DTZ001 - naive on purpose
    task = OutboxTask(task=123, kwargs={"x": [1, 2]}, created=at, due_at=datetime.now(UTC), dispatches=True,
                      attempts="4")
    with pytest.warns(RuntimeWarning):
        fast = sql.prepared([task], names(OutboxTask))
    with pytest.warns(RuntimeWarning):
        orm = orm_params([task], names(OutboxTask))
    assert_same(fast, orm)
