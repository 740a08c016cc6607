"""Plain dict output for the check-in API. The redeem path is hot (every door scan), so these are plain
functions rather than ModelSerializers; the shapes follow docs/checkin.md and the contract."""

import datetime as dt

from checkin import selectors
from checkin.models import CheckinList, Event, Scan, Ticket

REASON_TEXT = {value: str(label) for value, label in Scan.Reason.choices}
REASON_TEXT[Scan.Reason.ALREADY_REDEEMED] = "Already checked in"


def event_data(event: Event) -> dict:
    return {"id": event.pk, "slug": event.slug, "name": event.name, "date_from": event.date_from,
            "date_to": event.date_to}


def list_ref(clist: CheckinList) -> dict:
    return {"id": clist.pk, "name": clist.name, "event": clist.event.slug}


def checkin_list_data(clist: CheckinList, event: Event) -> dict:
    clist.event = event
    return {
        **list_ref(clist),
        "allow_multiple_entries": clist.allow_multiple_entries,
        "allow_entry_after_exit": clist.allow_entry_after_exit,
        "require_entry_for_exit": clist.require_entry_for_exit,
        "exit_all_at": clist.exit_all_at,
        "ticket_types": clist.ticket_types,
        "valid_from": clist.valid_from,
        "valid_until": clist.valid_until,
        "attendance_points": clist.attendance_points,
    }


def _ticket_fields(ticket: Ticket) -> dict:
    return {
        "id": ticket.pk, "order_code": ticket.order_code, "attendee_name": ticket.attendee_name,
        "attendee_email": ticket.attendee_email, "ticket_type": ticket.ticket_type, "secret": ticket.secret,
        "status": ticket.status,
    }


def ticket_data(ticket: Ticket, *, list_ids: list[int], inside: set[int]) -> dict:
    return {**_ticket_fields(ticket), "inside": {str(pk): pk in inside for pk in list_ids}}


def checkin_data(scan: Scan) -> dict:
    """One entry of ``position.checkins`` from a scan row in memory, as ``selectors.position_checkins``
    would read it back (the database hands datetimes back in UTC)."""
    return {"id": scan.pk, "list": scan.checkin_list_id, "type": scan.type,
            "datetime": scan.datetime.astimezone(dt.UTC), "forced": scan.forced, "gate": scan.gate}


def position_data(ticket: Ticket, lists: list[CheckinList], *, checkins: list[dict] | None = None) -> dict:
    """The ticket with its successful scans on ``lists`` (pretix's ``position.checkins``). ``checkins``:
    that list when the caller already knows it (the redeem service, from the state row it locked)."""
    if checkins is None:
        checkins = selectors.position_checkins(ticket_id=ticket.pk, list_ids=[c.pk for c in lists])
    return {**_ticket_fields(ticket), "checkins": checkins}


def scan_data(scan: Scan) -> dict:
    ticket = scan.ticket
    return {
        "id": scan.pk, "checkin_list": scan.checkin_list_id, "type": scan.type, "successful": scan.successful,
        "error_reason": scan.error_reason or None, "forced": scan.forced, "nonce": scan.nonce,
        "datetime": scan.datetime, "server_datetime": scan.server_datetime, "user": scan.user_id,
        "gate": scan.gate, "batch": scan.batch_id, "raw_code": scan.raw_code or None,
        "ticket": None if ticket is None else {
            "id": ticket.pk, "order_code": ticket.order_code, "attendee_name": ticket.attendee_name,
        },
    }
