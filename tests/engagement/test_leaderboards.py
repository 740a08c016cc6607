"""Leaderboard semantics (SQL path), the SQL totals, and the Redis index against SQL on the same data."""

import datetime as dt
import json
import random
import uuid

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from engagement import services
from engagement.leaderboards import METRICS, WINDOWS, index, leaderboard, redis_index, totals
from engagement.models import Activity, LeaderboardDirtyMember, LeaderboardTotal, Member

# A fixed Wednesday noon, so day/week/month windows have something before them in each period.
AT = timezone.make_aware(dt.datetime(2026, 4, 15, 12, 0))


@pytest.fixture
def people(make_user):
    def make(n: int, prefix: str = "p") -> list[Member]:
        return [services.member_for_user(make_user(f"{prefix}{i}")) for i in range(n)]

    return make


def give(member, points, *, xp=None, activity=None, at=AT, reason="test_award"):
    return services.award(member=member, reason=reason, points=points, xp=points if xp is None else xp,
                          activity=activity, at=at)


def ranking(board):
    return [(row.rank, row.member.pk, row.value) for row in board.items]


# --- Semantics -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ties_share_a_rank_and_the_next_rank_skips(people):
    a, b, c, d = people(4)
    for member, points in ((a, 50), (b, 30), (c, 30), (d, 10)):
        give(member, points)
    board = leaderboard(metric="points", limit=10, viewer=d)
    assert ranking(board) == [(1, a.pk, 50), (2, b.pk, 30), (2, c.pk, 30), (4, d.pk, 10)]
    assert (board.me.rank, board.me.member.pk) == (4, d.pk)


@pytest.mark.django_db
def test_opted_out_members_are_neither_listed_nor_counted(people):
    a, b, c = people(3)
    for member, points in ((a, 50), (b, 40), (c, 30)):
        give(member, points, activity=None)
    index.set_visibility(member=a, visible=False)
    board = leaderboard(limit=10, viewer=c)
    assert [row.member.pk for row in board.items] == [b.pk, c.pk]
    assert board.me.rank == 2
    assert leaderboard(viewer=a).me is None
    day = leaderboard(window="day", at=AT, viewer=c)
    assert [row.member.pk for row in day.items] == [b.pk, c.pk] and day.me.rank == 2


@pytest.mark.django_db
def test_level_ranks_tie_members_of_one_level_and_list_more_xp_first(people):
    a, b, c = people(3)
    give(a, 150)  # level 2
    give(b, 120)  # level 2
    give(c, 300)  # level 3
    board = leaderboard(metric="level", limit=10, viewer=b)
    assert ranking(board) == [(1, c.pk, 3), (2, a.pk, 2), (2, b.pk, 2)]
    assert board.me.rank == 2


@pytest.mark.django_db
def test_windows_are_calendar_periods_in_the_project_time_zone(people):
    a, b = people(2)
    give(a, 10, at=AT)
    give(b, 7, at=AT - dt.timedelta(days=1))  # Tuesday: same week and month
    give(b, 5, at=AT - dt.timedelta(days=10))  # previous week, same month
    give(a, 100, at=AT - dt.timedelta(days=40))  # previous month
    values = {w: [(r.member.pk, r.value) for r in leaderboard(window=w, at=AT, limit=5).items] for w in WINDOWS}
    assert values["day"] == [(a.pk, 10)]
    assert values["week"] == [(a.pk, 10), (b.pk, 7)]
    assert values["month"] == [(b.pk, 12), (a.pk, 10)]
    assert values["all"] == [(a.pk, 110), (b.pk, 12)]
    # 00:30 on the 16th in Prague is still the 15th in UTC: it belongs to the 16th's board.
    (c,) = people(1, prefix="tz")
    early = timezone.make_aware(dt.datetime(2026, 4, 16, 0, 30))
    give(c, 3, at=early)
    assert [r.member.pk for r in leaderboard(window="day", at=early).items] == [c.pk]
    assert c.pk not in [r.member.pk for r in leaderboard(window="day", at=AT).items]


@pytest.mark.django_db
def test_scoped_boards_count_earning_in_scope_but_not_spending(people):
    a, b = people(2)
    booth = Activity.objects.create(name="Booth", slug="booth")
    give(a, 40, activity=booth)
    give(b, 30, activity=booth)
    give(b, 500)  # elsewhere
    services.spend(member=a, points=35, reason="redeem", activity=booth)
    board = leaderboard(activity=booth, limit=5, viewer=b)
    assert [(r.member.pk, r.value, r.points, r.xp) for r in board.items] == [(a.pk, 40, 40, 40), (b.pk, 30, 30, 30)]
    assert board.me.rank == 2
    assert leaderboard(activity=booth, window="week", at=AT, limit=5).items[0].member.pk == a.pk


@pytest.mark.django_db
def test_members_with_nothing_on_a_board_have_no_rank(people):
    a, b = people(2)
    give(a, 10)
    assert leaderboard(viewer=b).me is None
    assert leaderboard(window="day", at=AT + dt.timedelta(days=1), viewer=a).me is None


@pytest.mark.django_db
def test_incremental_totals_equal_a_rebuild_from_the_ledger(people):
    rows = random_ledger(people(12), seed=3)
    assert rows > 0
    before = sorted(LeaderboardTotal.objects.values_list("scope", "period", "start", "member_id", "points", "xp"))
    index.rebuild_totals()
    after = sorted(LeaderboardTotal.objects.values_list("scope", "period", "start", "member_id", "points", "xp"))
    assert after == before


@pytest.mark.django_db
def test_the_api_serves_windows_and_scopes(member_api, member, people):
    (other,) = people(1)
    booth = Activity.objects.create(name="Booth", slug="booth")
    give(member, 20, activity=booth, at=timezone.now())
    give(other, 50, at=timezone.now())
    body = member_api.get("/api/v1/engagement/leaderboard?window=week&activity=booth&metric=xp").json()
    assert [(i["rank"], i["user_id"], i["xp"]) for i in body["items"]] == [(1, member.user_id, 20)]
    assert body["me"]["rank"] == 1
    body = member_api.get("/api/v1/engagement/leaderboard?window=day").json()
    assert [i["user_id"] for i in body["items"]] == [other.user_id, member.user_id]
    assert body["me"]["rank"] == 2


def expected_row(member: Member, *, rank: int, value: int, points: int, xp: int, email: bool = False) -> dict:
    """A row as the contract prints it, spelled out from the model instances (what the old, instance-based
    serializer produced), so plain-data rows are proven byte-identical."""
    member.refresh_from_db()
    user = member.user
    row = {
        "rank": rank, "user_id": user.pk, "first_name": user.first_name, "last_name": user.last_name,
        "username": member.display_name,
        "role": "admin" if user.is_superuser else "staff" if user.is_staff else "member",
        "points": points, "level": member.level, "level_color": member.level_color, "xp": xp, "value": value,
        "avatar_url": member.avatar_url or None, "animated_avatar_url": member.animated_avatar_url or None,
    }
    return {**row, "email": user.email} if email else row


@pytest.mark.django_db
def test_rows_from_plain_values_print_byte_identical_json(member_api, admin_api, member, people, make_user):
    staff = services.member_for_user(make_user("staffer", is_staff=True, first_name="Šárka", last_name="Nová"))
    (plain,) = people(1)
    Member.objects.filter(pk=plain.pk).update(username="", avatar_url="https://img.example/a.png")
    booth = Activity.objects.create(name="Booth", slug="booth")
    give(staff, 300, activity=booth, at=timezone.now())
    give(plain, 120, xp=40, activity=booth, at=timezone.now())
    give(member, 5, at=timezone.now())
    services.spend(member=staff, points=100, reason="redeem", at=timezone.now())
    response = member_api.get("/api/v1/engagement/leaderboard?limit=10")
    assert response.content == json.dumps({
        "metric": "points", "window": "all", "activity": None,
        "items": [expected_row(staff, rank=1, value=200, points=200, xp=300),
                  expected_row(plain, rank=2, value=120, points=120, xp=40),
                  expected_row(member, rank=3, value=5, points=5, xp=5)],
        "me": expected_row(member, rank=3, value=5, points=5, xp=5),
    }, ensure_ascii=False, separators=(",", ":")).encode()
    body = admin_api.get("/api/v1/admin/engagement/leaderboard?activity=booth&window=week&metric=level").json()
    assert body["items"] == [expected_row(staff, rank=1, value=3, points=300, xp=300, email=True),
                             expected_row(plain, rank=2, value=1, points=120, xp=40, email=True)]


@pytest.mark.django_db
def test_a_top_100_with_rows_is_one_query_and_builds_no_model_instances(people, django_assert_num_queries,
                                                                          monkeypatch):
    members = people(12)
    booth = Activity.objects.create(name="Booth", slug="booth")
    for i, m in enumerate(members):
        give(m, 10 + i, activity=booth)
    built = []
    for model in (Member, get_user_model()):
        original = model.from_db.__func__
        monkeypatch.setattr(model, "from_db", classmethod(
            lambda cls, *args, original=original: built.append(cls) or original(cls, *args)))
    for query in ({}, {"activity": booth, "window": "week", "at": AT}, {"metric": "level", "window": "month",
                                                                        "at": AT}):
        with django_assert_num_queries(1):
            board = leaderboard(**query, limit=100, use_redis=False)
        assert len(board.items) == 12 and board.items[0].member.pk == members[-1].pk
    assert built == []


# --- The same data through Redis and SQL ---------------------------------------------------------------


def random_ledger(members, *, seed: int, now=None) -> int:
    """Awards, spending and adjustments over three months, with deliberate ties; returns entries written."""
    rng = random.Random(seed)
    now = now or AT
    booths = [Activity.objects.get_or_create(slug=f"a{i}", defaults={"name": f"A{i}"})[0] for i in range(2)]
    count = 0
    for member in members:
        for _ in range(rng.randint(0, 6)):
            at = now - dt.timedelta(days=rng.choice([0, 0, 1, 3, 8, 20, 45]), hours=rng.randint(0, 3))
            give(member, rng.choice([5, 10, 10, 25]), xp=rng.choice([0, 5, 10]) or 5,
                 activity=rng.choice([None, *booths]), at=at)
            count += 1
        if member.points > 10 and rng.random() < 0.3:
            services.spend(member=member, points=10, reason="redeem", at=now)
        if rng.random() < 0.2:
            services.adjust(member=member, delta=rng.choice([5, -1]) if member.points else 5, actor=None,
                            activity=rng.choice([None, *booths]), at=now)
    return count


@pytest.fixture
def redis_lb(settings):
    if not django_settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: the Redis leaderboard index needs a real Redis")
    settings.ENGAGEMENT_LEADERBOARD_REDIS = True
    settings.ENGAGEMENT_LEADERBOARD_PREFIX = f"test:lb:{uuid.uuid4().hex[:10]}"
    client = redis_index.client()
    yield client
    for key in client.scan_iter(match=f"{settings.ENGAGEMENT_LEADERBOARD_PREFIX}:*"):
        client.unlink(key)


def boards(viewers):
    booth = Activity.objects.get(slug="a0")
    for metric in METRICS:
        for window in WINDOWS:
            for activity in (None, booth):
                for viewer in viewers:
                    yield {"metric": metric, "window": window, "activity": activity, "viewer": viewer, "limit": 7}


def assert_same_boards(viewers):
    compared = tied = 0
    for query in boards(viewers):
        via_redis, via_sql = leaderboard(**query, use_redis=True), leaderboard(**query, use_redis=False)
        assert (via_redis.source, via_sql.source) == ("redis", "sql")
        assert ranking(via_redis) == ranking(via_sql), query
        assert [(r.points, r.xp) for r in via_redis.items] == [(r.points, r.xp) for r in via_sql.items], query
        mine = [(b.me.rank, b.me.value, b.me.points, b.me.xp) if b.me else None for b in (via_redis, via_sql)]
        assert mine[0] == mine[1], query
        compared += bool(via_sql.items)
        tied += len({r.rank for r in via_sql.items}) < len(via_sql.items)
    assert compared > 20 and tied > 0


@pytest.mark.redis
@pytest.mark.django_db
def test_redis_written_after_commit_ranks_exactly_like_sql(redis_lb, people, django_capture_on_commit_callbacks):
    members = people(14)
    redis_lb.set(redis_index.ready_key(), "1")  # an empty index is complete: every write below lands in it
    with django_capture_on_commit_callbacks(execute=True):
        random_ledger(members, seed=7, now=timezone.now())
        low, high = sorted(members[:2], key=lambda m: m.points)
        give(low, high.points - low.points + 5, at=timezone.now())
        give(high, 5, at=timezone.now())  # now a sure tie in points, all-time and today
        index.set_visibility(member=members[2], visible=False)
    assert_same_boards([members[0], members[2], members[5], members[13]])


@pytest.mark.redis
@pytest.mark.django_db
def test_a_rebuilt_redis_index_ranks_exactly_like_sql(redis_lb, people):
    members = people(14)
    random_ledger(members, seed=11, now=timezone.now())  # written without Redis: only a rebuild indexes it
    Member.objects.filter(pk=members[4].pk).update(show_on_leaderboard=False)
    assert not redis_index.is_ready()
    call_command("rebuild_leaderboards", "--no-progress")
    assert redis_index.is_ready()
    assert_same_boards([members[3], members[4], members[9]])


@pytest.mark.redis
@pytest.mark.django_db
def test_opting_out_and_back_in_updates_the_redis_index(redis_lb, people, member_api, member,
                                                        django_capture_on_commit_callbacks):
    (other,) = people(1)
    with django_capture_on_commit_callbacks(execute=True):
        give(member, 40, at=timezone.now())
        give(other, 20, at=timezone.now())
    call_command("rebuild_leaderboards", "--no-progress")
    with django_capture_on_commit_callbacks(execute=True):
        member_api.patch("/api/v1/engagement/profile", {"show_on_leaderboard": False}, format="json")
    board = leaderboard(window="day", limit=5)
    assert board.source == "redis" and [r.member.pk for r in board.items] == [other.pk]
    assert redis_lb.zscore(redis_index.board_key(0, "a", None, "points"), redis_index.member_key(member.pk)) is None
    with django_capture_on_commit_callbacks(execute=True):
        member_api.patch("/api/v1/engagement/profile", {"show_on_leaderboard": True}, format="json")
    assert [r.member.pk for r in leaderboard(window="day", limit=5).items] == [member.pk, other.pk]
    assert [r.member.pk for r in leaderboard(limit=5).items] == [member.pk, other.pk]


# --- Redis down ----------------------------------------------------------------------------------------------


@pytest.fixture
def dead_redis(settings, monkeypatch):
    """Redis enabled but pointing at a closed port."""
    settings.ENGAGEMENT_LEADERBOARD_REDIS = True
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.ENGAGEMENT_LEADERBOARD_PREFIX = "test:lb:dead"
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    monkeypatch.setattr(redis_index, "client", lambda: dead)
    return dead


@pytest.mark.django_db
def test_a_redis_outage_falls_back_to_sql_without_an_error(dead_redis, people, member_api, caplog):
    a, b = people(2)
    give(a, 10)
    give(b, 20)
    board = leaderboard(limit=5, viewer=a)
    assert board.source == "sql"
    assert ranking(board) == [(1, b.pk, 20), (2, a.pk, 10)] and board.me.rank == 2
    response = member_api.get("/api/v1/engagement/leaderboard?window=month")
    assert response.status_code == 200
    assert "Redis failed" in caplog.text


@pytest.mark.django_db
def test_writes_missed_during_an_outage_are_remembered_and_repaired(dead_redis, people, monkeypatch,
                                                                     django_capture_on_commit_callbacks):
    (a,) = people(1)
    with django_capture_on_commit_callbacks(execute=True):
        give(a, 10, at=timezone.now())
    assert LeaderboardDirtyMember.objects.filter(member=a).exists()
    written = []
    monkeypatch.setattr(redis_index, "set_member", lambda **kwargs: written.append(kwargs))
    assert index.repair_index() == 1
    assert written[0]["member_id"] == a.pk and written[0]["balances"] == (10, 10)
    assert {(t.period, t.points) for t in written[0]["totals"]} == {("d", 10), ("w", 10), ("m", 10)}
    assert not LeaderboardDirtyMember.objects.exists()


def test_spending_reasons_do_not_count_on_scoped_boards():
    assert not totals.counts_on_boards("redeem") and totals.counts_on_boards("checkin")


@pytest.mark.django_db
def test_rebuild_command_recomputes_the_sql_totals(people, settings, capsys):
    settings.ENGAGEMENT_LEADERBOARD_REDIS = False
    (a,) = people(1)
    give(a, 10, activity=Activity.objects.create(name="Booth", slug="booth"))
    LeaderboardTotal.objects.all().delete()
    call_command("rebuild_leaderboards", "--no-progress")
    assert "Rebuilt 7 SQL total row(s) with their rank histograms." in capsys.readouterr().out
    assert leaderboard(window="day", at=AT).items[0].value == 10
