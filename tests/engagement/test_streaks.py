"""Streaks: kept by the award path, read cheaply, bridged by freezes, rebuilt from the ledger."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from config.models import OutboxTask
from engagement import achievements, services, streaks
from engagement.achievement_rules import MemberFacts, progress, validate_rule
from engagement.errors import CapReached
from engagement.models import Achievement, LedgerEntry, Member, Streak, StreakFreezeGrant, StreakFreezeUse
from tests.concurrency import postgres_only, run_concurrently

# Noon in Prague on 1 July 2026 and the days after it.
START = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
STATUS_URL = "/api/v1/engagement/streak"


def on_day(n: int, hour: int = 10) -> datetime:
    return START.replace(hour=hour) + timedelta(days=n)


def earn(member, day: int, *, reason: str = "manual", hour: int = 10, **kwargs):
    return services.award(member=member, reason=reason, points=kwargs.pop("points", 1), at=on_day(day, hour), **kwargs)


def row(member) -> Streak:
    return Streak.objects.get(member=member)


@pytest.fixture(autouse=True)
def _fresh_achievement_triggers():
    achievements.clear_triggers()
    yield
    achievements.clear_triggers()


# --- The award path ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_consecutive_days_grow_the_streak_and_a_second_award_the_same_day_does_not(member):
    for day in (0, 0, 1, 2, 2):
        earn(member, day)
    streak = row(member)
    assert (streak.last_active_day, streak.current, streak.best) == (date(2026, 7, 3), 3, 3)


@pytest.mark.django_db
def test_days_are_calendar_days_in_the_project_time_zone(member):
    # 21:30 UTC on 1 July is 23:30 in Prague; 22:30 UTC is already 2 July there.
    earn(member, 0, hour=21)
    earn(member, 0, hour=22)
    assert (row(member).current, row(member).last_active_day) == (2, date(2026, 7, 2))


@pytest.mark.django_db
def test_a_missed_day_starts_a_new_streak_and_the_best_is_kept(member):
    for day in (0, 1, 2, 4):
        earn(member, day)
    assert (row(member).current, row(member).best) == (1, 3)


@pytest.mark.django_db
def test_the_streak_reads_zero_once_more_than_yesterday_has_passed(member):
    earn(member, 0)
    earn(member, 1)
    assert streaks.status(member=member, at=on_day(1)) == streaks.Status(2, 2, 0, 0, True, date(2026, 7, 2))
    yesterday = streaks.status(member=member, at=on_day(2))
    assert (yesterday.current, yesterday.active_today) == (2, False)
    assert streaks.status(member=member, at=on_day(3)).current == 0
    assert streaks.status(member=member, at=on_day(3)).best == 2


@pytest.mark.django_db
def test_spending_refunds_adjustments_and_unlock_payments_never_count(member, admin_user):
    earn(member, 0, points=50)
    services.spend(member=member, points=5, at=on_day(1))
    services.refund(member=member, points=5, at=on_day(2))
    services.adjust(member=member, delta=5, actor=admin_user, at=on_day(3))
    services.award(member=member, reason="achievement:someday", points=5, at=on_day(4))
    assert (row(member).last_active_day, row(member).current) == (date(2026, 7, 1), 1)


@pytest.mark.django_db
def test_the_setting_chooses_which_reasons_count(member, settings):
    settings.ENGAGEMENT_STREAK_REASONS = ["comment_create", "refund"]
    earn(member, 0, reason="manual")
    assert not Streak.objects.filter(member=member).exists()
    earn(member, 0, reason="comment_create", points=None)
    services.refund(member=member, points=1, at=on_day(1))  # listed, but refunds never count
    assert (row(member).last_active_day, row(member).current) == (date(2026, 7, 1), 1)


@pytest.mark.django_db
def test_an_award_dated_before_the_last_active_day_changes_nothing_until_a_rebuild(member):
    earn(member, 1)
    earn(member, 2)
    earn(member, 0)  # a backfill
    assert (row(member).current, row(member).best) == (2, 2)
    assert streaks.rebuild_member(member.pk) is True
    assert (row(member).current, row(member).best) == (3, 3)


@pytest.mark.django_db
def test_a_refused_award_leaves_the_streak_alone(member):
    services.award(member=member, reason="newsletter_subscribe", at=on_day(0))  # once ever
    with pytest.raises(CapReached):
        services.award(member=member, reason="newsletter_subscribe", at=on_day(1))
    assert (row(member).current, row(member).last_active_day) == (1, date(2026, 7, 1))


# --- Freezes -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_freeze_bridges_exactly_one_missed_day_at_the_next_activity(member):
    earn(member, 0)
    earn(member, 1)
    streaks.grant_freezes(member=member, count=2, actor=None)
    assert streaks.status(member=member, at=on_day(3)).current == 2, "alive while a freeze can bridge"
    earn(member, 3)
    streak = row(member)
    assert (streak.current, streak.best, streak.freezes, streak.freezes_used) == (3, 3, 1, 1)
    assert list(StreakFreezeUse.objects.filter(member=member).values_list("day", flat=True)) == [date(2026, 7, 3)]


@pytest.mark.django_db
def test_two_missed_days_break_the_streak_and_keep_the_freezes(member):
    earn(member, 0)
    streaks.grant_freezes(member=member, count=3, actor=None)
    earn(member, 3)
    streak = row(member)
    assert (streak.current, streak.freezes, streak.freezes_used) == (1, 3, 0)
    assert streaks.status(member=member, at=on_day(6)).current == 0


@pytest.mark.django_db
def test_without_a_freeze_a_missed_day_breaks_the_streak(member):
    earn(member, 0)
    earn(member, 2)
    assert row(member).current == 1
    assert not StreakFreezeUse.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("count", [0, -1, streaks.MAX_FREEZE_GRANT + 1, True, "3"])
def test_a_freeze_grant_must_be_a_sensible_number(member, count):
    with pytest.raises(streaks.StreakError) as refused:
        streaks.grant_freezes(member=member, count=count, actor=None)
    assert refused.value.code == "invalid_count"
    assert not Streak.objects.filter(member=member, freezes__gt=0).exists()


@pytest.mark.django_db
def test_an_admins_grant_is_logged_on_the_member(member, admin_user):
    streaks.grant_freezes(member=member, count=2, actor=admin_user)
    assert row(member).freezes == 2
    assert LogEntry.objects.get(object_id=str(member.pk)).change_message == "Granted 2 streak freeze(s)."


# --- Rebuild -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rebuild_repairs_rows_replays_bridged_days_and_keeps_freezes(member, make_user, capsys):
    other = services.member_for_user(make_user("other"))
    earn(member, 0)
    earn(member, 1)
    streaks.grant_freezes(member=member, count=2, actor=None)
    earn(member, 3)
    earn(other, 0)
    expected = {f: getattr(row(member), f) for f in ("last_active_day", "current", "best", "freezes", "freezes_used")}
    Streak.objects.filter(member=member).update(current=0, best=0, last_active_day=None, freezes_used=0)
    Streak.objects.filter(member=other).delete()

    call_command("rebuild_streaks", "--no-progress")

    assert {f: getattr(row(member), f) for f in expected} == expected == {
        "last_active_day": date(2026, 7, 4), "current": 3, "best": 3, "freezes": 1, "freezes_used": 1}
    assert (row(other).current, row(other).best) == (1, 1)
    assert capsys.readouterr().out.strip() == "Rebuilt the streaks of 2 member(s) from the ledger; 2 changed."
    call_command("rebuild_streaks", "--no-progress")
    assert capsys.readouterr().out.strip().endswith("; 0 changed.")


# --- Achievement rules ---------------------------------------------------------------------------------


def test_the_rule_language_accepts_streak_days_milestones():
    validate_rule({"type": "streak_days", "min": 7})
    validate_rule({"all": [{"type": "streak_days", "min": 30}, {"type": "streak", "days": 3}]})
    for bad in ({"type": "streak_days", "days": 7}, {"type": "streak_days", "min": 0}):
        with pytest.raises(ValidationError):
            validate_rule(bad)


@pytest.mark.django_db
def test_streak_days_reads_the_maintained_best_and_the_old_streak_type_still_reads_the_ledger(member):
    for day in (0, 1, 2, 5):
        earn(member, day)
    facts = MemberFacts(member)
    assert progress({"type": "streak_days", "min": 7}, facts).current == 3
    assert progress({"type": "streak", "days": 7}, facts).current == 3
    Streak.objects.filter(member=member).update(best=9)  # proves which one reads the row
    assert progress({"type": "streak_days", "min": 7}, MemberFacts(member)).met


def _evaluations(member) -> int:
    return OutboxTask.objects.filter(task="engagement.tasks.evaluate_achievements",
                                     kwargs={"member_id": member.pk}).count()


@pytest.mark.django_db
def test_a_longer_best_streak_enqueues_an_evaluation_through_the_outbox_and_a_same_day_award_does_not(member):
    Achievement.objects.create(code="streak_3", title="Three in a row", rule={"type": "streak_days", "min": 3},
                               points=7, xp=7)
    earn(member, 0)
    assert _evaluations(member) == 1
    earn(member, 0, hour=11)
    assert _evaluations(member) == 1
    earn(member, 1)
    assert _evaluations(member) == 2


@pytest.mark.django_db
def test_a_streak_milestone_unlocks_on_its_day(member):
    Achievement.objects.create(code="streak_3", title="Three in a row", rule={"type": "streak_days", "min": 3},
                               points=7, xp=7)
    earn(member, 0)
    earn(member, 1)
    assert achievements.evaluate_member(member_id=member.pk, at=on_day(1)) == []
    earn(member, 2)
    [unlock] = achievements.evaluate_member(member_id=member.pk, at=on_day(2))
    assert unlock.achievement.code == "streak_3"
    assert LedgerEntry.objects.get(member=member, reason="achievement:streak_3").points == 7
    assert row(member).current == 3, "the unlock's own payment is not activity"


# --- API ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_shows_the_members_own_streak(member, member_api):
    assert member_api.get(STATUS_URL).json() == {"current": 0, "best": 0, "freezes": 0, "freezes_used": 0,
                                                 "active_today": False, "last_active_day": None}
    services.award(member=member, reason="manual", points=1)
    body = member_api.get(STATUS_URL).json()
    assert (body["current"], body["best"], body["active_today"]) == (1, 1, True)


@pytest.mark.django_db
def test_the_streak_api_needs_a_login(api):
    response = api.get(STATUS_URL)
    assert response.status_code in (401, 403)
    assert "code" in response.json()


@pytest.mark.django_db
def test_an_admin_grants_freezes_through_the_api(admin_api, member):
    url = f"/api/v1/admin/engagement/members/{member.user_id}/streak-freezes"
    response = admin_api.post(url, {"count": 3}, format="json")
    assert response.status_code == 200
    assert response.json() == {"user_id": member.user_id, "current": 0, "best": 0, "freezes": 3, "freezes_used": 0,
                               "active_today": False, "last_active_day": None, "replayed": False}
    for body in ({"count": 0}, {"count": "many"}, {}, {"count": 10**20}):
        refused = admin_api.post(url, body, format="json")
        assert refused.status_code == 400 and "code" in refused.json()
    missing = admin_api.post("/api/v1/admin/engagement/members/999999/streak-freezes", {"count": 1}, format="json")
    assert (missing.status_code, missing.json()["code"]) == (404, "member_not_found")
    assert row(member).freezes == 3


@pytest.mark.django_db
def test_a_retried_grant_with_the_same_idempotency_key_grants_once(admin_api, admin_user, member, make_user):
    url = f"/api/v1/admin/engagement/members/{member.user_id}/streak-freezes"
    first = admin_api.post(url, {"count": 3}, format="json", HTTP_IDEMPOTENCY_KEY="grant-42")
    again = admin_api.post(url, {"count": 3}, format="json", HTTP_IDEMPOTENCY_KEY="grant-42")
    assert (first.status_code, first.json()["replayed"], first.json()["freezes"]) == (200, False, 3)
    assert (again.status_code, again.json()["replayed"], again.json()["freezes"]) == (200, True, 3)
    other_count = admin_api.post(url, {"count": 2}, format="json", HTTP_IDEMPOTENCY_KEY="grant-42")
    other = services.member_for_user(make_user("other"))
    other_member = admin_api.post(f"/api/v1/admin/engagement/members/{other.user_id}/streak-freezes", {"count": 3},
                                  format="json", HTTP_IDEMPOTENCY_KEY="grant-42")
    assert (other_count.status_code, other_count.json()["code"]) == (409, "idempotency_conflict")
    assert (other_member.status_code, other_member.json()["code"]) == (409, "idempotency_conflict")
    assert row(member).freezes == 3 and not Streak.objects.filter(member=other).exists()
    grant = StreakFreezeGrant.objects.get()
    assert (grant.member_id, grant.count, grant.actor_id) == (member.pk, 3, admin_user.pk)
    # Without a key every request is a grant of its own.
    admin_api.post(url, {"count": 1}, format="json")
    admin_api.post(url, {"count": 1}, format="json")
    assert row(member).freezes == 5 and StreakFreezeGrant.objects.count() == 3


def _grant_with_one_key(member_pk):
    def grant(_):
        member = Member.objects.get(pk=member_pk)
        found, created = streaks.grant_freezes(member=member, count=2, actor=None, idempotency_key="freezes:1:k")
        return found.pk, created
    return grant


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_racing_retries_of_one_grant_grant_once(member):
    results, errors = run_concurrently(_grant_with_one_key(member.pk), threads=THREADS)
    assert errors == []
    assert len({pk for pk, _ in results}) == 1 and sorted(c for _, c in results) == [False] * (THREADS - 1) + [True]
    assert row(member).freezes == 2 and StreakFreezeGrant.objects.count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_negative_control_without_the_member_lock_racing_retries_collide_and_the_key_index_still_grants_once(
        member, monkeypatch):
    """Without the lock, every retry looks the key up before any has written it (held at a barrier): the
    race is real (THREADS - 1 INSERTs hit the key's unique index), and the index is what still grants once."""
    from engagement import ledger_sql

    looked_up, lookups_lock, barrier = [0], threading.Lock(), threading.Barrier(THREADS)
    real_lookup = streaks._earlier_grant

    def lookup_then_wait(key, member_, count):
        found = real_lookup(key, member_, count)
        with lookups_lock:
            looked_up[0] += 1
            first_round = looked_up[0] <= THREADS
        if first_round:
            barrier.wait(timeout=30)
        return found

    monkeypatch.setattr(ledger_sql, "lock_member", lambda member_id: None)
    monkeypatch.setattr(streaks, "_earlier_grant", lookup_then_wait)
    results, errors = run_concurrently(_grant_with_one_key(member.pk), threads=THREADS)
    assert errors == []
    assert looked_up[0] == THREADS + (THREADS - 1)  # every loser looked the key up again after its INSERT failed
    assert len({pk for pk, _ in results}) == 1 and sum(c for _, c in results) == 1
    assert row(member).freezes == 2 and StreakFreezeGrant.objects.count() == 1


@pytest.mark.django_db
def test_a_member_cannot_grant_themselves_freezes(member_api, member):
    url = f"/api/v1/admin/engagement/members/{member.user_id}/streak-freezes"
    assert member_api.post(url, {"count": 5}, format="json").status_code == 403
    assert not Streak.objects.filter(member=member).exists()


@pytest.mark.django_db
def test_both_endpoints_are_in_the_openapi_schema(api):
    paths = api.get("/api/schema/?format=json").json()["paths"]
    assert "/api/v1/engagement/streak" in paths
    assert "/api/v1/admin/engagement/members/{user_id}/streak-freezes" in paths


# --- Admin and page -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_member_admin_shows_filters_and_grants_freezes(client, admin_user, member, make_user):
    client.force_login(admin_user)
    other = services.member_for_user(make_user("other"))
    services.award(member=member, reason="manual", points=1)
    changelist = reverse("admin:engagement_member_changelist")
    for value in ("today", "alive", "best7", "best30", "frozen", "none"):
        assert client.get(changelist, {"streak": value}).status_code == 200
    today = client.get(changelist, {"streak": "today"})
    assert list(today.context["cl"].queryset) == [member]
    page = client.get(reverse("admin:engagement_member_change", args=[member.pk]))
    assert page.status_code == 200 and b"Current streak" in page.content
    response = client.post(changelist, {"action": "grant_streak_freezes", "_selected_action": [member.pk, other.pk],
                                        "freezes": "2"}, follow=True)
    assert b"Granted 2 streak freeze(s) to 2 member(s)." in response.content
    assert sorted(Streak.objects.values_list("freezes", flat=True)) == [2, 2]
    client.post(changelist, {"action": "grant_streak_freezes", "_selected_action": [member.pk], "freezes": "500"})
    assert row(member).freezes == 2


@pytest.mark.django_db
def test_the_fan_zone_shows_the_streak(client, user, member):
    services.award(member=member, reason="manual", points=1, at=datetime.now(UTC) - timedelta(days=1))
    services.award(member=member, reason="manual", points=1)
    streaks.grant_freezes(member=member, count=1, actor=None)
    client.force_login(user)
    response = client.get("/me/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<b id="streak-current">2</b>' in html
    assert '<b id="streak-best">2</b>' in html
    assert '<b id="streak-freezes">1</b>' in html
    assert "You have been active today." in html


# --- Races (PostgreSQL) -------------------------------------------------------------------------------

THREADS = 8


def _award_on_day_1(member_id):
    def run(i):
        return services.award(member=Member.objects.get(pk=member_id), reason="manual", points=1, at=on_day(1, 10))

    return run


def _member_with_a_two_day_streak(member):
    earn(member, -1)
    earn(member, 0)
    assert row(member).current == 2


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_racing_awards_on_a_new_day_bump_the_streak_once(member):
    _member_with_a_two_day_streak(member)
    results, errors = run_concurrently(_award_on_day_1(member.pk), threads=THREADS)
    assert (len(results), errors) == (THREADS, [])
    assert (row(member).current, row(member).best, row(member).last_active_day) == (3, 3, date(2026, 7, 2))


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_negative_control_without_the_member_lock_racing_awards_bump_the_streak_several_times(member, monkeypatch):
    from tests.engagement.test_concurrency import _unlocked_read_then_wait

    _member_with_a_two_day_streak(member)
    monkeypatch.setattr(services, "lock_member", _unlocked_read_then_wait(threading.Barrier(THREADS)))
    results, errors = run_concurrently(_award_on_day_1(member.pk), threads=THREADS)
    assert errors == []
    # Requests that read "last active yesterday" before another committed each added a day.
    assert row(member).current > 3


@pytest.mark.django_db
def test_the_grants_are_an_audit_list_in_the_admin(admin_client, admin_user, member):
    streaks.grant_freezes(member=member, count=4, actor=admin_user)
    page = admin_client.get(reverse("admin:engagement_streakfreezegrant_changelist"))
    assert page.status_code == 200
    assert f">{member}<" in page.content.decode() and ">4<" in page.content.decode()
    add = admin_client.get(reverse("admin:engagement_streakfreezegrant_add"))
    assert add.status_code == 403  # read-only: freezes move only through grant_freezes
