import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from engagement import achievements, services
from engagement.achievement_catalog import seed_achievements
from engagement.achievement_rules import MemberFacts, longest_run, progress, validate_rule
from engagement.admin_achievements import AchievementForm
from engagement.models import Achievement, Activity, LedgerEntry, MemberAchievement
from tests.concurrency import postgres_only, run_concurrently

URL = "/api/v1/engagement/achievements"


def comment(member, n=1, *, at=None):
    for _ in range(n):
        services.award(member=member, reason="comment_create", points=5, at=at)


@pytest.fixture(autouse=True)
def _fresh_achievement_triggers():
    """Each test sees its own achievements' rules, not a previous test's cached triggers."""
    achievements.clear_triggers()
    yield
    achievements.clear_triggers()


# --- Rules --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", [
    {"type": "reason_count", "reason": "comment_create", "min": 10},
    {"type": "level", "min": 5},
    {"type": "points", "min": 1000},
    {"type": "xp", "min": 1},
    {"type": "distinct_activities", "min": 3},
    {"type": "checkins", "min": 2},
    {"type": "streak", "days": 7},
    {"all": [{"type": "level", "min": 2}, {"any": [{"type": "xp", "min": 5}, {"type": "checkins", "min": 1}]}]},
])
def test_valid_rules_pass_validation(rule):
    # validate_rule raises ValidationError for a malformed rule and returns nothing for a good one.
    assert validate_rule(rule) is None


@pytest.mark.parametrize(("rule", "fragment"), [
    ([], "must be an object"),
    ({"type": "karma", "min": 1}, "unknown type 'karma'"),
    ({"type": "level"}, "rule.min must be a whole number"),
    ({"type": "level", "min": 0}, "rule.min must be a whole number"),
    ({"type": "level", "min": True}, "rule.min must be a whole number"),
    ({"type": "streak", "min": 3}, "unexpected key(s) min"),
    ({"type": "reason_count", "min": 3}, "rule.reason must be a reason slug"),
    ({"all": []}, "rule.all must be a non-empty list"),
    ({"all": [{"type": "xp", "min": 1}], "type": "xp"}, "must be the only key"),
    ({"any": [{"type": "xp", "min": "5"}]}, "rule.any[0].min"),
    ({"all": [{"all": [{"all": [{"all": [{"all": [{"xp": 1}]}]}]}]}]}, "nest at most"),
])
def test_invalid_rules_are_refused_with_where_they_break(rule, fragment):
    with pytest.raises(ValidationError) as exc:
        validate_rule(rule)
    assert fragment in exc.value.messages[0]


def test_longest_run_counts_consecutive_days_only():
    d = dt.date(2026, 3, 1)
    days = [d, d + dt.timedelta(1), d + dt.timedelta(3), d + dt.timedelta(4), d + dt.timedelta(5)]
    assert longest_run(days) == 3
    assert longest_run([]) == 0


@pytest.mark.django_db
def test_each_rule_type_reports_progress(member):
    booth = Activity.objects.create(name="Booth", slug="booth")
    talk = Activity.objects.create(name="Talk", slug="talk")
    day = timezone.now() - dt.timedelta(days=10)
    for offset in (0, 1, 2, 5):
        services.award(member=member, reason="checkin", points=50, activity=booth if offset else talk,
                       at=day + dt.timedelta(days=offset))
    services.spend(member=member, points=150)
    services.refund(member=member, points=20)
    facts = MemberFacts(member)
    member.refresh_from_db()
    assert progress({"type": "checkins", "min": 10}, facts).as_dict() == {"current": 4, "target": 10}
    assert progress({"type": "points", "min": 500}, facts).as_dict() == {"current": 200, "target": 500}
    assert progress({"type": "xp", "min": 150}, facts).met
    assert progress({"type": "level", "min": 2}, facts).met
    assert progress({"type": "distinct_activities", "min": 3}, facts).as_dict() == {"current": 2, "target": 3}
    assert progress({"type": "streak", "days": 5}, facts).as_dict() == {"current": 3, "target": 5}
    both = {"all": [{"type": "checkins", "min": 1}, {"type": "streak", "days": 5}]}
    assert progress(both, facts).as_dict() == {"current": 1, "target": 2}
    either = {"any": [{"type": "checkins", "min": 8}, {"type": "distinct_activities", "min": 3}]}
    assert progress(either, facts).as_dict() == {"current": 2, "target": 3}  # 2/3 is nearer than 4/8


@pytest.mark.django_db
def test_model_clean_and_admin_form_refuse_a_bad_rule():
    achievement = Achievement(code="x", title="X", rule={"type": "level", "min": -1})
    with pytest.raises(ValidationError) as exc:
        achievement.full_clean()
    assert "rule" in exc.value.message_dict
    form = AchievementForm(data={"code": "y", "title": "Y", "description": "", "icon": "", "points": 1, "xp": 1,
                                 "rule": '{"type": "streak"}', "active": True, "position": 0})
    assert not form.is_valid()
    assert "rule.days" in form.errors["rule"][0]
    form = AchievementForm(data={"code": "y", "title": "Y", "description": "", "icon": "", "points": 1, "xp": 1,
                                 "rule": '{"type": "streak", "days": 3}', "active": True, "position": 0})
    assert form.is_valid(), form.errors


# --- Seeds and evaluation ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_contract_achievements_are_seeded():
    seeded = {a.code: (a.points, a.xp) for a in Achievement.objects.all()}
    assert seeded == {
        "first_comment": (10, 10), "first_vote": (8, 8), "newsletter_sub": (12, 12), "comments_10": (20, 20),
        "votes_10": (20, 20), "comments_50": (50, 50), "votes_50": (50, 50), "comments_100": (100, 100),
    }


@pytest.mark.django_db
def test_a_first_comment_unlocks_once_pays_through_the_ledger_and_emails(
        member, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        comment(member)
    unlock = MemberAchievement.objects.get(member=member)
    assert unlock.achievement.code == "first_comment"
    assert (unlock.entry.reason, unlock.entry.points, unlock.entry.xp) == ("achievement:first_comment", 10, 10)
    assert unlock.entry.idempotency_key == f"achievement:first_comment:{member.pk}"
    member.refresh_from_db()
    assert member.points == 15
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [member.user.email]
    assert "First comment" in mailoutbox[0].subject
    with django_capture_on_commit_callbacks(execute=True):
        comment(member)
    assert MemberAchievement.objects.filter(member=member).count() == 1
    assert LedgerEntry.objects.filter(member=member, reason__startswith="achievement:").count() == 1


@pytest.mark.django_db
def test_evaluating_twice_unlocks_nothing_new(member):
    comment(member, 10)
    first = achievements.evaluate_member(member_id=member.pk)
    assert sorted(u.achievement.code for u in first) == ["comments_10", "first_comment"]
    assert achievements.evaluate_member(member_id=member.pk) == []
    assert LedgerEntry.objects.filter(member=member, reason__startswith="achievement:").count() == 2


@pytest.mark.django_db
def test_an_unlock_that_raises_the_level_cascades_to_level_achievements(member):
    Achievement.objects.create(code="level_2", title="Level 2", points=1, xp=1, rule={"type": "level", "min": 2})
    Achievement.objects.create(code="big", title="Big", points=0, xp=100,
                               rule={"type": "reason_count", "reason": "comment_create", "min": 1})
    comment(member)  # 5 XP: level 1; "big" adds 100 XP and first_comment 10 → level 2
    codes = {u.achievement.code for u in achievements.evaluate_member(member_id=member.pk)}
    assert codes == {"first_comment", "big", "level_2"}


@pytest.fixture
def enqueued(monkeypatch):
    from config import outbox
    from engagement.tasks import evaluate_achievements

    calls = []
    monkeypatch.setattr(outbox, "enqueue",
                        lambda task, **kwargs: calls.append(kwargs) if task is evaluate_achievements else None)
    achievements.clear_triggers()
    yield calls
    achievements.clear_triggers()


@pytest.mark.django_db
def test_only_entries_that_can_move_a_rule_enqueue_an_evaluation(member, enqueued):
    services.award(member=member, reason="achievement:first_comment", points=10)  # an unlock's own entry
    services.award(member=member, reason="claim", points=3)  # no seeded rule counts claims
    assert enqueued == []
    comment(member)
    assert enqueued == [{"member_id": member.pk}]
    Achievement.objects.create(code="xp_1", title="XP", rule={"any": [{"type": "xp", "min": 1000}]})
    achievements.clear_triggers()
    services.award(member=member, reason="claim", points=3)
    assert enqueued[-1] == {"member_id": member.pk} and len(enqueued) == 2


@pytest.mark.django_db
def test_inactive_achievements_are_not_unlocked(member):
    Achievement.objects.filter(code="first_comment").update(active=False)
    comment(member)
    assert achievements.evaluate_member(member_id=member.pk) == []


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_racing_evaluations_unlock_and_pay_exactly_once(member):
    seed_achievements(Achievement)  # a transactional test may start after another one's flush
    # Committed transactions run the after-commit evaluation at once; keep it from unlocking early.
    Achievement.objects.update(active=False)
    achievements.clear_triggers()
    comment(member)
    Achievement.objects.filter(code="first_comment").update(active=True)

    def evaluate(_):
        return len(achievements.evaluate_member(member_id=member.pk))

    results, errors = run_concurrently(evaluate, threads=4)
    assert errors == []
    assert sum(results) == 1
    assert MemberAchievement.objects.filter(member=member).count() == 1
    assert LedgerEntry.objects.filter(member=member, reason="achievement:first_comment").count() == 1


# --- API -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_lists_achievements_with_progress_and_counters(member, member_api):
    comment(member, 3)
    services.award(member=member, reason="poll_vote")
    achievements.evaluate_member(member_id=member.pk)
    body = member_api.get(URL).json()
    by_code = {a["code"]: a for a in body["achievements"]}
    assert len(by_code) == 8
    first = by_code["first_comment"]
    # The contract's fields, plus the additive "category" (null for an uncategorised achievement).
    assert set(first) == {"id", "code", "title", "description", "points", "xp", "icon", "achieved", "achieved_at",
                          "progress", "category"}
    assert first["category"] is None
    assert first["achieved"] is True and first["achieved_at"] is not None
    assert first["progress"] == {"current": 1, "target": 1}
    assert by_code["comments_10"] == {**by_code["comments_10"], "achieved": False, "achieved_at": None,
                                      "progress": {"current": 3, "target": 10}}
    assert body["counters"] == {"comments": 3, "votes": 1, "newsletter": 0, "checkins": 0, "reactions": 0,
                                "achievements": 2}
    assert member_api.get("/api/v1/engagement/profile").json()["achievements"] == 2


@pytest.mark.django_db
def test_titles_are_translated_to_czech(member_api):
    body = member_api.get(URL, HTTP_ACCEPT_LANGUAGE="cs").json()
    titles = {a["code"]: a["title"] for a in body["achievements"]}
    assert titles["first_comment"] == "První komentář"
    assert titles["comments_100"] == "Veterán diskuzí"
    assert titles["votes_50"] == "Věrný fanoušek"
    english = member_api.get(URL, HTTP_ACCEPT_LANGUAGE="en").json()
    assert {a["code"]: a["title"] for a in english["achievements"]}["first_comment"] == "First comment"


@pytest.mark.django_db
def test_the_api_needs_a_login(api):
    response = api.get(URL)
    assert response.status_code in (401, 403)
    assert response.json()["code"] in ("not_authenticated", "authentication_failed")


# --- Command ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_evaluate_command_dry_run_reports_and_changes_nothing_then_unlocks(member, capsys):
    comment(member)
    call_command("evaluate_achievements", "--dry-run", "--no-progress")
    out = capsys.readouterr().out
    assert "would unlock: first_comment" in out
    assert "Would unlock 1 achievement(s) for 1 of 1 member(s)." in out
    assert not MemberAchievement.objects.exists()
    call_command("evaluate_achievements", "--no-progress")
    assert "Unlocked 1 achievement(s) for 1 of 1 member(s)." in capsys.readouterr().out
    assert MemberAchievement.objects.filter(member=member, achievement__code="first_comment").exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_negative_control_without_the_member_lock_racers_collide_on_the_unique_constraint(member, monkeypatch):
    """Proves the race above is real: with the lock replaced by a barrier every evaluation passes the
    "not unlocked yet" check together; the unique constraint alone still keeps it to one unlock."""
    import threading

    from django.db import IntegrityError

    seed_achievements(Achievement)
    Achievement.objects.update(active=False)
    achievements.clear_triggers()
    comment(member)
    Achievement.objects.filter(code="first_comment").update(active=True)
    together, real_lock, seen = threading.Barrier(4), services.lock_member, threading.local()

    def barrier_instead_of_the_first_lock(pk):
        if getattr(seen, "passed", False):
            return real_lock(pk)  # the award's own lock, further down
        seen.passed = True
        together.wait(10)

    monkeypatch.setattr(services, "lock_member", barrier_instead_of_the_first_lock)

    results, errors = run_concurrently(lambda _: len(achievements.evaluate_member(member_id=member.pk)), threads=4)
    assert sum(results) == 1
    assert len(errors) == 3 and all(isinstance(e, IntegrityError) for e in errors)
    assert MemberAchievement.objects.filter(member=member).count() == 1
    assert LedgerEntry.objects.filter(member=member, reason="achievement:first_comment").count() == 1


@pytest.mark.django_db
def test_admin_pages_for_achievements_unlocks_and_campaigns_render(admin_client, member):
    comment(member)
    achievements.evaluate_member(member_id=member.pk)
    for url in ("/admin/engagement/achievement/", "/admin/engagement/achievement/add/",
                f"/admin/engagement/achievement/{Achievement.objects.get(code='first_comment').pk}/change/",
                "/admin/engagement/memberachievement/", "/admin/engagement/campaign/",
                "/admin/engagement/campaign/add/"):
        assert admin_client.get(url).status_code == 200, url
    response = admin_client.post("/admin/engagement/achievement/add/", {
        "code": "streaker", "title": "Streaker", "description": "", "icon": "🔥", "points": 5, "xp": 5,
        "rule": '{"type": "streak", "days": 0}', "active": "on", "position": 9})
    assert response.status_code == 200 and "rule.days must be a whole number" in response.content.decode()
    assert not Achievement.objects.filter(code="streaker").exists()
