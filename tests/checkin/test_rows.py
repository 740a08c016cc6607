"""The redeem path's hand-written SELECTs (``config.sql``) give back exactly what the ORM would, on
PostgreSQL and SQLite, and on PostgreSQL they are prepared once they have run a few times."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.utils import timezone

from checkin import selectors, services
from checkin.models import CheckinList, Event, Organizer, OrganizerMembership, Scan, Ticket, TicketListState
from checkin.services import ScanRequest


def field_values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def field_types(instance) -> dict:
    return {name: type(value) for name, value in field_values(instance).items()}


def assert_same_row(found, expected):
    assert type(found) is type(expected)
    assert field_values(found) == field_values(expected)
    # Same Python types too (SQLite hands back text datetimes and integer booleans before conversion).
    assert field_types(found) == field_types(expected)
    assert found._state.adding is False and found._state.db == expected._state.db


def test_lock_ticket_returns_the_orm_row(make_ticket, event, member):
    ticket = make_ticket(member=member, ticket_type="VIP", status=Ticket.Status.CANCELED, attendee_email="a@b.cz")
    with transaction.atomic():
        by_secret = services.lock_ticket(secret=ticket.secret, event_ids={event.pk})
        by_pk = services.lock_ticket(pk=ticket.pk, event_ids={event.pk})
    expected = Ticket.objects.get(pk=ticket.pk)
    assert_same_row(by_secret, expected)
    assert_same_row(by_pk, expected)


def test_lock_ticket_of_another_event_or_unknown_is_none(ticket, event):
    with transaction.atomic():
        assert services.lock_ticket(secret=ticket.secret, event_ids={event.pk + 1}) is None
        assert services.lock_ticket(secret="no-such-secret", event_ids={event.pk}) is None
        assert services.lock_ticket(pk=ticket.pk + 1000, event_ids={event.pk}) is None


def test_lock_state_returns_the_orm_row(scan, ticket, clist):
    with transaction.atomic():
        assert services.lock_state(ticket_id=ticket.pk, list_id=clist.pk) is None
    scan(ticket)
    scan(ticket, "exit")
    with transaction.atomic():
        found = services.lock_state(ticket_id=ticket.pk, list_id=clist.pk)
    assert_same_row(found, TicketListState.objects.get(ticket=ticket, checkin_list=clist))
    assert found.inside is False and found.entry_count == 1 and found.exit_count == 1


@pytest.fixture
def rich_list(event):
    return CheckinList.objects.create(
        event=event, name="VIP door", ticket_types=["VIP", "Crew"], allow_multiple_entries=True,
        valid_from=timezone.now() - dt.timedelta(hours=1), exit_all_at=timezone.now() + dt.timedelta(hours=5),
        attendance_points=7,
    )


def test_redeem_lists_returns_the_orm_rows_in_request_order(door_user, organizer, clist, rich_list):
    found = selectors.redeem_lists(door_user, organizer.slug, [rich_list.pk, clist.pk, rich_list.pk])
    assert [c.pk for c in found] == [rich_list.pk, clist.pk]
    for got in found:
        expected = CheckinList.objects.select_related("event__organizer").get(pk=got.pk)
        assert_same_row(got, expected)
        assert_same_row(got.event, expected.event)
        assert_same_row(got.event.organizer, expected.event.organizer)
    assert found[0].ticket_types == ["VIP", "Crew"] and found[0].covers("Crew") and not found[0].covers("General")


def test_redeem_lists_is_none_unless_every_list_is_the_organizers_and_the_user_may_scan(
        make_user, door_user, organizer, clist):
    other = Organizer.objects.create(name="Other", slug="other")
    foreign = CheckinList.objects.create(event=Event.objects.create(organizer=other, name="E", slug="e"), name="X")
    assert selectors.redeem_lists(door_user, organizer.slug, [clist.pk, foreign.pk]) is None
    assert selectors.redeem_lists(door_user, other.slug, [foreign.pk]) is None
    assert selectors.redeem_lists(door_user, organizer.slug, [clist.pk + 1000]) is None
    assert selectors.redeem_lists(door_user, "no-such-org", [clist.pk]) is None
    stranger = make_user("stranger")
    OrganizerMembership.objects.create(organizer=organizer, user=stranger, can_checkin=False, can_manage=False)
    assert selectors.redeem_lists(stranger, organizer.slug, [clist.pk]) is None
    manager = make_user("manager-only")
    OrganizerMembership.objects.create(organizer=organizer, user=manager, can_checkin=False, can_manage=True)
    assert [c.pk for c in selectors.redeem_lists(manager, organizer.slug, [clist.pk])] == [clist.pk]


def test_redeem_lists_for_superusers_needs_no_membership_but_an_active_account(make_user, organizer, clist):
    admin = make_user("root")
    admin.is_superuser = True
    admin.save()
    assert [c.pk for c in selectors.redeem_lists(admin, organizer.slug, [clist.pk])] == [clist.pk]
    admin.is_active = False
    assert selectors.redeem_lists(admin, organizer.slug, [clist.pk]) is None


def orm_checkins(ticket, list_ids):
    rows = (Scan.objects.filter(ticket=ticket, checkin_list__in=list_ids, successful=True)
            .order_by("datetime", "id")
            .values("id", "checkin_list_id", "type", "datetime", "forced", "gate", "device_id"))
    return [{"id": r["id"], "list": r["checkin_list_id"], "type": r["type"], "datetime": r["datetime"],
             "forced": r["forced"], "gate": r["gate"] or None, "device": r["device_id"],
                 "auto_checked_in": False} for r in rows]


def test_position_checkins_equal_the_orm_read_with_offline_uploads_and_refusals(scan, ticket, clist, event):
    second = CheckinList.objects.create(event=event, name="Side door", allow_multiple_entries=True)
    now = timezone.now()
    scan(ticket, gate="North")
    scan(ticket)  # refused: already inside
    scan(ticket, "exit", at=now - dt.timedelta(hours=2))  # an older offline upload, logged first by time
    scan(ticket, "exit", force=True, nonce="n-1")
    scan(ticket, lists=[second])
    found = selectors.position_checkins(ticket_id=ticket.pk, list_ids=[clist.pk, second.pk])
    assert found == orm_checkins(ticket, [clist.pk, second.pk])
    assert [c["type"] for c in found] == ["exit", "entry", "exit", "entry"]
    assert all(type(c["forced"]) is bool and c["datetime"].tzinfo is not None for c in found)
    assert selectors.position_checkins(ticket_id=ticket.pk, list_ids=[second.pk]) == orm_checkins(ticket, [second.pk])


def test_an_older_offline_upload_through_the_one_statement_write_keeps_the_state_right(scan, ticket, clist):
    """The PostgreSQL path writes scan and state in one statement: an older successful scan is counted
    but does not move "inside" (the same rule as the ORM path on SQLite)."""
    now = timezone.now()
    scan(ticket, at=now)
    result = scan(ticket, "exit", at=now - dt.timedelta(minutes=5))
    assert result.ok
    state = TicketListState.objects.get(ticket=ticket, checkin_list=clist)
    assert (state.inside, state.entry_count, state.exit_count, state.last_datetime) == (True, 1, 1, now)
    assert selectors.inside_from_log(clist) == {ticket.pk}


def test_a_nonce_replay_after_the_hand_written_locks_returns_the_first_scan(scan, ticket, clist):
    first = scan(ticket, nonce="same")
    again = scan(ticket, nonce="same")
    assert again.replayed and again.scan.pk == first.scan.pk
    assert Scan.objects.filter(checkin_list=clist, nonce="same").count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_the_hot_statements_are_prepared_on_postgresql(door_user, organizer, make_ticket, clist):
    if connection.settings_dict["OPTIONS"].get("prepare_threshold") is None:
        pytest.skip("prepared statements are switched off (DB_PREPARED_STATEMENTS=false)")
    for _ in range(8):
        lists = selectors.redeem_lists(door_user, organizer.slug, [clist.pk])
        ticket = make_ticket()
        services.redeem(secret=ticket.secret, lists=lists, req=ScanRequest(user=door_user))
        # The door's usual request: the list's check and the locks in one statement; a repeat.
        services.redeem_checked(user=door_user, slug=organizer.slug, list_id=clist.pk, secret=ticket.secret,
                                req=ScanRequest(user=door_user))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    prepared = " ".join(statements)
    assert "checkin_ticket" in prepared and "checkin_ticketliststate" in prepared
    assert "checkin_organizermembership" in prepared and "WITH new_scan" in prepared and "WITH moved" in prepared
    assert any("checkin_checkinlist" in s and "checkin_ticketliststate" in s for s in statements)
