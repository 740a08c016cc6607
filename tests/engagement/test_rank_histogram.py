"""The rank histogram (engagement.leaderboards.histogram): own ranks without Redis, exact.

Property-style: random awards, spends, refunds, negative adjustments, opt-outs, bans and
compactions, after which every board's histogram count of "members above v" must equal the naive
index COUNT for many v (members' own values and bucket edges), and every viewer's rank the rank
computed in Python from the rows. Then the same under real concurrent awards on PostgreSQL, with a
negative control.
"""

import datetime as dt
import random
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from engagement import moderation, services
from engagement.leaderboards import METRICS, WINDOWS, _Spec, histogram, index, leaderboard, totals
from engagement.leaderboards.sql import SqlSource
from engagement.models import Activity, LeaderboardBucket, LeaderboardTotal, Member
from tests.concurrency import postgres_only, run_concurrently
from tests.engagement.test_concurrency import _unlocked_read_then_wait

NOW = timezone.make_aware(dt.datetime(2026, 4, 15, 12, 0))


def test_buckets_are_exact_below_256_and_narrow_above():
    rng = random.Random(7)
    values = [*range(1, 600), *(rng.randint(1, 10**12) for _ in range(3000)), 2**62 + 5, 2**63 - 1]
    for v in values:
        low, end = histogram.bucket_of(v), histogram.bucket_end(v)
        assert low <= v < end
        assert histogram.bucket_of(end) == end  # the next bucket starts where this one ends
        assert histogram.bucket_of(end - 1) == low
        if v < 256:
            assert (low, end) == (v, v + 1)
        else:
            assert (end - low) * 128 <= v  # at most 1/128 of the value wide


@pytest.mark.django_db
def test_the_sql_bucket_expression_equals_the_python_one():
    rng = random.Random(3)
    values = [*range(1, 300, 7), *(rng.randint(256, 10**15) for _ in range(200)), 2**62 + 5, 2**63 - 1]
    with connection.cursor() as cursor:
        for v in values:
            cursor.execute(f"SELECT {histogram.bucket_sql('v')} FROM (SELECT %s AS v) t", [v])
            assert cursor.fetchone()[0] == histogram.bucket_of(v), v


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the award statement's short form is PostgreSQL's")
def test_the_short_postgresql_bucket_expression_equals_the_python_one():
    rng = random.Random(4)
    edges = [v + d for bits in range(1, 63) for v in (1 << bits,) for d in (-1, 0, 1)]
    values = [*range(1, 600), *edges, *(rng.randint(256, 2**62) for _ in range(500)), 2**63 - 1]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT v, {histogram.bucket_sql_postgresql('v')} FROM unnest(%s::bigint[]) v", [values])
        assert dict(cursor.fetchall()) == {v: histogram.bucket_of(v) for v in values}
    assert len(histogram.with_moves("SELECT 1")) < 2048  # short enough for psycopg's conversion cache


# --- Exactness on random histories ---------------------------------------------------------------------


def board_specs(activity, at=NOW):
    for metric in METRICS:
        for window in WINDOWS:
            for scope in (None, activity):
                yield _Spec(metric=metric, activity=scope, window=window, at=at)


def source_for(spec):
    return SqlSource(scope=spec.scope, period=spec.period, start=spec.start, base=spec.base)


def naive_rank(spec, listed_values: dict[int, int], mine: int) -> int:
    return 1 + sum(1 for v in listed_values.values() if spec.value(v) > spec.value(mine))


def listed_values(spec) -> dict[int, int]:
    if spec.is_global:
        rows = Member.objects.filter(show_on_leaderboard=True, banned=False).values_list("id", spec.base)
    else:
        rows = LeaderboardTotal.objects.filter(scope=spec.scope, period=spec.period, start=spec.start,
                                               member__show_on_leaderboard=True, member__banned=False) \
            .values_list("member_id", spec.base)
    return {m: v for m, v in rows if v > 0}


def assert_exact(activity, members, at=NOW):
    assert histogram.mismatches() == []
    assert totals.listed_mismatches() == []
    assert not LeaderboardBucket.objects.filter(period="d").exists()  # day boards rank by their index COUNT
    checked = 0
    for spec in board_specs(activity, at):
        source = source_for(spec)
        values = listed_values(spec)
        probes = {0, 1, 255, 256, 257, 300, 1000}
        for v in values.values():
            probes |= {v, v - 1, histogram.bucket_of(v), histogram.bucket_end(v) - 1}
        for v in sorted(p for p in probes if p >= 0):
            assert source.count_above(v) == source.count_above_by_index(v), (spec.__dict__, v)
            checked += 1
        for member in members:
            member.refresh_from_db()
            board = leaderboard(metric=spec.metric, activity=None if spec.scope == 0 else activity,
                                window="all" if spec.is_global else {"a": "all", "d": "day", "w": "week",
                                                                     "m": "month"}[spec.period],
                                viewer=member, at=at, use_redis=False, limit=0)
            if member.pk in values:
                assert board.me.rank == naive_rank(spec, values, values[member.pk]), (spec.__dict__, member.pk)
            else:
                assert board.me is None
    return checked


def random_history(rng, members, activity, steps: int) -> None:
    for _ in range(steps):
        member = rng.choice(members)
        member.refresh_from_db()
        roll = rng.random() if not member.banned else 0.95  # a banned member earns nothing: unban them
        at = NOW - dt.timedelta(days=rng.choice([0, 0, 1, 2, 9, 40]))
        scope = rng.choice([None, activity])
        if roll < 0.6:
            # Small amounts (the exact range) and large ones (crossing into the geometric buckets).
            points = rng.choice([1, 2, 5, 5, 10, 40, 120, 300, 2000])
            services.award(member=member, reason="test_award", points=points, xp=rng.choice([0, points]),
                           activity=scope, at=at)
        elif roll < 0.7 and member.points >= 5:
            entry = services.spend(member=member, points=min(member.points, rng.choice([5, 50, 500])),
                                   reason="redeem", at=NOW)
            if rng.random() < 0.5:
                services.refund(member=member, points=-entry.points, reason="redeem_refund", at=NOW)
        elif roll < 0.85:
            # Admin corrections count on scoped boards and may be negative there (refunds of points).
            delta = rng.choice([-3, -40, 7]) if member.points >= 40 else 7
            services.adjust(member=member, delta=delta, actor=None, activity=scope, at=at)
        elif roll < 0.92:
            index.set_visibility(member=member, visible=not member.show_on_leaderboard)
        elif roll < 0.97:
            # Through moderation, as every ban is: it copies the flag onto the member's board totals.
            if member.banned:
                moderation.unban_member(member=member, actor=None)
            else:
                moderation.ban_member(member=member, reason="test", actor=None)
        else:
            histogram.compact()


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2])
def test_histogram_ranks_equal_the_naive_count_on_random_histories(make_user, seed):
    rng = random.Random(seed)
    activity = Activity.objects.create(name="Booth", slug="booth")
    members = [services.member_for_user(make_user(f"h{seed}-{i}")) for i in range(14)]
    random_history(rng, members, activity, steps=120)
    checked = assert_exact(activity, members)
    histogram.compact()
    assert not LeaderboardBucket.objects.filter(members=0).exists()
    assert assert_exact(activity, members) == checked
    assert checked > 300


@pytest.mark.django_db
def test_members_inside_one_wide_bucket_are_counted_by_value(make_user):
    # 1000–1003 share one bucket (4 wide there): the in-bucket count must tell them apart.
    members = [services.member_for_user(make_user(f"w{i}")) for i in range(5)]
    for member, points in zip(members, (1003, 1001, 1001, 1000, 1004), strict=True):
        services.award(member=member, reason="test_award", points=points, xp=points, at=NOW)
    assert histogram.bucket_of(1000) == histogram.bucket_of(1003) != histogram.bucket_of(1004)
    ranks = [leaderboard(viewer=m, use_redis=False).me.rank for m in members]
    assert ranks == [2, 3, 3, 5, 1]
    source = source_for(_Spec(metric="points", activity=None, window="all", at=NOW))
    assert [source.count_above(v) for v in range(999, 1005)] == [5, 4, 2, 2, 1, 0]


@pytest.mark.django_db
def test_compaction_keeps_every_count_and_leaves_one_row_per_bucket(make_user):
    members = [services.member_for_user(make_user(f"c{i}")) for i in range(5)]
    for i in range(30):
        services.award(member=members[i % 5], reason="test_award", points=1 + i % 3, xp=1, at=NOW)
    before = {spec: [source_for(spec).count_above(v) for v in range(0, 40)] for spec in
              (_Spec(metric="points", activity=None, window=w, at=NOW) for w in WINDOWS)}
    rows = LeaderboardBucket.objects.count()
    removed = histogram.compact()
    assert removed > 0 and LeaderboardBucket.objects.count() == rows - removed
    assert {spec: [source_for(spec).count_above(v) for v in range(0, 40)] for spec in before} == before
    keys = LeaderboardBucket.objects.values_list("scope", "period", "start", "base", "bucket")
    assert len(set(keys)) == len(keys)
    assert histogram.compact() == 0


@pytest.mark.django_db
def test_rebuild_restores_a_damaged_histogram_and_verify_ledger_reports_it(make_user, capsys):
    members = [services.member_for_user(make_user(f"r{i}")) for i in range(4)]
    for i, member in enumerate(members):
        services.award(member=member, reason="test_award", points=10 * (i + 1), xp=5, at=NOW)
    LeaderboardBucket.objects.filter(base="p").first().delete()
    assert histogram.mismatches()
    with pytest.raises(CommandError, match="rank histogram"):
        call_command("verify_ledger", "--no-progress")
    call_command("rebuild_leaderboards", "--no-progress")
    assert histogram.mismatches() == []
    call_command("verify_ledger", "--no-progress")
    assert "rank histograms count them exactly" in capsys.readouterr().out


@pytest.mark.django_db
def test_a_period_rewritten_wholesale_gets_its_histograms_back(make_user):
    activity = Activity.objects.create(name="Booth", slug="booth")
    members = [services.member_for_user(make_user(f"p{i}")) for i in range(4)]
    for i, member in enumerate(members):
        services.award(member=member, reason="test_award", points=300 * (i + 1), xp=3, activity=activity, at=NOW)
    week = _Spec(metric="points", activity=None, window="week", at=NOW)
    # What a season recompute does to its rows: totals rewritten outside the ledger receiver.
    LeaderboardTotal.objects.filter(period=week.period, start=week.start).update(points=1)
    assert histogram.mismatches()
    assert histogram.rebuild_boards(period=week.period, start=week.start) == 4  # 2 scopes x 2 bases
    assert histogram.mismatches() == []
    assert leaderboard(viewer=members[0], window="week", activity=activity, at=NOW, use_redis=False).me.rank == 1


@pytest.mark.django_db
def test_a_ban_and_an_opt_out_need_no_histogram_write(make_user):
    a, b, c = (services.member_for_user(make_user(f"v{i}")) for i in range(3))
    for member, points in ((a, 30), (b, 20), (c, 10)):
        services.award(member=member, reason="test_award", points=points, xp=points, at=NOW)
    rows = LeaderboardBucket.objects.count()
    index.set_visibility(member=a, visible=False)
    moderation.ban_member(member=b, reason="spam", actor=make_user("mod", is_staff=True, is_superuser=True))
    assert LeaderboardBucket.objects.count() == rows
    assert leaderboard(viewer=c, use_redis=False).me.rank == 1
    assert leaderboard(viewer=c, metric="level", use_redis=False).me.rank == 1


# --- Concurrency (PostgreSQL, real threads, committed transactions) -------------------------------------

THREADS = 8


def _award_many(member_ids, activity, rounds):
    def run(i):
        rng = random.Random(i)
        for _ in range(rounds):
            member = Member.objects.get(pk=rng.choice(member_ids))
            services.award(member=member, reason="test_award", points=rng.choice([1, 3, 5, 90, 400]),
                           xp=rng.choice([0, 5]), activity=rng.choice([None, activity]))
            if i == 0:
                histogram.compact()  # compaction racing with the awards must not lose or double a row
        return i

    return run


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_awards_keep_the_histogram_exact(make_user):
    activity = Activity.objects.create(name="Booth", slug="booth")
    members = [services.member_for_user(make_user(f"t{i}")) for i in range(4)]
    # Four members shared by eight threads: awards to one member queue on its lock, others run in
    # parallel, and one thread compacts the histogram between its awards.
    results, errors = run_concurrently(_award_many([m.pk for m in members], activity, rounds=15), threads=THREADS)
    assert errors == [] and len(results) == THREADS
    call_command("verify_ledger", "--no-progress")  # balances and histograms
    assert assert_exact(activity, members, at=timezone.now()) > 100


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_negative_control_a_histogram_moved_from_an_unlocked_read_drifts(make_user, monkeypatch):
    (member,) = [services.member_for_user(make_user("neg"))]
    services.award(member=member, reason="test_award", points=10, xp=0)
    monkeypatch.setattr(services, "lock_member", _unlocked_read_then_wait(threading.Barrier(4)))

    def award(i):
        return services.award(member=Member.objects.get(pk=member.pk), reason="test_award", points=1, xp=0)

    results, errors = run_concurrently(award, threads=4)
    assert errors == [] and len(results) == 4
    member.refresh_from_db()
    assert member.points == 14  # the balance UPDATE itself is atomic (F() increments) ...
    # ... but every request moved the member from the 10 it read to 11: the global histogram now holds
    # one member in bucket 11 three times too many and -3 in bucket 10. The board totals, moved from
    # the upsert's own RETURNING, stay exact, which is why only the global board drifts.
    wrong = histogram.mismatches()
    assert wrong and all(w.startswith("0/a/1970-01-01/p bucket ") for w in wrong), wrong
