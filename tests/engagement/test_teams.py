"""Teams: join/leave rules, the team board (sum of current members' season totals), its frozen form,
the API, and one team per member per season under real concurrency (PostgreSQL)."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from engagement import seasons, services
from engagement.models import Activity, Member, Season, Team, TeamMembership
from engagement.moderation import ban_member
from tests.concurrency import postgres_only, run_concurrently


@pytest.fixture
def people(make_user):
    def make(n: int, prefix: str = "p") -> list[Member]:
        return [services.member_for_user(make_user(f"{prefix}{i}")) for i in range(n)]

    return make


@pytest.fixture(autouse=True)
def _fresh_team_boards(settings):
    """Most tests read a board, change something and read it again: no reuse of the sums here."""
    settings.ENGAGEMENT_TEAM_BOARD_CACHE_SECONDS = 0


@pytest.fixture
def season(db):
    today = timezone.localdate()
    return Season.objects.create(slug="now", name="Now", starts=today - dt.timedelta(days=3),
                                 ends=today + dt.timedelta(days=3))


@pytest.fixture
def teams(season):
    return (Team.objects.create(season=season, slug="red", name="Red"),
            Team.objects.create(season=season, slug="blue", name="Blue", join_code="s3cret"))


def give(member, points, *, activity=None, at=None):
    return services.award(member=member, reason="test_award", points=points, activity=activity, at=at)


def board(season, **kwargs):
    return [(row.rank, row.team.slug, row.value, row.members) for row in seasons.team_board(season=season, **kwargs)]


@pytest.mark.django_db
def test_join_rules(teams, people):
    red, blue = teams
    a, = people(1)
    with pytest.raises(seasons.SeasonError) as required:
        seasons.join_team(member=a, team=blue)
    with pytest.raises(seasons.SeasonError) as invalid:
        seasons.join_team(member=a, team=blue, code="guess")
    assert (required.value.code, invalid.value.code) == ("join_code_required", "join_code_invalid")
    seasons.join_team(member=a, team=blue, code=" s3cret ")
    with pytest.raises(seasons.SeasonError) as again:
        seasons.join_team(member=a, team=red)
    assert again.value.code == "already_in_team"
    assert seasons.leave_team(member=a, season=red.season) == blue
    seasons.join_team(member=a, team=red)
    assert seasons.membership(season=red.season, member=a).team == red


@pytest.mark.django_db
def test_teams_cannot_change_once_the_season_is_over(teams, people):
    red, _ = teams
    a, b = people(2)
    seasons.join_team(member=a, team=red)
    Season.objects.filter(pk=red.season_id).update(ends=timezone.localdate() - dt.timedelta(days=1))
    red.season.refresh_from_db()
    for attempt in (lambda: seasons.join_team(member=b, team=red),
                    lambda: seasons.leave_team(member=a, season=red.season)):
        with pytest.raises(seasons.SeasonError) as refused:
            attempt()
        assert refused.value.code == "season_closed"


@pytest.mark.django_db
def test_banned_members_cannot_join_and_do_not_count(teams, people, admin_user):
    red, blue = teams
    a, b, c = people(3)
    for member, team, points in ((a, red, 10), (b, red, 50), (c, blue, 40)):
        seasons.join_team(member=member, team=team, code=team.join_code)
        give(member, points)
    assert board(red.season) == [(1, "red", 60, 2), (2, "blue", 40, 1)]
    ban_member(member=b, reason="cheating", actor=admin_user)
    assert board(red.season) == [(1, "blue", 40, 1), (2, "red", 10, 1)]
    d, = people(1, prefix="d")
    ban_member(member=d, reason="cheating", actor=admin_user)
    with pytest.raises(Exception) as refused:
        seasons.join_team(member=d, team=red)
    assert refused.value.code == "member_banned"


@pytest.mark.django_db
def test_team_board_is_the_current_members_season_points(teams, people):
    red, blue = teams
    talk = Activity.objects.create(name="Talk", slug="talk")
    a, b, c = people(3)
    give(a, 100, at=timezone.now() - dt.timedelta(days=30))  # before the season: not counted
    for member, team, points in ((a, red, 20), (b, red, 20), (c, blue, 40)):
        seasons.join_team(member=member, team=team, code=team.join_code)
        give(member, points, activity=talk if member is c else None)
    # Equal sums share a rank; within a rank teams are listed by name.
    assert board(red.season) == [(1, "blue", 40, 1), (1, "red", 40, 2)]
    assert board(red.season, activity=talk) == [(1, "blue", 40, 1), (2, "red", 0, 2)]
    seasons.leave_team(member=b, season=red.season)  # a member who leaves takes their points along
    assert board(red.season) == [(1, "blue", 40, 1), (2, "red", 20, 1)]


@pytest.mark.django_db(transaction=True)
def test_team_sums_are_reused_for_a_few_seconds_and_a_join_shows_at_once(teams, people, settings):
    settings.ENGAGEMENT_TEAM_BOARD_CACHE_SECONDS = 60
    red, blue = teams
    a, b = people(2)
    seasons.join_team(member=a, team=red)
    give(a, 10)
    assert board(red.season) == [(1, "red", 10, 1), (2, "blue", 0, 0)]
    give(a, 5)  # an award does not clear the cache: the board lags by at most those seconds
    assert board(red.season) == [(1, "red", 10, 1), (2, "blue", 0, 0)]
    seasons.join_team(member=b, team=blue, code="s3cret")
    assert board(red.season) == [(1, "red", 15, 1), (2, "blue", 0, 1)]
    assert board(red.season, live=True) == board(red.season)


@pytest.mark.django_db
def test_a_frozen_team_board_keeps_the_final_values(teams, people):
    red, blue = teams
    a, b = people(2)
    seasons.join_team(member=a, team=red)
    seasons.join_team(member=b, team=blue, code="s3cret")
    give(a, 5)
    give(b, 9)
    season = red.season
    after = timezone.now() + dt.timedelta(days=5)
    assert seasons.close_season(season_id=season.pk, now=after).closed
    season.refresh_from_db()
    red.refresh_from_db()
    assert (red.final_rank, red.final_points) == (2, 5)
    TeamMembership.objects.filter(member=b).delete()  # whatever happens afterwards
    assert board(season) == [(1, "blue", 9, 0), (2, "red", 5, 1)]


# --- API -------------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_teams_api_list_join_and_leave(member_api, member, teams):
    body = member_api.get("/api/v1/engagement/teams").json()
    assert body["season"]["slug"] == "now" and body["mine"] is None
    assert [(t["slug"], t["needs_code"]) for t in body["items"]] == [("blue", True), ("red", False)]
    refused = member_api.post("/api/v1/engagement/teams", {"team": "blue"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "join_code_required"
    joined = member_api.post("/api/v1/engagement/teams", {"team": "blue", "code": "s3cret"}, format="json")
    assert joined.status_code == 201 and joined.json()["mine"] == "blue"
    second = member_api.post("/api/v1/engagement/teams", {"team": "red"}, format="json")
    assert second.status_code == 409 and second.json()["code"] == "already_in_team"
    missing = member_api.post("/api/v1/engagement/teams", {"team": "green"}, format="json")
    assert missing.status_code == 404 and missing.json()["code"] == "team_not_found"
    left = member_api.delete("/api/v1/engagement/teams?season=now")
    assert left.status_code == 200 and left.json()["mine"] is None
    again = member_api.delete("/api/v1/engagement/teams")
    assert again.status_code == 404 and again.json()["code"] == "not_in_team"


@pytest.mark.django_db
def test_teams_api_needs_a_login_and_a_season(member_api):
    assert APIClient().get("/api/v1/engagement/teams").status_code in (401, 403)
    none = member_api.get("/api/v1/engagement/teams")
    assert none.status_code == 404 and none.json()["code"] == "no_active_season"
    bad = member_api.post("/api/v1/engagement/teams", {"team": ["x"]}, format="json")
    assert bad.status_code == 400


@pytest.mark.django_db
def test_team_leaderboard_api(api, member_api, member, teams, people):
    red, blue = teams
    other, = people(1)
    seasons.join_team(member=member, team=red)
    seasons.join_team(member=other, team=blue, code="s3cret")
    give(member, 7)
    give(other, 3)
    body = member_api.get("/api/v1/engagement/leaderboard?season=now&team=1").json()
    assert body["team"] is True and body["season"] == "now"
    assert [(i["rank"], i["slug"], i["value"], i["members"]) for i in body["items"]] == [(1, "red", 7, 1),
                                                                                         (2, "blue", 3, 1)]
    assert body["me"]["slug"] == "red"
    assert APIClient().get("/api/v1/engagement/leaderboard?season=now&team=1").json()["me"] is None
    no_season = api.get("/api/v1/engagement/leaderboard?team=1")
    assert no_season.status_code == 400 and no_season.json()["code"] == "team_needs_season"
    level = api.get("/api/v1/engagement/leaderboard?season=now&team=1&metric=level")
    assert level.status_code == 400 and level.json()["code"] == "team_metric_unsupported"


def test_the_new_endpoints_are_in_the_schema(api, db):
    schema = api.get("/api/schema/?format=json").json()
    assert {"/api/v1/engagement/seasons", "/api/v1/engagement/teams"} <= set(schema["paths"])
    assert {"get", "post", "delete"} <= set(schema["paths"]["/api/v1/engagement/teams"])
    names = {p["name"] for p in schema["paths"]["/api/v1/engagement/leaderboard"]["get"]["parameters"]}
    assert {"season", "team"} <= names


# --- Concurrency (PostgreSQL, real threads) ------------------------------------------------------------------------


def _join_each(member_id, team_ids):
    def run(i):
        team = Team.objects.select_related("season").get(pk=team_ids[i % len(team_ids)])
        return seasons.join_team(member=Member.objects.get(pk=member_id), team=team)

    return run


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_joins_leave_one_team_per_season(season, member):
    ids = [Team.objects.create(season=season, slug=f"t{i}", name=f"T{i}").pk for i in range(4)]
    results, errors = run_concurrently(_join_each(member.pk, ids), threads=8)
    assert len(results) == 1 and len(errors) == 7
    assert all(getattr(e, "code", None) == "already_in_team" for e in errors)
    assert TeamMembership.objects.filter(member=member).count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_negative_control_without_the_unique_constraint_a_member_joins_several_teams(season, member):
    ids = [Team.objects.create(season=season, slug=f"t{i}", name=f"T{i}").pk for i in range(4)]
    constraint = next(c for c in TeamMembership._meta.constraints if c.name == "engagement_one_team_per_season")
    with connection.schema_editor() as editor:
        editor.remove_constraint(TeamMembership, constraint)
    try:
        run_concurrently(_join_each(member.pk, ids), threads=8)
        assert TeamMembership.objects.filter(member=member).count() > 1
    finally:
        TeamMembership.objects.all().delete()
        with connection.schema_editor() as editor:
            editor.add_constraint(TeamMembership, constraint)


# --- Pages: the fan zone's season card, the big-screen board ---------------------------------------------------------


@pytest.mark.django_db
def test_the_fan_zone_shows_the_season_rank_and_team(client, user, member, teams, people):
    red, _ = teams
    rival, = people(1)
    give(rival, 50)
    give(member, 20)
    seasons.join_team(member=member, team=red)
    client.force_login(user)
    html = client.get("/me/").content.decode()
    assert 'id="season"' in html and "Now" in html
    assert 'id="season-rank">2<' in html and 'id="season-team">Red<' in html


@pytest.mark.django_db
def test_the_fan_zone_without_a_season_has_no_season_card(client, user, member):
    client.force_login(user)
    assert 'id="season"' not in client.get("/me/").content.decode()


@pytest.mark.django_db
def test_the_big_screen_shows_a_season_and_its_teams(client, teams, people):
    red, blue = teams
    a, b = people(2)
    seasons.join_team(member=a, team=red)
    seasons.join_team(member=b, team=blue, code="s3cret")
    give(a, 4)
    give(b, 9)
    html = client.get("/board/?season=now&team=1").content.decode()
    assert 'data-user="team:blue"' in html and 'data-user="team:red"' in html and 'data-team="1"' in html
    assert html.index("team:blue") < html.index("team:red")
    season_html = client.get("/board/?season=now").content.decode()
    assert f'data-user="{b.user_id}"' in season_html and 'data-season="now"' in season_html
    body = client.get("/api/v1/points/leaderboard?season=now&team=1").json()
    assert [(i["rank"], i["key"], i["value"]) for i in body["items"]] == [(1, "team:blue", 9), (2, "team:red", 4)]
    refused = client.get("/api/v1/points/leaderboard?season=now&window=day")
    assert refused.status_code == 400 and refused.json()["code"] == "season_with_window"
