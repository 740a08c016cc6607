"""Hidden members on the rank path of scoped and windowed boards: ``LeaderboardTotal.listed``.

A rank subtracts the hidden (opted-out or banned) members above the viewer. On LeaderboardTotal boards
those are the rows whose ``listed`` copy of the member's flags is False (a partial index), so the copy
must be exact: written with a new row under the member's lock, rewritten under it whenever the flags
change (opt-out, ban, unban, the ban expiry sweep, the admin), restored by a rebuild. Proven here on
every path, under real concurrency on PostgreSQL, with a negative control.
"""

import datetime as dt
import random
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from engagement import moderation, services
from engagement.errors import MemberBanned
from engagement.leaderboards import histogram, index, leaderboard, totals
from engagement.leaderboards.sql import SqlSource
from engagement.models import Activity, LeaderboardTotal, Member
from tests.concurrency import postgres_only, run_concurrently

NOW = timezone.make_aware(dt.datetime(2026, 4, 15, 12, 0))


def listed_rows(member) -> set[bool]:
    return set(LeaderboardTotal.objects.filter(member=member).values_list("listed", flat=True))


def activity_board(activity, base="points"):
    return SqlSource(scope=activity.pk, period=LeaderboardTotal.Period.ALL, start=dt.date(1970, 1, 1), base=base)


@pytest.mark.django_db
def test_every_change_of_who_is_listed_is_copied_onto_the_totals(make_user):
    booth = Activity.objects.create(name="Booth", slug="booth")
    a, b = (services.member_for_user(make_user(n)) for n in ("a", "b"))
    for member, points in ((a, 30), (b, 20)):
        services.award(member=member, reason="test_award", points=points, activity=booth, at=NOW)
    assert listed_rows(a) == {True}
    board = activity_board(booth)
    assert board.count_above(20) == 1

    index.set_visibility(member=a, visible=False)
    assert listed_rows(a) == {False} and board.count_above(20) == 0
    services.award(member=a, reason="test_award", points=5, activity=booth, at=NOW + dt.timedelta(days=40))
    assert listed_rows(a) == {False}  # rows inserted while hidden are born hidden
    index.set_visibility(member=a, visible=True)
    assert listed_rows(a) == {True} and board.count_above(20) == 1

    moderation.ban_member(member=a, reason="spam", actor=None, until=timezone.now() + dt.timedelta(hours=1))
    assert listed_rows(a) == {False} and leaderboard(viewer=b, activity=booth, use_redis=False, at=NOW).me.rank == 1
    moderation.end_expired_bans(at=timezone.now() + dt.timedelta(hours=2))
    assert listed_rows(a) == {True}
    moderation.ban_member(member=a, reason="spam", actor=None)
    moderation.unban_member(member=a, actor=None)
    assert listed_rows(a) == {True} and leaderboard(viewer=b, activity=booth, use_redis=False, at=NOW).me.rank == 2
    assert totals.listed_mismatches() == []


@pytest.mark.django_db
def test_the_admin_opt_out_is_copied_onto_the_totals(admin_client, make_user):
    member = services.member_for_user(make_user("shy"))
    services.award(member=member, reason="test_award", points=10, at=NOW)
    url = f"/admin/engagement/member/{member.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update({"show_on_leaderboard": "", "user": member.user_id})
    response = admin_client.post(url, data)
    assert response.status_code == 302, getattr(response, "context", None) and response.context["adminform"].errors
    assert Member.objects.get(pk=member.pk).show_on_leaderboard is False
    assert listed_rows(member) == {False}


@pytest.mark.django_db
def test_a_rebuild_restores_the_copy_and_verify_ledger_reports_it(make_user, capsys):
    booth = Activity.objects.create(name="Booth", slug="booth")
    members = [services.member_for_user(make_user(f"r{i}")) for i in range(3)]
    for i, member in enumerate(members):
        services.award(member=member, reason="test_award", points=10 * (i + 1), activity=booth, at=NOW)
    index.set_visibility(member=members[0], visible=False)
    # A flag changed behind the services' back (a raw UPDATE): the copy is now wrong both ways.
    Member.objects.filter(pk=members[1].pk).update(banned=True)
    LeaderboardTotal.objects.filter(member=members[0]).update(listed=True)
    assert len(totals.listed_mismatches(limit=100)) == 2 * LeaderboardTotal.objects.filter(member=members[0]).count()
    with pytest.raises(CommandError, match="totals are off in 14 place"):
        call_command("verify_ledger", "--no-progress")
    assert "leaderboard total" in capsys.readouterr().err
    call_command("rebuild_leaderboards", "--no-progress")
    assert totals.listed_mismatches() == [] and histogram.mismatches() == []
    assert [listed_rows(m) for m in members] == [{False}, {False}, {True}]
    call_command("verify_ledger", "--no-progress")


@pytest.mark.django_db
def test_sync_listed_over_every_row_is_the_migrations_backfill(make_user):
    members = [services.member_for_user(make_user(f"m{i}")) for i in range(4)]
    for member in members:
        services.award(member=member, reason="test_award", points=3, at=NOW)
    # What the column's default leaves before the backfill: every row listed, whatever its member's flags.
    Member.objects.filter(pk__in=[members[0].pk, members[2].pk]).update(show_on_leaderboard=False)
    Member.objects.filter(pk=members[3].pk).update(banned=True)
    assert totals.sync_listed() == 3 * LeaderboardTotal.objects.filter(member=members[0]).count()
    assert totals.listed_mismatches() == []
    assert totals.sync_listed() == 0


# --- Concurrency (PostgreSQL, real threads, committed transactions) -------------------------------------

THREADS = 8


def _award_and_toggle(member_ids, activities, rounds):
    def run(i):
        rng = random.Random(i)
        for _ in range(rounds):
            member = Member.objects.get(pk=rng.choice(member_ids))
            if i < 2:  # two threads change who is listed while six award
                if rng.random() < 0.5:
                    index.set_visibility(member=member, visible=not member.show_on_leaderboard)
                elif member.banned:
                    try:
                        moderation.unban_member(member=member, actor=None)
                    except moderation.ModerationError as exc:
                        # The other toggling thread lifted this ban after we read the member: refused
                        # under the lock, as it should be.
                        assert exc.code == "not_banned"
                else:
                    moderation.ban_member(member=member, reason="race", actor=None)
            else:
                # A new activity is a new board: its first award inserts the member's row there.
                try:
                    services.award(member=member, reason="test_award", points=rng.choice([1, 3, 300]),
                                   xp=rng.choice([0, 5]), activity=rng.choice(activities))
                except MemberBanned:
                    pass  # banned by a racing thread after we read the member: refused under the lock
        return i

    return run


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_awards_and_visibility_changes_keep_the_copy_exact(make_user):
    activities = [Activity.objects.create(name=f"Booth {i}", slug=f"booth-{i}") for i in range(8)]
    members = [services.member_for_user(make_user(f"t{i}")) for i in range(4)]
    results, errors = run_concurrently(_award_and_toggle([m.pk for m in members], activities, rounds=15),
                                       threads=THREADS)
    assert errors == [] and len(results) == THREADS
    assert LeaderboardTotal.objects.filter(scope__in=[a.pk for a in activities]).exists()
    assert totals.listed_mismatches() == []
    call_command("verify_ledger", "--no-progress")
    for activity in activities:
        for base in ("points", "xp"):
            board = activity_board(activity, base)
            for v in (0, 1, 2, 3, 4, 299, 300, 305):
                assert board.count_above(v) == board.count_above_by_index(v), (activity.pk, base, v)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_negative_control_a_copy_taken_before_the_lock_goes_stale(make_user, monkeypatch):
    booth = Activity.objects.create(name="Booth", slug="booth")
    member = services.member_for_user(make_user("neg"))
    services.award(member=member, reason="test_award", points=10)
    read, hidden = threading.Event(), threading.Event()

    def unlocked_read(member_id):
        found = Member.objects.get(pk=member_id)  # listed, as read without the member's lock ...
        read.set()
        assert hidden.wait(timeout=30)  # ... while an opt-out commits
        return found

    monkeypatch.setattr(services, "lock_member", unlocked_read)

    def run(i):
        if i == 0:
            return services.award(member=Member.objects.get(pk=member.pk), reason="test_award", points=1,
                                  activity=booth)
        assert read.wait(timeout=30)
        index.set_visibility(member=Member.objects.get(pk=member.pk), visible=False)
        hidden.set()
        return None

    results, errors = run_concurrently(run, threads=2)
    assert errors == [] and len(results) == 2
    # The award's new rows on the booth's boards copied "listed" from the stale read: the member is
    # hidden, their rows say listed, and a rank on those boards no longer subtracts them.
    wrong = totals.listed_mismatches()
    assert wrong and all(w.startswith(f"{booth.pk}/") for w in wrong), wrong
    board = activity_board(booth)
    assert (board.count_above(0), board.count_above_by_index(0)) == (1, 0)
