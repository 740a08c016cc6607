"""A redemption stays a fixed, small number of statements (issue 15), and what the hand-written
statements skip up front (the key lookup) is still answered: a replay refused for what its first
request did returns the first redemption."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.models import OutboxTask
from engagement.models import LedgerEntry, Member
from rewards import services
from rewards.models import Redemption

# Member lock + reward + key (one statement), INSERT entry and UPDATE balance (one on PostgreSQL, two on
# SQLite), conditional stock UPDATE, INSERT redemption, INSERT both outbox rows. BEGIN/COMMIT left out.
# Was 11 (plus two SAVEPOINTs) before issue 15. Then the rank histogram rows: the spend moves the
# member's balance to another bucket of the global board.
REDEEM_STATEMENTS = {"postgresql": 6, "sqlite": 7}


def _statements(call) -> tuple[object, list[str], int]:
    """(result, statements, savepoints). The test's own transaction turns redeem's outermost atomic
    block into one savepoint; anything more would be a nested block's."""
    with CaptureQueriesContext(connection) as queries:
        result = call()
    sent = [q["sql"] for q in queries.captured_queries]
    marks = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")
    return result, [s for s in sent if not s.startswith(marks)], sum(s.startswith("SAVEPOINT") for s in sent)


def test_a_limited_pending_redemption_is_a_fixed_number_of_statements(rich_member, tshirt):
    services.redeem(member=rich_member, reward_id=tshirt.pk, idempotency_key="warm-up")
    redemption, sent, savepoints = _statements(lambda: services.redeem(member=rich_member, reward_id=tshirt.pk,
                                                                       idempotency_key="k-1"))
    assert len(sent) == REDEEM_STATEMENTS[connection.vendor], "\n".join(sent)
    assert savepoints == 1, "spend() inside redeem takes no savepoint of its own"
    assert redemption.status == "pending" and redemption.took_stock and not redemption.replayed
    assert Redemption.objects.get(pk=redemption.pk).spend_entry_id == redemption.spend_entry_id
    tasks = OutboxTask.objects.filter(kwargs__redemption_id=redemption.pk).values_list("task", flat=True)
    assert sorted(tasks) == ["rewards.tasks.notify_admins_of_pending", "rewards.tasks.send_redemption_email"]


def test_the_inserted_redemption_reads_back_as_the_orm_wrote_it(rich_member, tshirt):
    redemption = services.redeem(member=rich_member, reward_id=tshirt.pk, idempotency_key="k-1")
    stored = Redemption.objects.get(pk=redemption.pk)
    for field in Redemption._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(redemption, field.attname), field.name
    assert stored.updated is not None and stored.created == redemption.created


def test_a_replay_refused_for_the_last_unit_its_first_request_took_returns_the_first(rich_member, make_reward):
    last_one = make_reward("merch_physical", cost_points=60, stock=1)
    first = services.redeem(member=rich_member, reward_id=last_one.pk, idempotency_key="k-1")
    again = services.redeem(member=rich_member, reward_id=last_one.pk, idempotency_key="k-1")
    assert again.pk == first.pk and again.replayed


def test_a_replay_refused_for_the_points_its_first_request_spent_returns_the_first(member, fund, tshirt):
    fund(member, 60)
    first = services.redeem(member=member, reward_id=tshirt.pk, idempotency_key="k-1")
    again = services.redeem(member=member, reward_id=tshirt.pk, idempotency_key="k-1")
    assert again.pk == first.pk and again.replayed
    assert Member.objects.get(pk=member.pk).points == 0
    assert LedgerEntry.objects.filter(reason="redeem").count() == 1


def test_an_unknown_member_is_refused_like_the_orm_lock(tshirt, db):
    with pytest.raises(Member.DoesNotExist):
        services.redeem(member=Member(pk=987654), reward_id=tshirt.pk)
