"""Seasons: their boards (LeaderboardTotal period "s"), the close (standings, prizes, exactly once,
also under real concurrency on PostgreSQL) and the API."""

import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone

from engagement import seasons, services
from engagement.leaderboards import index, leaderboard
from engagement.models import Activity, LeaderboardTotal, LedgerEntry, Member, Season, SeasonStanding
from tests.concurrency import postgres_only, run_concurrently

AT = timezone.make_aware(dt.datetime(2026, 4, 15, 12, 0))
AFTER = timezone.make_aware(dt.datetime(2026, 5, 2, 12, 0))
BEFORE = timezone.make_aware(dt.datetime(2026, 3, 31, 23, 30))
CLOSE_AT = timezone.make_aware(dt.datetime(2026, 5, 1, 1, 0))
PRIZES = [{"rank_to": 1, "points": 500, "xp": 50}, {"rank_to": 3, "points": 100, "xp": 0}]


@pytest.fixture
def people(make_user):
    def make(n: int, prefix: str = "p") -> list[Member]:
        return [services.member_for_user(make_user(f"{prefix}{i}")) for i in range(n)]

    return make


@pytest.fixture
def spring(db):
    return Season.objects.create(slug="spring-2026", name="Spring 2026", starts=dt.date(2026, 4, 1),
                                 ends=dt.date(2026, 4, 30), prizes=PRIZES)


def give(member, points, *, at=AT, activity=None, xp=None):
    return services.award(member=member, reason="test_award", points=points, xp=points if xp is None else xp,
                          activity=activity, at=at)


def ranking(board):
    return [(row.rank, row.member.pk, row.value) for row in board.items]


def season_rows():
    rows = LeaderboardTotal.objects.filter(period="s").values_list("scope", "start", "member_id", "points", "xp")
    return sorted(rows)


# --- Boards ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_season_board_ranks_only_what_was_earned_in_the_season(spring, people):
    a, b, c = people(3)
    give(a, 10)
    give(b, 30)
    give(c, 100, at=AFTER)   # after the season
    give(a, 100, at=BEFORE)  # the evening before, in the project time zone
    give(c, 20, at=timezone.make_aware(dt.datetime(2026, 4, 30, 23, 59)))  # its last minute counts
    board = leaderboard(metric="points", season=spring, viewer=a)
    assert ranking(board) == [(1, b.pk, 30), (2, c.pk, 20), (3, a.pk, 10)]
    assert board.me.rank == 3 and board.season == spring
    assert (board.items[0].points, board.items[0].xp) == (30, 30)


@pytest.mark.django_db
def test_season_boards_work_with_every_metric_and_an_activity(spring, people):
    a, b = people(2)
    talk = Activity.objects.create(name="Talk", slug="talk")
    give(a, 40, xp=500, activity=talk)
    give(b, 60, xp=20)
    assert ranking(leaderboard(metric="xp", season=spring)) == [(1, a.pk, 500), (2, b.pk, 20)]
    assert ranking(leaderboard(metric="level", season=spring)) == [(1, a.pk, 3), (2, b.pk, 1)]
    assert ranking(leaderboard(metric="points", season=spring, activity=talk)) == [(1, a.pk, 40)]


@pytest.mark.django_db
def test_a_season_refuses_a_window(spring):
    with pytest.raises(ValueError):
        leaderboard(season=spring, window="week")


@pytest.mark.django_db
def test_incremental_season_rows_equal_a_rebuild_and_overlapping_seasons_both_count(spring, people):
    Season.objects.create(slug="april-cup", name="April cup", starts=dt.date(2026, 4, 10), ends=dt.date(2026, 4, 20))
    a, b = people(2)
    talk = Activity.objects.create(name="Talk", slug="talk")
    give(a, 5, activity=talk)
    give(b, 7, at=timezone.make_aware(dt.datetime(2026, 4, 25, 9, 0)))
    give(b, 9, at=AFTER)
    incremental = season_rows()
    assert (0, dt.date(2026, 4, 10), a.pk, 5, 5) in incremental
    assert (0, dt.date(2026, 4, 1), b.pk, 7, 7) in incremental
    assert not any(row[1] == dt.date(2026, 4, 10) and row[2] == b.pk for row in incremental)
    call_command("rebuild_leaderboards", "--no-progress")
    assert season_rows() == incremental


@pytest.mark.django_db
def test_a_season_created_later_is_computed_from_the_day_rows(people):
    a, = people(1)
    give(a, 12)
    season = Season(slug="late", name="Late", starts=dt.date(2026, 4, 1), ends=dt.date(2026, 4, 30))
    seasons.save_season(season=season)
    assert ranking(leaderboard(season=season)) == [(1, a.pk, 12)]
    season.starts = dt.date(2026, 4, 16)
    seasons.save_season(season=season, previous_starts=dt.date(2026, 4, 1))
    assert ranking(leaderboard(season=season)) == [] and season_rows() == []


# --- Close ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_close_freezes_standings_and_pays_prizes_once(spring, people):
    a, b, c, d, hidden = people(5)
    for member, points in ((a, 90), (b, 50), (c, 50), (d, 10), (hidden, 1000)):
        give(member, points)
    index.set_visibility(member=hidden, visible=False)
    result = seasons.close_season(season_id=spring.pk, now=CLOSE_AT)
    assert result.closed and result.standings == 4 and result.prizes == 3
    standings = list(SeasonStanding.objects.filter(season=spring).order_by("rank", "member_id")
                     .values_list("rank", "member_id", "points", "prize_points", "prize_xp"))
    assert standings == [(1, a.pk, 90, 500, 50), (2, b.pk, 50, 100, 0), (2, c.pk, 50, 100, 0), (4, d.pk, 10, 0, 0)]
    prizes = LedgerEntry.objects.filter(reason=seasons.PRIZE_REASON)
    assert sorted(prizes.values_list("member_id", "points", "xp")) == sorted(
        [(a.pk, 500, 50), (b.pk, 100, 0), (c.pk, 100, 0)])
    assert set(prizes.values_list("idempotency_key", flat=True)) == {
        f"season-prize:{spring.pk}:{m.pk}" for m in (a, b, c)}
    again = seasons.close_season(season_id=spring.pk, now=CLOSE_AT)
    assert not again.closed and prizes.count() == 3
    spring.refresh_from_db()
    assert spring.frozen_at == CLOSE_AT and seasons.state(spring) == Season.State.FROZEN
    call_command("verify_ledger", "--no-progress")


@pytest.mark.django_db
def test_a_frozen_board_is_read_from_the_standings(spring, people):
    a, b = people(2)
    give(a, 20)
    give(b, 10)
    seasons.close_season(season_id=spring.pk, now=CLOSE_AT)
    spring.refresh_from_db()
    # Derived rows that change later (a rebuild, a backdated correction) no longer move the frozen board.
    LeaderboardTotal.objects.filter(period="s", member=b).update(points=999)
    board = leaderboard(season=spring, viewer=b)
    assert ranking(board) == [(1, a.pk, 20), (2, b.pk, 10)] and board.me.rank == 2


@pytest.mark.django_db
def test_close_recomputes_rows_a_stale_season_cache_missed(spring, people, monkeypatch):
    a, b = people(2)
    give(a, 5)
    monkeypatch.setattr(seasons.index.seasons, "open_seasons", lambda: ())  # a process that never saw it
    give(b, 8)
    assert ranking(leaderboard(season=spring)) == [(1, a.pk, 5)]
    monkeypatch.undo()
    seasons.close_season(season_id=spring.pk, now=CLOSE_AT)
    spring.refresh_from_db()
    assert ranking(leaderboard(season=spring)) == [(1, b.pk, 8), (2, a.pk, 5)]


@pytest.mark.django_db
def test_a_season_is_not_closed_before_its_last_day_is_over(spring, people):
    give(people(1)[0], 5)
    assert not seasons.close_season(season_id=spring.pk, now=timezone.make_aware(dt.datetime(2026, 4, 30, 22))).closed
    # Within the grace after midnight entries of the last minutes may still be committing.
    assert not seasons.close_season(season_id=spring.pk, now=timezone.make_aware(dt.datetime(2026, 5, 1, 0, 5))).closed
    assert SeasonStanding.objects.count() == 0


@pytest.mark.django_db
def test_close_seasons_command_and_task(spring, people):
    give(people(1)[0], 5)
    Season.objects.create(slug="later", name="Later", starts=dt.date(2099, 1, 1), ends=dt.date(2099, 2, 1))
    out = call_command("close_seasons", "--no-progress")
    assert out == "Closed 1 season(s) (spring-2026): 1 standing(s), 1 prize(s) paid."
    from engagement.tasks import close_seasons

    assert close_seasons.delay().get() == 0  # nothing left to close


def test_the_close_runs_on_the_beat():
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE["engagement-close-seasons"]["task"] == "engagement.tasks.close_seasons"


@pytest.mark.django_db
def test_prize_tiers_and_their_validation():
    season = Season(slug="x", name="X", starts=dt.date(2026, 1, 1), ends=dt.date(2026, 1, 2), prizes=PRIZES)
    assert [season.prize_for(r) for r in (1, 2, 3, 4)] == [(500, 50), (100, 0), (100, 0), (0, 0)]
    season.clean()
    for bad in ([{"rank_to": 0, "points": 1}], [{"points": 1}], [{"rank_to": 1, "points": -1}], {"a": 1},
                [{"rank_to": 1, "bonus": 5}]):
        season.prizes = bad
        with pytest.raises(Exception, match="prizes"):
            season.clean()


# --- API --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seasons_api_lists_states(api, spring):
    today = timezone.localdate()
    Season.objects.create(slug="now", name="Now", starts=today, ends=today + dt.timedelta(days=5))
    Season.objects.create(slug="next", name="Next", starts=today + dt.timedelta(days=10),
                          ends=today + dt.timedelta(days=20))
    body = api.get("/api/v1/engagement/seasons").json()
    assert [(s["slug"], s["state"]) for s in body["items"]] == [
        ("next", "upcoming"), ("now", "active"), ("spring-2026", "ended")]
    seasons.close_season(season_id=spring.pk, now=CLOSE_AT)
    states = {s["slug"]: s["state"] for s in api.get("/api/v1/engagement/seasons").json()["items"]}
    assert states["spring-2026"] == "frozen"


@pytest.mark.django_db
def test_leaderboard_api_with_a_season(api, member_api, member, spring, people):
    other, = people(1)
    give(member, 15)
    give(other, 25)
    body = member_api.get("/api/v1/engagement/leaderboard?season=spring-2026&metric=xp").json()
    assert body["season"] == "spring-2026" and body["window"] == "season"
    assert [(i["rank"], i["user_id"], i["value"]) for i in body["items"]] == [(1, other.user_id, 25),
                                                                              (2, member.user_id, 15)]
    assert body["me"]["rank"] == 2
    refused = api.get("/api/v1/engagement/leaderboard?season=spring-2026&window=week")
    assert refused.status_code == 400 and refused.json()["code"] == "season_with_window"
    missing = api.get("/api/v1/engagement/leaderboard?season=nope")
    assert missing.status_code == 404 and missing.json()["code"] == "season_not_found"
    assert api.get("/api/v1/engagement/leaderboard?season=bad%20slug").status_code == 400
    plain = api.get("/api/v1/engagement/leaderboard").json()
    assert "season" not in plain and plain["window"] == "all"


# --- Concurrency (PostgreSQL, real threads) ----------------------------------------------------------------------


def _close(season_id):
    def run(i):
        return seasons.close_season(season_id=season_id, now=CLOSE_AT)

    return run


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_closes_freeze_and_pay_once(spring, people):
    a, b = people(2)
    give(a, 30)
    give(b, 20)
    results, errors = run_concurrently(_close(spring.pk), threads=4)
    assert errors == [] and sum(r.closed for r in results) == 1
    assert SeasonStanding.objects.filter(season=spring).count() == 2
    assert LedgerEntry.objects.filter(reason=seasons.PRIZE_REASON).count() == 2


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_negative_control_without_the_claim_both_closes_run(spring, people, monkeypatch):
    a, b = people(2)
    give(a, 30)
    give(b, 20)
    barrier = threading.Barrier(2)

    def read_then_wait(season_id, *, now):
        unfrozen = Season.objects.filter(pk=season_id, frozen_at__isnull=True).exists()
        barrier.wait(timeout=30)
        Season.objects.filter(pk=season_id).update(frozen_at=now)
        return unfrozen

    monkeypatch.setattr(seasons, "_claim", read_then_wait)
    results, errors = run_concurrently(_close(spring.pk), threads=2)
    # Both passed the check and went on; only the unique (season, member) standings then stop the
    # second close (it fails before its payments, and rolls back); the prizes were paid once.
    assert sum(r.closed for r in results) == 1 and len(errors) == 1
    assert isinstance(errors[0], IntegrityError) and "engagement_standing_unique" in str(errors[0])
    assert LedgerEntry.objects.filter(reason=seasons.PRIZE_REASON).count() == 2


def _pay(season, member_id):
    def run(i):
        return seasons.pay_prize(season=season, member=Member.objects.get(pk=member_id), rank=1)

    return run


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_prize_payments_pay_once(spring, member):
    results, errors = run_concurrently(_pay(spring, member.pk), threads=6)
    assert errors == [] and len(results) == 6
    assert LedgerEntry.objects.filter(reason=seasons.PRIZE_REASON).count() == 1
    member.refresh_from_db()
    assert member.points == 500


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_negative_control_without_the_key_a_prize_is_paid_twice(spring, member, monkeypatch):
    award = services.award

    def without_key(**kwargs):
        return award(**{**kwargs, "idempotency_key": None})

    monkeypatch.setattr(seasons.services, "award", without_key)
    run_concurrently(_pay(spring, member.pk), threads=6)
    assert LedgerEntry.objects.filter(reason=seasons.PRIZE_REASON).count() == 6


# --- Admin and demo ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_screens_and_close_now(client, admin_user, spring, people):
    from django.urls import reverse

    a, = people(1)
    give(a, 5)
    running = Season.objects.create(slug="now", name="Now", starts=timezone.localdate(),
                                    ends=timezone.localdate() + dt.timedelta(days=3))
    client.force_login(admin_user)
    for name in ("season", "seasonstanding", "team", "teammembership"):
        assert client.get(reverse(f"admin:engagement_{name}_changelist")).status_code == 200
    assert client.get(reverse("admin:engagement_season_change", args=[spring.pk])).status_code == 200
    response = client.post(reverse("admin:engagement_season_changelist"),
                           {"action": "close_now", "_selected_action": [spring.pk, running.pk]}, follow=True)
    text = response.content.decode()
    assert "1 season closed." in text and "Now" in text
    assert SeasonStanding.objects.filter(season=spring).count() == 1
    assert not SeasonStanding.objects.filter(season=running).exists()


@pytest.mark.django_db
def test_admin_saving_a_season_computes_its_board(client, admin_user, people):
    from django.urls import reverse

    a, = people(1)
    give(a, 7)
    client.force_login(admin_user)
    response = client.post(reverse("admin:engagement_season_add"), {
        "slug": "april", "name": "April", "starts": "2026-04-01", "ends": "2026-04-30", "prizes": "[]",
        "teams-TOTAL_FORMS": 0, "teams-INITIAL_FORMS": 0, "teams-MIN_NUM_FORMS": 0, "teams-MAX_NUM_FORMS": 1000,
    })
    assert response.status_code == 302
    assert ranking(leaderboard(season=Season.objects.get(slug="april"))) == [(1, a.pk, 7)]


@pytest.mark.django_db
def test_the_demo_seeds_a_running_season_with_two_teams():
    from engagement import demo

    demo.seed()
    again = demo.seed()
    season = again["season"]
    assert seasons.state(season) == Season.State.ACTIVE and season.teams.count() == 2
    board = leaderboard(season=season, limit=5)
    assert [row.member.login for row in board.items] == ["alice", "bob"]
    assert [row.members for row in seasons.team_board(season=season)] == [1, 1]
