import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from checkin import selectors, services
from checkin.errors import InvalidPosition
from checkin.models import CheckinList, CheckoutBatch, Event, Scan, Ticket, TicketListState
from checkin.services import ScanRequest
from checkin.signals import checkin_recorded

pytestmark = pytest.mark.django_db


def state(ticket, clist):
    return TicketListState.objects.filter(ticket=ticket, checkin_list=clist).first()


def test_first_entry_is_accepted_and_marks_the_ticket_inside(scan, ticket, clist):
    result = scan(ticket)
    assert result.ok and not result.scan.forced
    assert state(ticket, clist).inside
    assert selectors.inside_from_log(clist) == {ticket.pk}


def test_second_entry_is_refused_as_already_redeemed_and_stored(scan, ticket, clist):
    scan(ticket)
    result = scan(ticket)
    assert not result.ok
    assert result.scan.error_reason == "already_redeemed"
    assert Scan.objects.filter(ticket=ticket, successful=False, error_reason="already_redeemed").count() == 1
    assert state(ticket, clist).entry_count == 1


def test_multiple_entries_are_allowed_when_the_list_says_so(scan, ticket, clist):
    clist.allow_multiple_entries = True
    clist.save()
    assert scan(ticket).ok and scan(ticket).ok
    assert state(ticket, clist).entry_count == 2


def test_entry_after_exit_is_allowed_by_default(scan, ticket, clist):
    scan(ticket)
    scan(ticket, "exit")
    assert scan(ticket).ok
    assert state(ticket, clist).inside


def test_entry_after_exit_is_refused_when_the_list_forbids_it(scan, ticket, clist):
    clist.allow_entry_after_exit = False
    clist.save()
    scan(ticket)
    scan(ticket, "exit")
    assert scan(ticket).scan.error_reason == "already_redeemed"


def test_exit_without_entry_is_refused_as_not_checked_in(scan, ticket):
    result = scan(ticket, "exit")
    assert result.scan.error_reason == "not_checked_in"
    assert not result.scan.successful


def test_exit_without_entry_is_accepted_when_the_list_does_not_require_entry(scan, ticket, clist):
    clist.require_entry_for_exit = False
    clist.save()
    assert scan(ticket, "exit").ok
    assert not state(ticket, clist).inside


def test_revoked_ticket_is_refused(scan, make_ticket):
    revoked = make_ticket(status=Ticket.Status.CANCELED)
    assert scan(revoked).scan.error_reason == "canceled"


def test_ticket_type_not_on_the_list_is_refused_as_product(scan, make_ticket, clist):
    clist.ticket_types = ["VIP"]
    clist.save()
    assert scan(make_ticket(ticket_type="General admission")).scan.error_reason == "product"
    assert scan(make_ticket(ticket_type="VIP")).ok


def test_scans_outside_the_validity_window_are_refused_as_invalid_time(scan, ticket, clist):
    now = timezone.now()
    clist.valid_from, clist.valid_until = now + timedelta(hours=1), now + timedelta(hours=5)
    clist.save()
    assert scan(ticket).scan.error_reason == "invalid_time"
    assert scan(ticket, at=now + timedelta(hours=6)).scan.error_reason == "invalid_time"
    assert scan(ticket, at=now + timedelta(hours=2)).ok


def test_unknown_secret_is_stored_as_invalid_without_a_ticket(clist):
    result = services.redeem(secret="nope", lists=[clist], req=ScanRequest())
    assert result.ticket is None
    assert result.scan.error_reason == "invalid"
    assert Scan.objects.get(raw_code="nope").ticket is None


def test_ticket_of_another_event_is_unknown_to_this_list(scan, make_ticket, organizer):
    other = Event.objects.create(organizer=organizer, name="Other", slug="other")
    assert scan(make_ticket(event=other)).scan.error_reason == "invalid"


def test_two_matching_lists_of_one_event_are_ambiguous(scan, ticket, clist, event):
    second = CheckinList.objects.create(event=event, name="Side door")
    assert scan(ticket, lists=[clist, second]).scan.error_reason == "ambiguous"


def test_the_list_covering_the_ticket_type_wins_over_ambiguity(scan, make_ticket, clist, event):
    vip = CheckinList.objects.create(event=event, name="VIP", ticket_types=["VIP"])
    clist.ticket_types = ["General admission"]
    clist.save()
    result = scan(make_ticket(ticket_type="VIP"), lists=[clist, vip])
    assert result.ok and result.checkin_list == vip


def test_force_turns_a_refusal_into_a_forced_scan(scan, ticket, clist):
    scan(ticket)
    result = scan(ticket, force=True)
    assert result.ok and result.scan.forced


def test_force_on_an_allowed_scan_is_not_marked_forced(scan, ticket):
    assert not scan(ticket, force=True).scan.forced


def test_force_does_not_accept_an_unknown_secret(clist):
    result = services.redeem(secret="nope", lists=[clist], req=ScanRequest(force=True))
    assert not result.ok and result.scan.error_reason == "invalid"


def test_nonce_replay_returns_the_first_outcome_and_creates_nothing(scan, ticket):
    first = scan(ticket, nonce="n-1")
    again = scan(ticket, nonce="n-1")
    assert again.replayed and again.scan.pk == first.scan.pk
    assert Scan.objects.count() == 1


def test_nonce_replay_of_a_refusal_replays_the_refusal(scan, ticket):
    first = scan(ticket, "exit", nonce="n-exit")
    again = scan(ticket, "exit", nonce="n-exit")
    assert again.replayed and again.scan.error_reason == "not_checked_in" and again.scan.pk == first.scan.pk
    assert Scan.objects.count() == 1


def test_a_refusal_does_not_hold_its_nonce_a_later_success_is_stored(scan, ticket):
    # pretix's scoping: an offline app re-sends its queue (with force); the refusal must not swallow it.
    refused = scan(ticket, "exit", nonce="n-exit")
    scan(ticket)
    later = scan(ticket, "exit", nonce="n-exit")
    assert not later.replayed and later.ok and later.scan.pk != refused.scan.pk
    forced = scan(ticket, "exit", nonce="n-forced")
    assert not forced.ok
    stored = scan(ticket, "exit", nonce="n-forced", force=True)
    assert stored.ok and stored.scan.forced and not stored.replayed
    assert scan(ticket, "exit", nonce="n-forced", force=True).replayed


def test_nonce_of_an_unknown_code_is_deduplicated(clist):
    for _ in range(2):
        services.redeem(secret="nope", lists=[clist], req=ScanRequest(nonce="n-unknown"))
    assert Scan.objects.filter(nonce="n-unknown").count() == 1


def test_same_nonce_on_another_ticket_is_its_own_scan(scan, make_ticket):
    # Nonces are per ticket (as pretix scopes them): another ticket's scan is never swallowed or misattributed.
    first_ticket, other_ticket = make_ticket(), make_ticket()
    first = scan(first_ticket, nonce="shared")
    other = scan(other_ticket, nonce="shared")
    assert not other.replayed and other.ok and other.scan.ticket_id == other_ticket.pk != first.scan.ticket_id


def test_offline_scan_with_an_earlier_time_does_not_move_inside(scan, ticket, clist):
    now = timezone.now()
    scan(ticket, at=now)
    scan(ticket, "exit", at=now + timedelta(minutes=5))
    clist.allow_multiple_entries = True
    clist.save()
    result = scan(ticket, at=now + timedelta(minutes=1))  # uploaded late, happened before the exit
    assert result.ok
    assert not state(ticket, clist).inside
    assert selectors.inside_from_log(clist) == set()


def test_successful_scans_send_checkin_recorded_and_refusals_do_not(scan, ticket, clist):
    seen = []

    def receiver(sender, scan, ticket, checkin_list, **kwargs):
        seen.append((scan.type, ticket.pk, checkin_list.pk, checkin_list.attendance_points))

    checkin_recorded.connect(receiver, dispatch_uid="test-receiver")
    try:
        scan(ticket, nonce="a")
        scan(ticket)  # refused
        scan(ticket, nonce="a")  # replay
        scan(ticket, "exit")
    finally:
        checkin_recorded.disconnect(dispatch_uid="test-receiver")
    assert seen == [("entry", ticket.pk, clist.pk, 5), ("exit", ticket.pk, clist.pk, 5)]


def test_checkout_refuses_someone_not_inside_even_if_the_list_allows_it(ticket, clist):
    clist.require_entry_for_exit = False
    clist.save()
    result = services.checkout(ticket_id=ticket.pk, clist=clist, req=ScanRequest())
    assert result.scan.error_reason == "not_checked_in"


def test_checkout_of_a_ticket_of_another_event_is_an_invalid_position(make_ticket, organizer, clist):
    other = Event.objects.create(organizer=organizer, name="Other", slug="other")
    with pytest.raises(InvalidPosition):
        services.checkout(ticket_id=make_ticket(event=other).pk, clist=clist, req=ScanRequest())


def test_bulk_checkout_checks_out_everyone_inside_once(scan, make_ticket, clist, event):
    tickets = [make_ticket() for _ in range(3)]
    for t in tickets[:2]:
        scan(t)
    result = services.bulk_checkout(event=event, lists=[clist])
    assert [r["ticket_id"] for r in result.checked_out] == [t.pk for t in tickets[:2]]
    assert result.batch.checked_out == 2
    assert Scan.objects.filter(batch=result.batch, type="exit", successful=True).count() == 2
    assert selectors.inside_from_log(clist) == set()
    again = services.bulk_checkout(event=event, lists=[clist])
    assert again.checked_out == [] and again.batch.checked_out == 0


def test_bulk_checkout_leaves_people_who_entered_after_its_time_inside(scan, ticket, clist, event):
    now = timezone.now()
    scan(ticket, at=now)
    result = services.bulk_checkout(event=event, lists=[clist], at=now - timedelta(minutes=1))
    assert result.checked_out == []
    assert result.errors == [{"position_id": ticket.pk, "error": "Scanned in after the checkout time."}]
    assert state(ticket, clist).inside


def test_bulk_checkout_sends_no_signal(scan, ticket, clist, event):
    scan(ticket)
    seen = []
    checkin_recorded.connect(lambda **kw: seen.append(kw), dispatch_uid="bulk-test", weak=False)
    try:
        services.bulk_checkout(event=event, lists=[clist])
    finally:
        checkin_recorded.disconnect(dispatch_uid="bulk-test")
    assert seen == []


def test_status_counts_are_exact_after_scans_and_bulk_checkout(scan, make_ticket, clist, event):
    a, b, c = make_ticket(ticket_type="VIP"), make_ticket(), make_ticket()
    make_ticket(status=Ticket.Status.CANCELED)
    scan(a)
    scan(b)
    scan(b, "exit")
    scan(c)
    scan(c)  # refused: does not count
    status = selectors.list_status(clist)
    assert (status["checkin_count"], status["inside_count"], status["checkout_count"], status["position_count"]) == (
        3, 2, 1, 3)
    assert {i["name"]: (i["checkin_count"], i["position_count"]) for i in status["items"]} == {
        "VIP": (1, 1), "General admission": (2, 2)}
    services.bulk_checkout(event=event, lists=[clist])
    status = selectors.list_status(clist)
    assert (status["checkin_count"], status["inside_count"], status["checkout_count"]) == (3, 0, 3)


def test_scheduled_checkout_runs_once_and_clears_the_schedule(scan, ticket, clist):
    scan(ticket, at=timezone.now() - timedelta(minutes=10))
    clist.exit_all_at = timezone.now() - timedelta(minutes=1)
    clist.save()
    result = services.run_scheduled_checkout(list_id=clist.pk)
    assert result.batch.checked_out == 1 and result.batch.trigger == "schedule"
    assert services.run_scheduled_checkout(list_id=clist.pk) is None
    clist.refresh_from_db()
    assert clist.exit_all_at is None


def test_scheduled_checkout_waits_for_its_time(scan, ticket, clist):
    scan(ticket)
    clist.exit_all_at = timezone.now() + timedelta(hours=1)
    clist.save()
    assert services.due_scheduled_checkouts() == []
    assert services.run_scheduled_checkout(list_id=clist.pk) is None
    assert state(ticket, clist).inside


def schedule(clist, due):
    CheckinList.objects.filter(pk=clist.pk).update(exit_all_at=due)


def test_scheduled_checkout_of_a_multi_day_event_moves_to_the_same_time_next_day(scan, ticket, clist, event):
    zone = timezone.get_default_timezone()
    due = timezone.now() - timedelta(minutes=1)
    Event.objects.filter(pk=event.pk).update(date_to=due + timedelta(days=2))
    scan(ticket, at=due - timedelta(minutes=10))
    schedule(clist, due)
    result = services.run_scheduled_checkout(list_id=clist.pk)
    assert result.batch.checked_out == 1 and result.batch.datetime == due
    clist.refresh_from_db()
    assert clist.exit_all_at.astimezone(zone).time() == due.astimezone(zone).time()
    assert clist.exit_all_at.astimezone(zone).date() == due.astimezone(zone).date() + timedelta(days=1)
    # Exactly once per setting: a rerun (or a second worker) finds tomorrow's setting, not yet due.
    assert services.run_scheduled_checkout(list_id=clist.pk) is None
    assert services.due_scheduled_checkouts() == []
    assert CheckoutBatch.objects.count() == 1


def test_scheduled_checkout_on_the_last_day_clears_the_schedule(scan, ticket, clist, event):
    due = timezone.now() - timedelta(minutes=1)
    # The event ends before tomorrow at this time (and exactly at it: "later than" is strict).
    for end in (due + timedelta(hours=20), due + timedelta(days=1)):
        Event.objects.filter(pk=event.pk).update(date_to=end)
        schedule(clist, due)
        assert services.run_scheduled_checkout(list_id=clist.pk) is not None
        clist.refresh_from_db()
        assert clist.exit_all_at is None


def test_a_missed_multi_day_schedule_catches_up_one_day_per_run_each_at_its_own_time(clist, event):
    due = timezone.now() - timedelta(days=2, minutes=1)
    Event.objects.filter(pk=event.pk).update(date_to=timezone.now() + timedelta(days=3))
    schedule(clist, due)
    runs = [services.run_scheduled_checkout(list_id=clist.pk) for _ in range(4)]
    assert [r.batch.datetime for r in runs[:3]] == [due + timedelta(days=d) for d in range(3)]
    assert runs[3] is None
    clist.refresh_from_db()
    assert clist.exit_all_at == due + timedelta(days=3)


def test_the_next_scheduled_checkout_keeps_the_local_time_across_a_dst_change(event, settings):
    settings.TIME_ZONE = "Europe/Prague"
    prague = zoneinfo.ZoneInfo("Europe/Prague")
    due = datetime(2026, 10, 24, 23, 0, tzinfo=prague)  # CEST; the clocks go back in the night to the 25th
    event.date_to = datetime(2026, 10, 27, 12, 0, tzinfo=prague)
    following = services.next_exit_all(event, due.astimezone(UTC))
    assert following.astimezone(prague).replace(tzinfo=None) == datetime(2026, 10, 25, 23, 0)
    assert following - due.astimezone(UTC) == timedelta(hours=25)
    event.date_to = None
    assert services.next_exit_all(event, due) is None


def test_beat_task_checks_out_due_lists(scan, ticket, clist, settings):
    from checkin.tasks import run_scheduled_checkouts

    scan(ticket, at=timezone.now() - timedelta(minutes=10))
    CheckinList.objects.filter(pk=clist.pk).update(exit_all_at=timezone.now() - timedelta(seconds=1))
    assert run_scheduled_checkouts() == 1
    assert not state(ticket, clist).inside
    assert "checkin-scheduled-checkouts" in settings.CELERY_BEAT_SCHEDULE
