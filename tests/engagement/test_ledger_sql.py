"""The ledger's hand-written statements read and write exactly what the ORM would, on both databases,
and an award stays a fixed, small number of statements."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from engagement import achievements, ledger_sql, services
from engagement.models import Activity, Campaign, EarningRule, LedgerEntry, Member

pytestmark = pytest.mark.django_db


def test_the_locked_member_has_every_field_the_orm_reads(member):
    Member.objects.filter(pk=member.pk).update(
        username="Ada", points=7, xp=350, level=3, avatar_upload_unlocked=True, show_on_leaderboard=False,
        external_id=99, avatar_url="https://cdn.example.org/a.png",
    )
    locked = ledger_sql.lock_member(member.pk)
    orm = Member.objects.get(pk=member.pk)
    assert model_to_dict(locked) == model_to_dict(orm)
    assert (locked.pk, locked.created) == (orm.pk, orm.created)  # not editable, so not in model_to_dict
    assert locked.avatar_upload_unlocked is True and locked.show_on_leaderboard is False  # bools, not 1/0
    assert locked.created.tzinfo is not None
    assert not locked._state.adding


def test_locking_an_unknown_member_raises_does_not_exist():
    with pytest.raises(Member.DoesNotExist):
        ledger_sql.lock_member(10**9)


def test_the_active_rule_has_its_caps_and_loads_the_rest_on_access():
    EarningRule.objects.filter(reason="poll_vote").update(daily_cap=4, lifetime_cap=None, description="Votes")
    rule = ledger_sql.active_rule("poll_vote")
    orm = EarningRule.objects.get(reason="poll_vote")
    assert (rule.pk, rule.reason, rule.points, rule.xp, rule.daily_cap, rule.lifetime_cap) == (
        orm.pk, "poll_vote", orm.points, orm.xp, 4, None)
    assert rule.description == "Votes"
    EarningRule.objects.filter(reason="poll_vote").update(active=False)
    assert ledger_sql.active_rule("poll_vote") is None
    assert ledger_sql.active_rule("no-such-reason") is None


def test_the_campaign_probe_sees_only_active_campaigns_running_at_that_moment():
    start = datetime(2026, 6, 1, 8, tzinfo=UTC)
    campaign = Campaign.objects.create(name="June", starts_at=start, ends_at=start + timedelta(days=1),
                                       reasons=["manual"], points_multiplier=Decimal("2"))
    assert ledger_sql.any_campaign_running(start)
    assert ledger_sql.any_campaign_running(start + timedelta(hours=23, minutes=59))
    assert not ledger_sql.any_campaign_running(start - timedelta(seconds=1))
    assert not ledger_sql.any_campaign_running(start + timedelta(days=1))  # ends_at is exclusive
    Campaign.objects.filter(pk=campaign.pk).update(active=False)
    assert not ledger_sql.any_campaign_running(start)


def test_the_combined_rule_and_campaign_read_answers_as_the_two_reads_do():
    start = datetime(2026, 6, 1, 8, tzinfo=UTC)
    Campaign.objects.create(name="June", starts_at=start, ends_at=start + timedelta(days=1), reasons=["manual"],
                            points_multiplier=Decimal("2"))
    for reason in ("poll_vote", "no-such-reason"):
        for at in (start, start - timedelta(seconds=1)):
            rule, running = ledger_sql.rule_and_campaign(reason, at)
            alone = ledger_sql.active_rule(reason)
            assert (rule and model_to_dict(rule)) == (alone and model_to_dict(alone))
            assert running is ledger_sql.any_campaign_running(at)
    assert ledger_sql.rule_and_campaign("poll_vote", start)[0].daily_cap == 1


def test_an_award_during_a_campaign_is_boosted_from_the_combined_probe(member):
    start = datetime(2026, 6, 1, 8, tzinfo=UTC)
    Campaign.objects.create(name="June", starts_at=start, ends_at=start + timedelta(days=1), reasons=["manual"],
                            points_multiplier=Decimal("2"))
    assert services.award(member=member, reason="manual", points=5, at=start).points == 10
    assert services.award(member=member, reason="manual", points=5, at=start - timedelta(hours=1)).points == 5


def test_writing_an_entry_moves_the_balance_in_the_same_call_and_a_taken_key_writes_nothing(member):
    now = datetime.now(UTC)
    entry = LedgerEntry(member=member, points=7, xp=2, reason="manual", idempotency_key="w-1", created=now)
    assert ledger_sql.write_entry(entry, level=1, guarded=False) == (True, True)
    again = LedgerEntry(member=member, points=7, xp=2, reason="manual", idempotency_key="w-1", created=now)
    assert ledger_sql.write_entry(again, level=1, guarded=False) == (False, False)
    assert again.pk is None
    member.refresh_from_db()
    assert (member.points, member.xp) == (7, 2)
    assert list(LedgerEntry.objects.values_list("pk", flat=True)) == [entry.pk]


def test_writing_an_overdrawing_entry_reports_the_refused_move(member):
    entry = LedgerEntry(member=member, points=-1, xp=0, reason="spend", created=datetime.now(UTC))
    assert ledger_sql.write_entry(entry, level=1, guarded=True) == (True, False)
    member.refresh_from_db()
    assert member.points == 0  # the service raises and its transaction drops the entry


def test_a_replay_refused_for_what_its_first_request_spent_returns_the_first_entry(member):
    services.award(member=member, reason="manual", points=10)
    first = services.spend(member=member, points=10, idempotency_key="s-1")
    again = services.spend(member=member, points=10, idempotency_key="s-1")
    assert again.pk == first.pk and again.replayed
    member.refresh_from_db()
    assert member.points == 0


def test_an_inserted_entry_reads_back_through_the_orm_unchanged(member, admin_user):
    activity = Activity.objects.create(name="Booth", slug="booth")
    at = datetime(2026, 3, 29, 0, 30, 15, 123456, tzinfo=UTC)  # the night Prague moves its clocks
    entry = LedgerEntry(member=member, points=12, xp=3, reason="manual", activity=activity, actor=admin_user,
                        meta={"note": "Příliš žluťoučký kůň", "n": [1, 2]}, idempotency_key="sql:1",
                        request_hash="h" * 64, created=at)
    assert ledger_sql.insert_entry(entry)
    assert entry.pk is not None and not entry._state.adding
    stored = LedgerEntry.objects.get(pk=entry.pk)
    assert model_to_dict(stored) == model_to_dict(entry)
    assert stored.created == at


def test_an_insert_with_a_taken_key_writes_nothing_and_says_so(member):
    first = LedgerEntry(member=member, points=1, xp=1, reason="manual", idempotency_key="taken",
                        created=datetime.now(UTC))
    second = LedgerEntry(member=member, points=5, xp=5, reason="manual", idempotency_key="taken",
                         created=datetime.now(UTC))
    assert ledger_sql.insert_entry(first)
    assert not ledger_sql.insert_entry(second)
    assert second.pk is None
    assert list(LedgerEntry.objects.values_list("points", flat=True)) == [1]
    assert ledger_sql.entry_for_key("taken") == (first.pk, first.request_hash)
    assert ledger_sql.entry_for_key("never-used") is None


def test_a_guarded_balance_move_refuses_to_overdraw_and_writes_nothing(member):
    services.award(member=member, reason="manual", points=50)
    assert not ledger_sql.move_balance(member_id=member.pk, points=-51, xp=0, level=1, guarded=True)
    assert ledger_sql.move_balance(member_id=member.pk, points=-50, xp=0, level=1, guarded=True)
    member.refresh_from_db()
    assert member.points == 0


def test_award_counts_split_a_day_in_the_project_time_zone(member):
    # 23:30 UTC on 1 July is already 2 July in Prague (UTC+2).
    for at in (datetime(2026, 7, 1, 21, 59, tzinfo=UTC), datetime(2026, 7, 1, 23, 30, tzinfo=UTC),
               datetime(2026, 7, 2, 10, 0, tzinfo=UTC)):
        services.award(member=member, reason="manual", points=1, at=at)
    day = services.day_bounds(datetime(2026, 7, 2, 12, tzinfo=UTC))
    assert ledger_sql.count_awards(member_id=member.pk, reason="manual", day=day, lifetime=True) == (3, 2)
    assert ledger_sql.count_awards(member_id=member.pk, reason="manual", day=day, lifetime=False) == (0, 2)
    assert ledger_sql.count_awards(member_id=member.pk, reason="other", day=day, lifetime=True) == (0, 0)


# Rule and campaign probe (one statement), member lock, streak row read, INSERT entry and UPDATE
# balances (one statement on PostgreSQL, two on SQLite), leaderboard totals upsert; a rule with caps adds
# its one count. No key lookup: the INSERT's unique index answers replays. (BEGIN/COMMIT are left out:
# psycopg sends them itself.) The first award of a day also writes the streak (engagement/streaks.py).
# Then the rank histogram rows, sent only when a value changes bucket (always for these small values):
# on PostgreSQL by the totals upsert's own statement (histogram.with_moves), on SQLite as an INSERT of
# their own. Was 7 before issue 15, then 6 on PostgreSQL with the histogram's own INSERT, then 5. Now
# 4 (6 on SQLite): the member lock comes first and the rule, the campaign probe and the streak row are
# one statement after it (ledger_sql.rule_campaign_and_streak).
AWARD_STATEMENTS_BY_VENDOR = {"postgresql": 4, "sqlite": 6}


def _award_statements(member, key: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        services.award(member=member, reason="counted", idempotency_key=key)
    return [q["sql"] for q in queries.captured_queries
            if not q["sql"].startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]


def test_an_award_with_a_key_is_a_fixed_number_of_statements(member):
    EarningRule.objects.create(reason="counted", points=1, xp=1)
    services.award(member=member, reason="counted", idempotency_key="warm-up")
    achievements.triggers()  # cached per process for 30 s
    expected = AWARD_STATEMENTS_BY_VENDOR[connection.vendor]
    sent = _award_statements(member, "plain")
    assert len(sent) == expected, "\n".join(sent)
    EarningRule.objects.filter(reason="counted").update(daily_cap=10, lifetime_cap=100)
    sent = _award_statements(member, "capped")
    assert len(sent) == expected + 1, "\n".join(sent)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_the_hot_statements_are_prepared_on_postgresql(member):
    for i in range(8):
        services.award(member=member, reason="manual", points=1, idempotency_key=f"prep:{i}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = " ".join(row[0] for row in cursor.fetchall())
    assert 'INSERT INTO "engagement_ledgerentry"' in prepared
    assert 'UPDATE "engagement_member"' in prepared
    assert "FOR NO KEY UPDATE" in prepared


def test_an_unsaved_activity_is_refused_as_model_save_would(member):
    with pytest.raises(ValueError, match="saved activity"):
        services.award(member=member, reason="manual", points=5, activity=Activity(name="Draft", slug="draft"))
    assert not LedgerEntry.objects.exists()
