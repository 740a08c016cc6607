"""Check-in reads: rights, events, tickets, door status and the scan log."""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery, Sum
from rest_framework.exceptions import ValidationError

from checkin import items
from checkin.auth import DevicePrincipal, device_of
from checkin.errors import NoCheckinRights, SearchTooShort
from checkin.filters import ScanFilter
from checkin.models import CheckinList, Event, Organizer, OrganizerMembership, Scan, Ticket, TicketListState
from config import sql as rawsql

MIN_SCANNER_SEARCH = 3


def first(qs):
    """The first row or None, without ``.first()``'s ORDER BY pk (which can lead the planner away from the
    unique index we filter on)."""
    rows = list(qs.order_by()[:1])
    return rows[0] if rows else None


@dataclass(frozen=True)
class Rights:
    checkin: bool = False
    manage: bool = False


def rights_for(user, organizer: Organizer) -> Rights:
    if not (user and user.is_authenticated and user.is_active):
        return Rights()
    if user.is_superuser:
        return Rights(checkin=True, manage=True)
    m = OrganizerMembership.objects.filter(organizer=organizer, user=user).only("can_checkin", "can_manage").first()
    if m is None:
        return Rights()
    return Rights(checkin=m.can_checkin or m.can_manage, manage=m.can_manage)


def organizer_for(user, slug: str) -> tuple[Organizer | None, Rights]:
    """The organizer and the user's rights there, in one query for members (the hot path of every scan).
    A scanner device has check-in and read rights on its own organizer (limited to its events by the
    views, ``device_allows``) and none elsewhere."""
    device = device_of(user)
    if device is not None:
        if device.organizer.slug == slug:
            return device.organizer, Rights(checkin=True, manage=True)
        return Organizer.objects.filter(slug=slug).first(), Rights()
    if not user.is_superuser:
        m = first(OrganizerMembership.objects.select_related("organizer").filter(organizer__slug=slug, user=user))
        if m is not None:
            return m.organizer, Rights(checkin=m.can_checkin or m.can_manage, manage=m.can_manage)
    organizer = Organizer.objects.filter(slug=slug).first()
    return organizer, rights_for(user, organizer) if organizer else Rights()


_REDEEM_LISTS = """
SELECT {lists}, {events}, {organizers}
FROM {list_table} l JOIN {event_table} e ON e.id = l.event_id JOIN {organizer_table} o ON o.id = e.organizer_id
WHERE l.id IN ({ids}) AND o.slug = %s{rights}
"""
# Check-in rights: a membership with either right (``can_manage`` implies check-in, see ``Rights``).
_HAS_CHECKIN_RIGHTS = """ AND EXISTS (
    SELECT 1 FROM {membership_table} m WHERE m.organizer_id = e.organizer_id AND m.user_id = %s
    AND (m.can_checkin = %s OR m.can_manage = %s))"""


def checkin_rights_sql() -> str:
    """`` AND EXISTS (...)``: a membership with check-in rights on the organizer of the event ``e``, for the
    parameters ``user.pk, True, True``."""
    return _HAS_CHECKIN_RIGHTS.format(membership_table=rawsql.table(OrganizerMembership))


@cache
def _redeem_lists_sql(vendor: str, count: int, *, superuser: bool) -> str:
    rights = "" if superuser else checkin_rights_sql()
    return _REDEEM_LISTS.format(
        lists=rawsql.columns(CheckinList, "l"), events=rawsql.columns(Event, "e"),
        organizers=rawsql.columns(Organizer, "o"),
        list_table=rawsql.table(CheckinList), event_table=rawsql.table(Event), organizer_table=rawsql.table(Organizer),
        ids=rawsql.placeholders(count), rights=rights,
    )


def device_allows(user, event_id: int) -> bool:
    """Whether a scanner device may see this event (always true for people: their rights are per organizer)."""
    return not isinstance(user, DevicePrincipal) or user.allows(event_id)


def redeem_access(user, slug: str) -> bool | None:
    """What ``redeem_lists`` can tell about the user before any query: None when the general path must
    answer, True when no membership is needed (a superuser, or a device on its own organizer: its right is
    the organizer and its events, checked with ``device_allows``), False when a membership with check-in
    rights must be found (``checkin_rights_sql``)."""
    if user.is_superuser and not user.is_active:
        return None
    device = device_of(user)
    if device is not None and device.organizer.slug != slug:
        return None
    return user.is_superuser or device is not None


def redeem_lists(user, slug: str, ids: list[int]) -> list[CheckinList] | None:
    """The requested check-in lists of organizer ``slug`` (with their events and organizer), in request
    order without repeats, when the user may scan there and every id is one of them: ONE hand-written
    query (lists, events and the membership test; see ``config.sql`` for why not the ORM) instead of
    three. None otherwise; the caller then takes the general path, which answers 404, 403 or 400 as
    appropriate."""
    unrestricted = redeem_access(user, slug)
    if unrestricted is None:
        return None
    wanted = list(dict.fromkeys(ids))
    sql = _redeem_lists_sql(rawsql.db().vendor, len(wanted), superuser=unrestricted)
    params = [*wanted, slug] + ([] if unrestricted else [user.pk, True, True])
    found = {}
    for row in rawsql.fetch(sql, params):
        clist, event, organizer = rawsql.split(row, CheckinList, Event, Organizer)
        event.organizer = organizer
        clist.event = event
        found[clist.pk] = clist
    if len(found) != len(wanted) or not all(device_allows(user, c.event_id) for c in found.values()):
        return None
    return [found[i] for i in wanted]


_POSITION_CHECKINS = """
SELECT {columns} FROM {scan_table} s
WHERE s.ticket_id = %s AND s.checkin_list_id IN ({list_ids}) AND s.successful = %s ORDER BY s.datetime, s.id
"""
# The Scan fields of one ``position.checkins`` entry, and the keys the response gives them.
CHECKIN_FIELDS = ("id", "checkin_list", "type", "datetime", "forced", "gate", "device")
_CHECKIN_KEYS = ("id", "list", "type", "datetime", "forced", "gate", "device")


def checkin_entry(**values) -> dict:
    """One ``position.checkins`` entry in pretix's keys (plus Plaudit's ``forced``). pretix's ``gate`` is a
    gate id or null; Plaudit's gates are free labels, so an unlabelled scan answers null and a labelled one
    its label. No scan of ours is automatic (``auto_checked_in``)."""
    values["gate"] = values["gate"] or None
    values["auto_checked_in"] = False
    return values


def checkins_from_rows(found) -> list[dict]:
    """``position.checkins`` entries from rows of ``rawsql.columns(Scan, ..., CHECKIN_FIELDS)``."""
    return [checkin_entry(**dict(zip(_CHECKIN_KEYS, rawsql.convert(Scan, row, CHECKIN_FIELDS), strict=True)))
            for row in found]


@cache
def _position_checkins_sql(vendor: str, count: int) -> str:
    return _POSITION_CHECKINS.format(columns=rawsql.columns(Scan, "s", CHECKIN_FIELDS), scan_table=rawsql.table(Scan),
                                     list_ids=rawsql.placeholders(count))


def position_checkins(*, ticket_id: int, list_ids: list[int]) -> list[dict]:
    """A ticket's successful scans on ``list_ids``, oldest first, as redeem's ``position.checkins``
    (hand-written: it runs on every repeat scan at the door, see ``config.sql``)."""
    found = rawsql.fetch(_position_checkins_sql(rawsql.db().vendor, len(list_ids)), [ticket_id, *list_ids, True])
    return checkins_from_rows(found)


def require_checkin(user, organizer: Organizer, rights: Rights) -> None:
    if not rights.checkin:
        raise NoCheckinRights(f"You have no check-in rights for organizer '{organizer.slug}'.")


def events_for_api(user, organizer: Organizer) -> QuerySet[Event]:
    qs = Event.objects.filter(organizer=organizer).order_by("date_from", "pk")
    device = device_of(user)
    if device is not None and not device.all_events:
        qs = qs.filter(pk__in=user.event_ids)
    return qs


def positions_for_list(*, clist: CheckinList, search: str = "", modified_since=None, include_canceled: bool = False,
                       rights: Rights | None = None) -> QuerySet[Ticket]:
    """The tickets a list covers, oldest first (a stable order for paging an offline download).

    ``modified_since``: only tickets that changed (their row: ``Ticket.modified``) or whose scans on this
    list changed (``TicketListState.modified``, moved by every successful scan and bulk checkout) since
    then; cancelled tickets are then included, so an offline copy learns about cancellations.
    """
    qs = tickets_for_event(event=clist.event, rights=rights or Rights(checkin=True, manage=True), search=search,
                           checkin_list=clist)
    if modified_since is not None:
        changed = TicketListState.objects.filter(checkin_list=clist, modified__gte=modified_since)
        qs = qs.filter(Q(modified__gte=modified_since) | Q(pk__in=changed.values("ticket_id")))
    elif not include_canceled:
        qs = qs.filter(status=Ticket.Status.VALID)
    return qs


def orders_for_event(*, event: Event, modified_since=None) -> QuerySet:
    """pretix's orders of an event: one row per order code (``{"order_code", "first"}``, oldest first),
    cancelled tickets included; with ``modified_since`` only orders with a ticket changed since then (its
    row, or a successful scan on any list). ``order_tickets`` reads a page's tickets."""
    qs = Ticket.objects.filter(event=event)
    if modified_since is not None:
        changed = TicketListState.objects.filter(checkin_list__event=event, modified__gte=modified_since)
        qs = qs.filter(Q(modified__gte=modified_since) | Q(pk__in=changed.values("ticket_id")))
    return qs.values("order_code").annotate(first=Min("pk")).order_by("first")


def order_tickets(*, event: Event, codes: list[str]) -> dict[str, list[Ticket]]:
    """Every ticket of these orders (a changed order is sent whole), in position order."""
    found: dict[str, list[Ticket]] = {code: [] for code in codes}
    for ticket in Ticket.objects.filter(event=event, order_code__in=codes).order_by("pk"):
        found[ticket.order_code].append(ticket)
    return found


def checkins_by_ticket(*, ticket_ids: list[int], list_ids: list[int]) -> dict[int, list[dict]]:
    """``position.checkins`` of a page of tickets, in one query."""
    rows = (Scan.objects.filter(ticket_id__in=ticket_ids, checkin_list_id__in=list_ids, successful=True)
            .order_by("datetime", "id").values_list("ticket_id", *CHECKIN_FIELDS))
    found: dict[int, list[dict]] = {pk: [] for pk in ticket_ids}
    for ticket_id, *values in rows:
        found[ticket_id].append(checkin_entry(**dict(zip(_CHECKIN_KEYS, values, strict=True))))
    return found


def events_for_user(user) -> QuerySet[Event]:
    """Events whose organizer gives this user check-in rights (the door pages' choices)."""
    qs = Event.objects.select_related("organizer").prefetch_related("checkin_lists").order_by("organizer__name", "name")
    if user.is_superuser:
        return qs
    return qs.filter(organizer__in=door_memberships(user).values("organizer"))


def door_memberships(user) -> QuerySet[OrganizerMembership]:
    """The user's memberships that give check-in rights (checking in, or managing the organizer)."""
    return OrganizerMembership.objects.filter(Q(can_checkin=True) | Q(can_manage=True), user=user)


def tickets_for_event(*, event: Event, rights: Rights, search: str = "", checkin_list: CheckinList | None = None):
    """Tickets of an event, searched by attendee name, order code or secret prefix.

    Scanner-only users (check-in but not manage rights) must search with at least three characters, so
    nobody at a door can page through every attendee and their secrets.
    """
    search = search.strip()
    if not rights.manage and len(search) < MIN_SCANNER_SEARCH:
        raise SearchTooShort(f"Search with at least {MIN_SCANNER_SEARCH} characters.")
    qs = Ticket.objects.filter(event=event).order_by("pk")
    if search:
        qs = qs.filter(
            Q(attendee_name__icontains=search) | Q(order_code__iexact=search) | Q(secret__startswith=search)
        )
    if checkin_list is not None and checkin_list.ticket_types:
        qs = qs.filter(ticket_type__in=checkin_list.ticket_types)
    return qs


def inside_lists(ticket_ids: list[int]) -> dict[int, set[int]]:
    rows = TicketListState.objects.filter(ticket_id__in=ticket_ids, inside=True)
    rows = rows.values_list("ticket_id", "checkin_list_id")
    found: dict[int, set[int]] = {}
    for ticket_id, list_id in rows:
        found.setdefault(ticket_id, set()).add(list_id)
    return found


def list_status(clist: CheckinList) -> dict:
    """The door statistics. Two aggregate queries over tickets and per-ticket state rows: the cost grows
    with the number of tickets, never with the number of scans, and it is exact (no cache)."""
    tickets = Ticket.objects.filter(event_id=clist.event_id, status=Ticket.Status.VALID)
    if clist.ticket_types:
        tickets = tickets.filter(ticket_type__in=clist.ticket_types)
    positions = dict(tickets.values_list("ticket_type").annotate(n=Count("id")).order_by())
    states = (
        TicketListState.objects.filter(checkin_list=clist)
        .values_list("ticket__ticket_type")
        .annotate(
            checkins=Count("id", filter=Q(entry_count__gt=0)),
            inside=Count("id", filter=Q(inside=True)),
            exits=Sum("exit_count"),
        )
        .order_by()
    )
    by_type = {t: (checkins, inside, exits or 0) for t, checkins, inside, exits in states}
    names = sorted(set(positions) | set(by_type))
    infos = {name: items.item(clist.event_id, name) for name in names}  # cached: no query once warm
    return {
        "checkin_count": sum(v[0] for v in by_type.values()),
        "position_count": sum(positions.values()),
        "inside_count": sum(v[1] for v in by_type.values()),
        "checkout_count": sum(v[2] for v in by_type.values()),
        "event": {"name": clist.event.name},
        "items": [_status_item(n, infos[n], by_type.get(n, (0,))[0], positions.get(n, 0)) for n in names],
    }


def _status_item(name: str, info, checkins: int, positions: int) -> dict:
    # pretix's keys: the item id, whether it admits, and variations (Plaudit has none).
    return {"name": name, "id": info.id, "admission": info.admission, "checkin_count": checkins,
            "position_count": positions, "variations": []}


def scans_for_event(*, event: Event, filters) -> QuerySet[Scan]:
    qs = (Scan.objects.filter(checkin_list__event=event).select_related("ticket", "device")
          .order_by("-datetime", "-id"))
    filterset = ScanFilter(filters, queryset=qs)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs


def inside_from_log(clist: CheckinList) -> set[int]:
    """Tickets inside according to the scan log alone (the definition, used to verify the state rows)."""
    latest = (
        Scan.objects.filter(checkin_list=clist, ticket=OuterRef("ticket"), successful=True)
        .order_by("-datetime", "-id").values("type")[:1]
    )
    rows = (
        Scan.objects.filter(checkin_list=clist, successful=True).values("ticket").distinct()
        .annotate(last=Subquery(latest)).filter(last=Scan.Type.ENTRY)
    )
    return {row["ticket"] for row in rows}


def arrivals_per_slot(*, clist: CheckinList, at, minutes: int = 10, hours: int = 12) -> list[dict]:
    """Successful entries on ``clist`` per ``minutes``-long slot over the last ``hours`` (the door
    statistics chart). Bucketed in Python: at most a few thousand timestamps from the list's
    (checkin_list, -datetime) index, and no database-specific date arithmetic."""
    since = at - timedelta(hours=hours)
    stamps = Scan.objects.filter(checkin_list=clist, type=Scan.Type.ENTRY, successful=True,
                                 datetime__gte=since, datetime__lte=at).values_list("datetime", flat=True)
    width = minutes * 60
    counts = Counter(int(stamp.timestamp()) // width * width for stamp in stamps)
    if not counts:
        return []
    first_slot, last_slot = min(counts), int(at.timestamp()) // width * width
    return [{"start": datetime.fromtimestamp(slot, tz=UTC).isoformat(), "entries": counts.get(slot, 0)}
            for slot in range(first_slot, last_slot + 1, width)]
