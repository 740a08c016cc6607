import datetime as dt
import threading
from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection
from django.utils import timezone
from rest_framework.test import APIClient

from engagement import challenges, demo, moderation, services
from engagement.achievement_rules import MemberFacts, progress, validate_rule
from engagement.admin_challenges import ChallengeForm
from engagement.models import Activity, Challenge, ChallengeCompletion, LedgerEntry, Member
from tests.concurrency import postgres_only, run_concurrently

URL = "/api/v1/engagement/challenges"
WEEKLY = {"all": [{"type": "reason_count", "reason": "comment_create", "min": 5}, {"type": "checkins", "min": 2}]}


@pytest.fixture
def now():
    return timezone.now()


def make_challenge(now, *, code="weekly", rule=WEEKLY, points=30, xp=30, **extra) -> Challenge:
    fields = {"starts_at": now - dt.timedelta(days=1), "ends_at": now + dt.timedelta(days=6), **extra}
    return Challenge.objects.create(code=code, title="Weekly regular", rule=rule, points=points, xp=xp, **fields)


def comment(member, n=1, *, at=None):
    for _ in range(n):
        services.award(member=member, reason="comment_create", points=5, at=at)


def checkin(member, n=1, *, at=None, activity=None):
    for _ in range(n):
        services.award(member=member, reason="checkin", points=2, at=at, activity=activity)


# --- Rules over a window ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("rule", "fragment"), [
    ({"type": "level", "min": 5}, "rule: 'level' cannot be counted inside a challenge's time window"),
    ({"all": [{"type": "checkins", "min": 1}, {"any": [{"type": "level", "min": 2}]}]},
     "rule.all[1].any[0]: 'level' cannot be counted"),
    # A member's best streak is a state, not a count of entries: known, but not inside a window.
    ({"type": "streak_days", "min": 7}, "rule: 'streak_days' cannot be counted inside a challenge's time window"),
    ({"type": "checkins", "min": 0}, "rule.min must be a whole number"),
])
def test_windowed_rules_refuse_what_a_window_cannot_count(rule, fragment):
    with pytest.raises(ValidationError) as exc:
        validate_rule(rule, windowed=True)
    assert exc.value.code == "invalid_rule"
    assert fragment in exc.value.messages[0]


def test_achievements_keep_the_level_leaf():
    # What a challenge refuses stays valid for an achievement, and the challenge's own rule is valid.
    assert validate_rule({"type": "level", "min": 5}) is None
    assert validate_rule(WEEKLY, windowed=True) is None
    with pytest.raises(ValidationError):
        validate_rule({"type": "level", "min": 5}, windowed=True)


@pytest.mark.django_db
def test_every_windowed_leaf_counts_only_entries_inside_the_window(member, now):
    keynote = Activity.objects.create(slug="keynote", name="Keynote")
    booths = Activity.objects.create(slug="booths", name="Booths")
    start, end = now - dt.timedelta(days=1), now + dt.timedelta(days=1)
    before, after = start - dt.timedelta(seconds=1), end
    for at in (before, after):  # outside: one of everything
        comment(member, at=at)
        checkin(member, at=at, activity=booths)
    comment(member, 2, at=start)  # the start is inside, the end is not
    checkin(member, at=now, activity=keynote)
    checkin(member, at=now - dt.timedelta(hours=30), activity=booths)  # outside, the day before
    services.award(member=member, reason="challenge:other", points=100, xp=100, at=now)  # a reward: never counts
    facts = MemberFacts(member, window=(start, end))
    current = {kind: progress({"type": kind, "min": 1}, facts).current
               for kind in ("checkins", "points", "xp", "distinct_activities")}
    assert current == {"checkins": 1, "points": 12, "xp": 12, "distinct_activities": 1}
    assert progress({"type": "reason_count", "reason": "comment_create", "min": 9}, facts).current == 2
    assert progress({"type": "streak", "days": 9}, facts).current == 2  # start's day and today
    scoped = MemberFacts(member, window=(start, end), activity_id=keynote.pk)
    assert progress({"type": "checkins", "min": 1}, scoped).current == 1
    assert progress({"type": "reason_count", "reason": "comment_create", "min": 1}, scoped).current == 0
    unwindowed = MemberFacts(member)
    assert progress({"type": "xp", "min": 1}, unwindowed).current == member.xp == 5 * 4 + 2 * 4 + 100


@pytest.mark.django_db
def test_model_clean_and_admin_form_refuse_level_and_a_backwards_window(now):
    challenge = Challenge(code="lvl", title="Level", rule={"type": "level", "min": 2}, starts_at=now, ends_at=now)
    with pytest.raises(ValidationError) as exc:
        challenge.full_clean()
    assert set(exc.value.message_dict) == {"rule", "ends_at"}
    form = ChallengeForm(data={"code": "lvl", "title": "Level", "rule": '{"type": "level", "min": 2}',
                               "starts_at": now, "ends_at": now + dt.timedelta(days=1), "points": 1, "xp": 1,
                               "position": 0, "active": "on"})
    assert not form.is_valid()
    assert "cannot be counted inside a challenge" in str(form.errors["rule"])


# --- Completion ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_completing_pays_the_reward_once_as_an_ordinary_ledger_entry(member, now):
    challenge = make_challenge(now)
    comment(member, 5)
    checkin(member, 1)
    assert challenges.evaluate_member(member_id=member.pk) == []  # 1 of 2 check-ins
    checkin(member, 1)
    [completion] = challenges.evaluate_member(member_id=member.pk)
    assert completion.challenge == challenge
    entry = completion.entry
    assert (entry.reason, entry.points, entry.xp) == ("challenge:weekly", 30, 30)
    assert entry.idempotency_key == f"challenge:weekly:{member.pk}"
    assert entry.meta == {"challenge": "weekly"}
    assert challenges.evaluate_member(member_id=member.pk) == []
    assert challenges.complete(member=member, challenge=challenge, at=now) is None
    assert LedgerEntry.objects.filter(member=member, reason="challenge:weekly").count() == 1
    member.refresh_from_db()
    assert member.points == 5 * 5 + 2 * 2 + 30
    call_command("verify_ledger", "--no-progress")


@pytest.mark.django_db
def test_entries_outside_the_window_and_ended_or_inactive_challenges_complete_nothing(member, now):
    make_challenge(now, code="later", starts_at=now + dt.timedelta(hours=1), ends_at=now + dt.timedelta(days=1))
    make_challenge(now, code="off", active=False)
    make_challenge(now, code="long-gone", starts_at=now - dt.timedelta(days=9), ends_at=now - dt.timedelta(days=2))
    comment(member, 5)
    checkin(member, 2)
    comment(member, 5, at=now - dt.timedelta(days=5))
    checkin(member, 2, at=now - dt.timedelta(days=5))
    assert challenges.evaluate_member(member_id=member.pk) == []
    assert not ChallengeCompletion.objects.exists()


@pytest.mark.django_db
def test_a_challenge_that_ended_within_the_grace_still_completes_from_its_window(member, now):
    """A broker outage can delay the after-commit evaluation past the end; the window's entries decide."""
    challenge = make_challenge(now, rule={"type": "checkins", "min": 2},
                               starts_at=now - dt.timedelta(days=3), ends_at=now - dt.timedelta(hours=2))
    checkin(member, 2, at=now - dt.timedelta(hours=3))
    [completion] = challenges.evaluate_member(member_id=member.pk)
    assert completion.challenge == challenge


@pytest.mark.django_db
def test_a_banned_member_completes_nothing(member, admin_user, now):
    make_challenge(now, rule={"type": "checkins", "min": 1})
    checkin(member)
    moderation.ban_member(member=member, reason="spam", actor=admin_user)
    assert challenges.evaluate_member(member_id=member.pk) == []
    assert not ChallengeCompletion.objects.exists()


@pytest.mark.django_db
def test_a_challenge_without_a_reward_records_the_completion_only(member, now):
    make_challenge(now, rule={"type": "checkins", "min": 1}, points=0, xp=0)
    checkin(member)
    [completion] = challenges.evaluate_member(member_id=member.pk)
    assert completion.entry is None
    assert not LedgerEntry.objects.filter(reason__startswith="challenge:").exists()


@pytest.mark.django_db
def test_an_activity_scoped_challenge_pays_in_that_activity(member, now):
    keynote = Activity.objects.create(slug="keynote", name="Keynote")
    make_challenge(now, rule={"type": "checkins", "min": 2}, activity=keynote)
    checkin(member, 1, activity=keynote)
    checkin(member, 1)
    assert challenges.evaluate_member(member_id=member.pk) == []
    checkin(member, 1, activity=keynote)
    [completion] = challenges.evaluate_member(member_id=member.pk)
    assert completion.entry.activity == keynote


# --- After-commit evaluation through the outbox --------------------------------------------------------


@pytest.mark.django_db
def test_the_award_that_meets_a_challenge_completes_it_after_commit(member, now, django_capture_on_commit_callbacks):
    make_challenge(now, rule={"type": "reason_count", "reason": "comment_create", "min": 2})
    with django_capture_on_commit_callbacks(execute=True):
        comment(member)
    assert not ChallengeCompletion.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        comment(member)
    completion = ChallengeCompletion.objects.get(member=member)
    assert completion.entry.reason == "challenge:weekly"


@pytest.fixture
def enqueued(monkeypatch):
    from config import outbox
    from engagement.tasks import evaluate_challenges

    calls = []
    monkeypatch.setattr(outbox, "enqueue",
                        lambda task, **kwargs: calls.append(kwargs) if task is evaluate_challenges else None)
    return calls


@pytest.mark.django_db
def test_only_entries_inside_a_live_window_that_move_its_rule_enqueue_an_evaluation(member, now, enqueued):
    comment(member)  # no challenge at all
    make_challenge(now, rule={"type": "checkins", "min": 2})
    comment(member)  # a reason the rule does not count
    checkin(member, at=now - dt.timedelta(days=2))  # before the window
    services.award(member=member, reason="challenge:weekly", points=30)  # a challenge's own reward
    assert enqueued == []
    checkin(member)
    assert enqueued == [{"member_id": member.pk}]


# --- Racing completions (PostgreSQL, real threads, committed transactions) ------------------------------


def _race_setup(member) -> Challenge:
    # Entries first, then the challenge: their own after-commit evaluation must find nothing to complete.
    comment(member, 5)
    checkin(member, 2)
    now = timezone.now()
    return make_challenge(now)


def _evaluate(member_id):
    return lambda _: len(challenges.evaluate_member(member_id=member_id))


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_racing_completions_of_one_challenge_pay_exactly_once(member):
    _race_setup(member)
    results, errors = run_concurrently(_evaluate(member.pk), threads=8)
    assert errors == []
    assert sum(results) == 1
    assert ChallengeCompletion.objects.filter(member=member).count() == 1
    assert LedgerEntry.objects.filter(member=member, reason="challenge:weekly").count() == 1
    call_command("verify_ledger", "--no-progress")


def _barrier_instead_of_the_first_lock(monkeypatch, parties):
    """Every racer passes the "not completed yet" check together; the award's own lock stays real."""
    together, real_lock, seen = threading.Barrier(parties), services.lock_member, threading.local()

    def lock(pk):
        if getattr(seen, "passed", False):
            return real_lock(pk)
        seen.passed = True
        together.wait(30)
        return Member.objects.get(pk=pk)

    monkeypatch.setattr(services, "lock_member", lock)


@contextmanager
def _without_the_completion_constraint():
    [constraint] = [c for c in ChallengeCompletion._meta.constraints if c.name == "engagement_challenge_completed_once"]
    with connection.schema_editor() as editor:
        editor.remove_constraint(ChallengeCompletion, constraint)
    try:
        yield
    finally:
        ChallengeCompletion.objects.all().delete()  # duplicates would stop the constraint coming back
        with connection.schema_editor() as editor:
            editor.add_constraint(ChallengeCompletion, constraint)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_negative_control_without_lock_constraint_and_key_every_racer_is_paid(member, monkeypatch):
    """Proves the race above is real: with the member lock, the unique constraint and the idempotency
    key all removed, every racing evaluation pays the reward."""
    _race_setup(member)
    _barrier_instead_of_the_first_lock(monkeypatch, 8)
    monkeypatch.setattr(challenges, "payment_key", lambda challenge, member_id: None)
    with _without_the_completion_constraint():
        results, errors = run_concurrently(_evaluate(member.pk), threads=8)
        assert errors == []
        assert sum(results) == 8
        assert LedgerEntry.objects.filter(member=member, reason="challenge:weekly").count() == 8


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_without_the_lock_the_unique_constraint_alone_still_pays_once(member, monkeypatch):
    _race_setup(member)
    _barrier_instead_of_the_first_lock(monkeypatch, 8)
    monkeypatch.setattr(challenges, "payment_key", lambda challenge, member_id: None)
    results, errors = run_concurrently(_evaluate(member.pk), threads=8)
    assert sum(results) == 1
    assert len(errors) == 7 and all(isinstance(e, IntegrityError) for e in errors)
    assert LedgerEntry.objects.filter(member=member, reason="challenge:weekly").count() == 1


# --- API -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_lists_open_challenges_with_progress_per_goal_and_time_left(member, member_api, now):
    make_challenge(now)
    make_challenge(now, code="over", starts_at=now - dt.timedelta(days=9), ends_at=now - dt.timedelta(days=2))
    comment(member, 3)
    checkin(member, 2)
    response = member_api.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "open"
    [item] = body["challenges"]
    assert set(item) == {"id", "code", "title", "description", "icon", "points", "xp", "activity", "starts_at",
                         "ends_at", "seconds_left", "completed", "completed_at", "progress", "goals"}
    assert item["code"] == "weekly" and item["completed"] is False and item["completed_at"] is None
    assert item["progress"] == {"current": 1, "target": 2}  # goals met of goals
    assert item["goals"] == [
        {"type": "reason_count", "reason": "comment_create", "label": "Comments",
         "progress": {"current": 3, "target": 5}},
        {"type": "checkins", "reason": None, "label": "Check-ins", "progress": {"current": 2, "target": 2}},
    ]
    assert 5 * 86400 < item["seconds_left"] <= 6 * 86400


@pytest.mark.django_db
def test_reading_completes_a_met_challenge_and_the_states_filter(member, member_api, now):
    make_challenge(now)
    make_challenge(now, code="over", starts_at=now - dt.timedelta(days=9), ends_at=now - dt.timedelta(days=2))
    comment(member, 5)
    checkin(member, 2)  # no after-commit evaluation in this test: the read completes it
    [item] = member_api.get(URL).json()["challenges"]
    assert item["completed"] is True and item["completed_at"] is not None
    assert item["progress"] == {"current": 2, "target": 2}
    assert LedgerEntry.objects.filter(member=member, reason="challenge:weekly").count() == 1
    member_api.get(URL)
    assert LedgerEntry.objects.filter(member=member, reason="challenge:weekly").count() == 1
    assert [c["code"] for c in member_api.get(URL, {"state": "completed"}).json()["challenges"]] == ["weekly"]
    assert [c["code"] for c in member_api.get(URL, {"state": "all"}).json()["challenges"]] == ["weekly", "over"]


@pytest.mark.django_db
def test_a_completed_challenge_stays_complete_after_an_admin_raises_its_target(member, member_api, now):
    challenge = make_challenge(now, rule={"type": "checkins", "min": 1})
    checkin(member)
    challenges.evaluate_member(member_id=member.pk)
    Challenge.objects.filter(pk=challenge.pk).update(rule={"type": "checkins", "min": 5})
    [item] = member_api.get(URL).json()["challenges"]
    assert item["completed"] is True and item["progress"] == {"current": 5, "target": 5}


@pytest.mark.django_db
def test_the_api_refuses_an_unknown_state_and_needs_a_login(member_api):
    response = member_api.get(URL, {"state": "expired"})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    response = APIClient().get(URL)
    assert response.status_code in (401, 403)
    assert response.json()["code"] in ("not_authenticated", "authentication_failed")


@pytest.mark.django_db
def test_titles_and_labels_are_translated_to_czech(member, member_api, now):
    make_challenge(now)
    [item] = member_api.get(URL, HTTP_ACCEPT_LANGUAGE="cs").json()["challenges"]
    assert item["title"] == "Pravidelný návštěvník"
    assert [g["label"] for g in item["goals"]] == ["Komentáře", "Příchody"]


@pytest.mark.django_db
def test_the_schema_describes_the_endpoint(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/engagement/challenges"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["state"]


# --- Admin, fan zone, demo -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_pages_render_and_the_reevaluate_action_completes_through_the_outbox(
        admin_client, member, now, django_capture_on_commit_callbacks):
    challenge = make_challenge(now, rule={"type": "checkins", "min": 1})
    checkin(member)
    for url in ("/admin/engagement/challenge/", "/admin/engagement/challenge/add/",
                f"/admin/engagement/challenge/{challenge.pk}/change/", "/admin/engagement/challengecompletion/"):
        assert admin_client.get(url).status_code == 200, url
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/engagement/challenge/", {
            "action": "reevaluate", "_selected_action": [challenge.pk]}, follow=True)
    assert "Queued 1 active challenge(s) for evaluation." in response.content.decode()
    assert ChallengeCompletion.objects.get().member == member
    assert admin_client.get("/admin/engagement/challengecompletion/").status_code == 200


@pytest.mark.django_db
def test_evaluate_challenge_completes_every_member_who_met_it_once(make_user, now):
    challenge = make_challenge(now, rule={"type": "checkins", "min": 1})
    members = [services.member_for_user(make_user(f"fan{i}")) for i in range(3)]
    for m in members[:2]:
        checkin(m)
    assert challenges.evaluate_challenge(challenge_id=challenge.pk) == 2
    assert challenges.evaluate_challenge(challenge_id=challenge.pk) == 0
    assert set(ChallengeCompletion.objects.values_list("member_id", flat=True)) == {m.pk for m in members[:2]}


@pytest.mark.django_db
def test_the_fan_zone_lists_open_challenges_with_progress_bars_and_time_left(client, user, member, now):
    make_challenge(now, icon="📅")
    comment(member, 3)
    client.force_login(user)
    page = client.get("/me/").content.decode()
    assert 'id="challenges"' in page and "Weekly regular" in page
    assert "Comments: 3 / 5" in page and 'data-percent="60"' in page
    assert "left" in page and 'data-seconds-left="' in page


@pytest.mark.django_db
def test_the_demo_seeds_one_weekly_challenge_idempotently(db):
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    [challenge] = Challenge.objects.all()
    assert challenge.code.startswith("weekly-regular-")
    assert challenge.ends_at - challenge.starts_at == dt.timedelta(days=7)
    assert timezone.localtime(challenge.starts_at).weekday() == 0
    challenge.full_clean()
    assert demo.weekly_challenge() == challenge
