from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from engagement import services
from engagement.errors import CapReached, IdempotencyConflict, InsufficientPoints, LedgerError, UnknownReason
from engagement.models import Activity, EarningRule, LedgerEntry, Member
from engagement.signals import ledger_entry_posted

pytestmark = pytest.mark.django_db
PRAGUE = ZoneInfo("Europe/Prague")


def balances(member):
    member.refresh_from_db()
    return member.points, member.xp, member.level


def test_award_through_a_rule_uses_its_points_and_xp(member):
    entry = services.award(member=member, reason="comment_create")
    assert (entry.points, entry.xp, entry.reason) == (5, 5, "comment_create")
    assert balances(member) == (5, 5, 1)


def test_explicit_award_defaults_xp_to_the_points(member):
    entry = services.award(member=member, reason="manual", points=40)
    assert (entry.points, entry.xp) == (40, 40)


def test_award_moves_the_level_when_xp_crosses_a_threshold(member):
    services.award(member=member, reason="manual", points=10, xp=299)
    assert member.level == 2
    services.award(member=member, reason="manual", points=0, xp=1)
    assert balances(member) == (10, 300, 3)


def test_unknown_reason_without_amounts_is_refused_and_writes_nothing(member):
    with pytest.raises(UnknownReason) as err:
        services.award(member=member, reason="no_such_rule")
    assert err.value.code == "unknown_reason"
    assert LedgerEntry.objects.count() == 0


def test_inactive_rule_counts_as_unknown(member):
    EarningRule.objects.filter(reason="poll_vote").update(active=False)
    with pytest.raises(UnknownReason):
        services.award(member=member, reason="poll_vote")


@pytest.mark.parametrize(("points", "xp"), [(-1, None), (0, 0), (5, -1), (True, None), ("5", None)])
def test_award_refuses_bad_amounts(member, points, xp):
    with pytest.raises(LedgerError) as err:
        services.award(member=member, reason="manual", points=points, xp=xp)
    assert err.value.code == "invalid_amount"
    assert balances(member) == (0, 0, 1)


def test_daily_cap_counts_awards_per_local_day(member):
    day = datetime(2026, 3, 10, 12, 0, tzinfo=PRAGUE)
    services.award(member=member, reason="poll_vote", at=day)
    with pytest.raises(CapReached) as err:
        services.award(member=member, reason="poll_vote", at=day + timedelta(hours=11, minutes=59))
    assert err.value.code == "daily_cap_reached"
    # Just after local midnight is a new day (23:00 UTC the day before would still be the same day).
    services.award(member=member, reason="poll_vote", at=datetime(2026, 3, 11, 0, 0, 1, tzinfo=PRAGUE))
    assert LedgerEntry.objects.filter(reason="poll_vote").count() == 2


def test_day_bounds_follow_the_project_time_zone_across_dst():
    start, end = services.day_bounds(datetime(2026, 3, 29, 12, 0, tzinfo=PRAGUE))  # DST starts that night
    assert start == datetime(2026, 3, 29, 0, 0, tzinfo=PRAGUE)
    # Aware datetimes in one zone subtract as wall time; the real length of that day is 23 hours.
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)


def test_lifetime_cap_is_enforced(member):
    services.award(member=member, reason="newsletter_subscribe")
    with pytest.raises(CapReached) as err:
        services.award(member=member, reason="newsletter_subscribe", at=services.day_bounds(
            datetime(2030, 1, 1, tzinfo=PRAGUE))[0])
    assert err.value.code == "lifetime_cap_reached"
    assert balances(member)[0] == 12


def test_explicit_amounts_still_respect_the_rule_caps(member):
    services.award(member=member, reason="poll_vote", points=50)
    with pytest.raises(CapReached):
        services.award(member=member, reason="poll_vote", points=50)


def test_spend_takes_points_but_never_xp(member):
    services.award(member=member, reason="manual", points=100)
    entry = services.spend(member=member, points=60, reason="redeem")
    assert (entry.points, entry.xp) == (-60, 0)
    assert balances(member) == (40, 100, 2)


def test_spend_more_than_the_balance_is_refused_and_writes_nothing(member):
    services.award(member=member, reason="manual", points=50)
    with pytest.raises(InsufficientPoints) as err:
        services.spend(member=member, points=51)
    assert err.value.status_code == 409
    assert LedgerEntry.objects.filter(points__lt=0).count() == 0
    assert balances(member)[0] == 50


def test_refund_gives_points_back_without_xp(member):
    services.award(member=member, reason="manual", points=30)
    services.spend(member=member, points=30)
    entry = services.refund(member=member, points=30)
    assert (entry.points, entry.xp) == (30, 0)
    assert balances(member)[:2] == (30, 30)


def test_adjust_moves_points_only_and_records_the_actor(member, admin_user):
    entry = services.adjust(member=member, delta=25, actor=admin_user, meta={"note": "prize"})
    assert (entry.points, entry.xp, entry.reason, entry.actor) == (25, 0, "admin_adjust", admin_user)
    services.adjust(member=member, delta=-25, actor=admin_user)
    assert balances(member) == (0, 0, 1)


def test_adjust_below_zero_is_refused(member, admin_user):
    with pytest.raises(InsufficientPoints):
        services.adjust(member=member, delta=-1, actor=admin_user)


@pytest.mark.parametrize("delta", [0, True, 1.5])
def test_adjust_refuses_non_integer_or_zero_deltas(member, admin_user, delta):
    with pytest.raises(LedgerError):
        services.adjust(member=member, delta=delta, actor=admin_user)


def test_idempotent_replay_returns_the_first_entry(member):
    first = services.award(member=member, reason="manual", points=10, idempotency_key="k1")
    again = services.award(member=member, reason="manual", points=10, idempotency_key="k1")
    assert again.pk == first.pk and again.replayed and not first.replayed
    assert balances(member)[0] == 10


def test_same_key_with_a_different_request_is_a_conflict(member, make_user):
    services.award(member=member, reason="manual", points=10, idempotency_key="k2")
    with pytest.raises(IdempotencyConflict) as err:
        services.award(member=member, reason="manual", points=11, idempotency_key="k2")
    other = services.member_for_user(make_user("bob"))
    with pytest.raises(IdempotencyConflict):
        services.award(member=other, reason="manual", points=10, idempotency_key="k2")
    assert err.value.status_code == 409
    assert LedgerEntry.objects.count() == 1


def test_replay_of_a_capped_award_returns_the_original_entry(member):
    first = services.award(member=member, reason="poll_vote", idempotency_key="vote-1")
    assert services.award(member=member, reason="poll_vote", idempotency_key="vote-1").pk == first.pk


def test_ledger_rows_are_append_only(member):
    entry = services.award(member=member, reason="manual", points=1)
    entry.points = 1000
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()


def test_database_refuses_a_negative_balance_even_outside_the_services(member):
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.filter(pk=member.pk).update(points=-1)


def test_signal_is_sent_for_new_entries_but_not_for_replays(member):
    seen = []

    def receiver(sender, entry, member, **kwargs):
        seen.append((entry.pk, member.points))

    ledger_entry_posted.connect(receiver)
    try:
        entry = services.award(member=member, reason="manual", points=7, idempotency_key="sig")
        services.award(member=member, reason="manual", points=7, idempotency_key="sig")
    finally:
        ledger_entry_posted.disconnect(receiver)
    assert seen == [(entry.pk, 7)]


def test_a_failing_receiver_rolls_the_whole_write_back(member):
    def boom(sender, **kwargs):
        raise RuntimeError("outbox down")

    ledger_entry_posted.connect(boom)
    try:
        with pytest.raises(RuntimeError):
            services.award(member=member, reason="manual", points=7)
    finally:
        ledger_entry_posted.disconnect(boom)
    assert LedgerEntry.objects.count() == 0
    assert balances(member)[0] == 0


def test_activity_is_recorded_on_the_entry(member):
    booth = Activity.objects.create(name="Booth", slug="booth")
    entry = services.award(member=member, reason="claim", points=3, activity=booth)
    assert LedgerEntry.objects.get(pk=entry.pk).activity == booth


def test_participants_by_external_id_are_created_once():
    first = services.participant_for_external_id(2_000_000_001)
    second = services.participant_for_external_id(2_000_000_001)
    assert first.pk == second.pk
    assert not first.user.has_usable_password()


def test_an_external_id_never_adopts_a_real_account_with_the_same_name(make_user):
    make_user("participant-77")
    with pytest.raises(LedgerError) as err:
        services.participant_for_external_id(77)
    assert err.value.code == "participant_conflict"
    assert not Member.objects.filter(external_id=77).exists()


def test_every_new_user_gets_a_member_profile(make_user):
    user = make_user("carol")
    assert Member.objects.filter(user=user).exists()


def test_verify_ledger_passes_on_consistent_data_and_fails_on_tampering(member, capsys):
    services.award(member=member, reason="manual", points=10)
    call_command("verify_ledger", "--no-progress")
    assert "Ledger OK: 1 member(s)" in capsys.readouterr().out
    Member.objects.filter(pk=member.pk).update(points=11)
    with pytest.raises(Exception, match="Ledger mismatch for 1 of 1"):
        call_command("verify_ledger", "--no-progress")
    assert "cached points 11 vs ledger 10" in capsys.readouterr().err
