"""Plain dict output for the check-in API. The redeem path is hot (every door scan), so these are plain
functions rather than ModelSerializers; the shapes follow docs/checkin.md and the contract.

Plaudit's own keys stay; pretix's keys are added next to them, so a pretix-family scanner app (pretixSCAN,
eventyay) parses the same answer a Plaudit client reads. Where the two disagree on a key's type (an
event's or an item's ``name``: a string for Plaudit, a translation dict for pretix) the caller chooses
with ``i18n`` (true for device-authenticated scanner apps).
"""

import datetime as dt
import hashlib
from decimal import Decimal

from django.conf import settings

from checkin import items, selectors
from checkin.models import CheckinList, Event, Scan, Ticket, TicketType

REASON_TEXT = {value: str(label) for value, label in Scan.Reason.choices}
REASON_TEXT[Scan.Reason.ALREADY_REDEEMED] = "Already checked in"
# pretix's order status letters: p(aid), c(anceled).
ORDER_STATUS = {Ticket.Status.VALID: "p", Ticket.Status.CANCELED: "c"}


def i18n(text: str, enabled: bool):
    return {"en": text} if enabled else text


def event_data(event: Event, *, pretix: bool = False) -> dict:
    return {
        "id": event.pk, "slug": event.slug, "name": i18n(event.name, pretix), "date_from": event.date_from,
        "date_to": event.date_to,
        # pretix's event fields (a single-date event, live, no seating, no subevents).
        "live": True, "testmode": False, "currency": "EUR", "date_admission": None, "is_public": True,
        "presale_start": None, "presale_end": None, "location": None, "geo_lat": None, "geo_lon": None,
        "has_subevents": False, "meta_data": {}, "timezone": settings.TIME_ZONE,
        "item_meta_properties": {}, "plugins": [], "seating_plan": None, "seat_category_mapping": {},
        "valid_keys": {"pretix_sig1": []}, "sales_channels": ["web"], "public_url": None,
    }


def list_ref(clist: CheckinList) -> dict:
    """The list excerpt of redeem answers: pretix's ``id``, ``name``, ``event``, ``subevent``, ``include_pending``."""
    return {"id": clist.pk, "name": clist.name, "event": clist.event.slug, "subevent": None,
            "include_pending": False}


def checkin_list_data(clist: CheckinList, event: Event, *, counts: dict | None = None) -> dict:
    """``counts``: pretix's read-only ``position_count`` and ``checkin_count`` when the caller read them."""
    clist.event = event
    limit = list(clist.ticket_types)
    item_ids = [items.item(event.pk, name).id for name in limit]
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
        # pretix's fields.
        "all_products": not limit, "limit_products": item_ids, "auto_checkin_sales_channels": [],
        "rules": _rules(clist), "addon_match": False, "ignore_in_statistics": False, "consider_tickets_used": True,
        **(counts or {}),
    }


def _rules(clist: CheckinList) -> dict:
    """pretix's JsonLogic ``rules`` for what a scanner must check offline beyond products: the list's
    validity window (pretix apps evaluate these rules on the device)."""
    parts = []
    if clist.valid_from:
        parts.append({"isAfter": [{"var": "now"}, {"buildTime": ["custom", clist.valid_from.isoformat()]}, 0]})
    if clist.valid_until:
        parts.append({"isBefore": [{"var": "now"}, {"buildTime": ["custom", clist.valid_until.isoformat()]}, 0]})
    if not parts:
        return {}
    return parts[0] if len(parts) == 1 else {"and": parts}


def item_data(row: TicketType, *, pretix: bool = True) -> dict:
    return {
        "id": row.pk, "name": i18n(row.name, pretix), "internal_name": row.name, "category": None, "active": True,
        "description": None, "default_price": f"{row.default_price:.2f}", "free_price": False, "tax_rate": "0.00",
        "tax_rule": None, "admission": row.admission, "personalized": True, "position": 0, "picture": None,
        "sales_channels": ["web"], "available_from": None, "available_until": None, "require_voucher": False,
        "hide_without_voucher": False, "allow_cancel": False, "min_per_order": None, "max_per_order": None,
        "checkin_attention": row.checkin_attention, "checkin_text": row.checkin_text or None,
        "has_variations": False, "variations": [], "addons": [], "bundles": [], "meta_data": {},
        "require_approval": False, "generate_tickets": None, "allow_waitinglist": False, "issue_giftcard": False,
        "require_membership": False, "grant_membership_type": None, "media_policy": None, "media_type": None,
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
    return selectors.checkin_entry(id=scan.pk, list=scan.checkin_list_id, type=scan.type,
                                   datetime=scan.datetime.astimezone(dt.UTC), forced=scan.forced, gate=scan.gate,
                                   device=scan.device_id)


def _pretix_position(ticket: Ticket, info: items.ItemInfo) -> dict:
    name = ticket.attendee_name
    return {
        "order": ticket.order_code, "positionid": 1, "item": info.id, "variation": None, "price": info.price,
        "attendee_name_parts": {"_scheme": "full", "full_name": name} if name else {},
        "company": None, "street": None, "zipcode": None, "city": None, "country": None, "state": None,
        "voucher": None, "tax_rate": "0.00", "tax_rule": None, "tax_value": "0.00", "addon_to": None,
        "subevent": None, "pseudonymization_id": f"{ticket.order_code}-{ticket.pk}", "seat": None,
        "answers": [], "downloads": [], "blocked": None, "valid_from": None, "valid_until": None,
        "order__status": ORDER_STATUS.get(ticket.status, "c"), "order__valid_if_pending": False,
        "order__require_approval": False, "order__locale": "en", "require_attention": info.checkin_attention,
    }


def position_data(ticket: Ticket, lists: list[CheckinList], *, checkins: list[dict] | None = None,
                  pdf_data: bool = False, positionid: int = 1) -> dict:
    """The ticket as pretix's order position, with its successful scans on ``lists`` (``checkins``).
    ``checkins``: that list when the caller already knows it (the redeem service, from the state row it
    locked). ``pdf_data``: pretix's ticket-layout variables, for apps that print or show them offline."""
    if checkins is None:
        checkins = selectors.position_checkins(ticket_id=ticket.pk, list_ids=[c.pk for c in lists])
    info = items.item(ticket.event_id, ticket.ticket_type)
    data = {**_ticket_fields(ticket), **_pretix_position(ticket, info), "checkins": checkins}
    # Within an order (tickets sharing an order code) pretix numbers positions 1, 2, …; elsewhere 1.
    data["positionid"] = positionid
    if pdf_data:
        data["pdf_data"] = {"attendee_name": ticket.attendee_name, "event_name": ticket.event.name,
                            "item": ticket.ticket_type, "order": ticket.order_code, "secret": ticket.secret}
    return data


def order_data(tickets: list[Ticket], positions: list[dict]) -> dict:
    """pretix's order resource for the tickets sharing an order code (``positions``: theirs, in order).
    Cancelled when every ticket is; total = the sum of the positions' prices."""
    ticket = tickets[0]
    canceled = all(p["order__status"] == "c" for p in positions)
    if not canceled:
        # As pretix lists an order's positions: without its cancelled ones (an offline scanner must not
        # take a cancelled ticket of a paid order for a valid one).
        positions = [p for p in positions if p["order__status"] != "c"]
    total = sum(Decimal(p["price"]) for p in positions)
    return {
        "code": ticket.order_code, "event": ticket.event.slug, "status": "c" if canceled else "p",
        "testmode": False,
        # pretix's order secret guards order links; never a piece of the ticket's own secret.
        "secret": hashlib.sha256(f"order:{ticket.secret}".encode()).hexdigest()[:16],
        "email": ticket.attendee_email or None, "phone": None,
        "locale": "en", "datetime": ticket.created, "expires": None, "payment_date": None, "payment_provider": None,
        "fees": [], "total": f"{total:.2f}", "comment": "",
        "checkin_attention": any(p["require_attention"] for p in positions),
        "checkin_text": None, "require_approval": False, "valid_if_pending": False, "sales_channel": "web",
        "invoice_address": None, "positions": positions, "downloads": [], "payments": [], "refunds": [],
        "last_modified": max(t.modified for t in tickets),
    }


def attention(ticket: Ticket | None) -> tuple[bool, list[str]]:
    """pretix's top-level ``require_attention`` and ``checkin_texts`` of a redeem answer."""
    if ticket is None:
        return False, []
    info = items.item(ticket.event_id, ticket.ticket_type)
    return info.checkin_attention, [info.checkin_text] if info.checkin_text else []


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
        # pretix's check-in history keys.
        "error_explanation": None, "position": scan.ticket_id, "created": scan.server_datetime,
        "list": scan.checkin_list_id, "auto_checked_in": False, "device": scan.device_id,
        "device_id": None if scan.device is None else scan.device.device_id,
    }
