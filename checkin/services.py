"""Check-in writes: scans (entry/exit), single checkout and set-based bulk checkout.

Every scan locks only the scanned ticket's rows (the ticket, then its state row on the list), never the
list or the event, so scans of different tickets never wait for each other. The judgement is made under
those locks; the scan row and the state row are written in the same transaction.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from checkin import selectors
from checkin.errors import InvalidPosition
from checkin.models import (
    CheckinList,
    CheckoutBatch,
    Event,
    Organizer,
    RevokedSecret,
    Scan,
    Ticket,
    TicketListState,
    new_secret,
)
from checkin.presenters import checkin_data
from checkin.selectors import CHECKIN_FIELDS, checkins_from_rows, first
from checkin.signals import checkin_recorded
from config import sql as rawsql

ENTRY, EXIT = Scan.Type.ENTRY, Scan.Type.EXIT
R = Scan.Reason


@dataclass
class ScanRequest:
    type: str = ENTRY
    force: bool = False
    nonce: str | None = None
    at: datetime | None = None
    user: object = None
    gate: str = ""
    # The scanner app (pretix device auth), when a device rather than a staff user scans.
    device: object = None
    # eventyay's single checkout refuses an exit of someone not inside whatever the list says.
    strict_exit: bool = False

    def __post_init__(self) -> None:
        # A device's gate label (set in the admin) marks its scans when the app sends none.
        if not self.gate and self.device is not None:
            self.gate = self.device.gate


@dataclass
class ScanResult:
    scan: Scan
    ticket: Ticket | None
    checkin_list: CheckinList
    replayed: bool = False
    # ``position.checkins`` of the response when known without a query (see ``_known_checkins``).
    checkins: list[dict] | None = None

    @property
    def ok(self) -> bool:
        return self.scan.successful


@dataclass
class BulkResult:
    batch: CheckoutBatch
    checked_out: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)


# --- Locks (module-level so the concurrency tests' negative controls can swap them out) -------------


# All our row locks are FOR NO KEY UPDATE: we never change a key, and a plain FOR UPDATE would conflict
# with the FOR KEY SHARE locks that foreign-key checks take when scan rows are inserted. (With FOR UPDATE,
# a single scan holding its ticket and a bulk checkout inserting that ticket's exit row deadlock; the
# bulk-vs-single concurrency test found exactly that.)


def lock_ticket(*, event_ids: set[int], secret: str | None = None, pk: int | None = None) -> Ticket | None:
    where, value = ("r.secret = %s", secret) if secret is not None else ("r.id = %s", pk)
    # Looked up by its unique key alone, then checked against the scanner's events in Python. Hand-written
    # (see ``config.sql``): this and lock_state run on every scan, and compiling them cost more than running.
    ticket = rawsql.locked_row(Ticket, where, [value])
    return ticket if ticket is not None and ticket.event_id in event_ids else None


def lock_state(*, ticket_id: int, list_id: int) -> TicketListState | None:
    # Bulk checkout flips state rows with an UPDATE (row locks), so holding this row lock while we judge
    # makes a single scan and a bulk checkout of the same person serialise instead of both exiting.
    return rawsql.locked_row(TicketListState, "r.ticket_id = %s AND r.checkin_list_id = %s", [ticket_id, list_id])


# The state row was not looked for (several lists, SQLite): lock_state must look.
UNKNOWN = object()
# ``lock_ticket_and_state`` found no state row: that proves nothing yet (see there), but it is most likely
# a first scan on the list; ``_first_scan`` tries that guess before lock_state looks.
NOT_FOUND = object()

_TICKET_AND_STATE = """
SELECT t.*, s.*
FROM (SELECT {ticket_columns} FROM {ticket} r WHERE {where}{lock}) t
LEFT JOIN LATERAL (SELECT {state_columns} FROM {state} r WHERE r.ticket_id = t.id AND r.checkin_list_id = %s{lock}) s
ON TRUE
"""


@cache
def _ticket_and_state_sql(vendor: str, where: str) -> str:
    ticket_columns, state_columns = rawsql.columns(Ticket), rawsql.columns(TicketListState)
    return _TICKET_AND_STATE.format(
        ticket_columns=ticket_columns, state_columns=state_columns, ticket=rawsql.table(Ticket),
        state=rawsql.table(TicketListState), where=where, lock=rawsql.for_update(),
    )


def lock_ticket_and_state(*, event_ids: set[int], list_id: int, secret: str | None = None,
                          pk: int | None = None) -> tuple[Ticket | None, TicketListState | None | object]:
    """``lock_ticket`` and ``lock_state`` in ONE statement when the list is known before the ticket (a
    single list): the ticket's row lock first, then its state row's, as two statements would take them.

    A state row it returns is current: a row lock always takes, and returns, the newest committed version
    of the row. A state row it does NOT return proves nothing: the statement's snapshot was taken before
    it waited for the ticket lock, so a first entry that committed meanwhile (inserting the row) is
    invisible to it. Then the state is ``NOT_FOUND``: a first scan writes the row guarded by its unique
    index (``_first_scan``), anything else has ``lock_state`` read it with a fresh snapshot. PostgreSQL only (SQLite has
    no row locks; its IMMEDIATE transactions serialise the writers instead)."""
    where, value = ("r.secret = %s", secret) if secret is not None else ("r.id = %s", pk)
    found = rawsql.fetch(_ticket_and_state_sql(rawsql.db().vendor, where), [value, list_id])
    if not found:
        return None, UNKNOWN
    width = len(Ticket._meta.concrete_fields)
    ticket = rawsql.build(Ticket, found[0][:width])
    if ticket.event_id not in event_ids:
        return None, UNKNOWN
    state_row = found[0][width:]
    return ticket, (NOT_FOUND if state_row[0] is None else rawsql.build(TicketListState, state_row))


# The door's usual request (one list, PostgreSQL): the list with its event and organizer and the scanner's
# right to scan there (``selectors.redeem_lists``' query), the ticket's row lock and its state row's, in ONE
# statement. The ticket subquery takes its lock before the lateral state subquery, which needs its id.
_LIST_TICKET_AND_STATE = """
SELECT {lists}, {events}, {organizers}, t.*, s.*
FROM {list_table} l JOIN {event_table} e ON e.id = l.event_id JOIN {organizer_table} o ON o.id = e.organizer_id
LEFT JOIN (SELECT {ticket_columns} FROM {ticket} r WHERE r.secret = %s{lock}) t ON TRUE
LEFT JOIN LATERAL (SELECT {state_columns} FROM {state} r WHERE r.ticket_id = t.id AND r.checkin_list_id = l.id{lock}) s
ON TRUE
WHERE l.id = %s AND o.slug = %s{rights}
"""


@cache
def _list_ticket_and_state_sql(vendor: str, *, unrestricted: bool) -> str:
    return _LIST_TICKET_AND_STATE.format(
        lists=rawsql.columns(CheckinList, "l"), events=rawsql.columns(Event, "e"),
        organizers=rawsql.columns(Organizer, "o"), list_table=rawsql.table(CheckinList),
        event_table=rawsql.table(Event), organizer_table=rawsql.table(Organizer),
        ticket_columns=rawsql.columns(Ticket), ticket=rawsql.table(Ticket),
        state_columns=rawsql.columns(TicketListState), state=rawsql.table(TicketListState), lock=rawsql.for_update(),
        rights="" if unrestricted else selectors.checkin_rights_sql(),
    )


def redeem_checked(*, user, slug: str, list_id: int, secret: str, req: ScanRequest) -> ScanResult | None:
    """``redeem`` of ``secret`` on the one list ``list_id`` of organizer ``slug`` for a scanner whose right
    to scan there is not checked yet: the check (``selectors.redeem_lists``) and the ticket and state locks
    in one statement (PostgreSQL). None, with nothing written, when the check fails (or off PostgreSQL,
    before any statement): the caller then takes the general path, which answers 404, 403 or 400 as
    appropriate."""
    unrestricted = selectors.redeem_access(user, slug)
    if unrestricted is None or rawsql.db().vendor != "postgresql":
        return None
    return _redeem_checked(user=user, slug=slug, list_id=list_id, secret=secret, req=req, unrestricted=unrestricted)


@transaction.atomic
def _redeem_checked(*, user, slug: str, list_id: int, secret: str, req: ScanRequest,
                    unrestricted: bool) -> ScanResult | None:
    req.at = req.at or timezone.now()
    params = [secret, list_id, slug] + ([] if unrestricted else [user.pk, True, True])
    found = rawsql.fetch(_list_ticket_and_state_sql("postgresql", unrestricted=unrestricted), params)
    if not found:
        return None
    row = found[0]
    clist, event, organizer = rawsql.split(row, CheckinList, Event, Organizer)
    if not selectors.device_allows(user, event.pk):
        return None
    event.organizer, clist.event = organizer, event
    start = sum(len(m._meta.concrete_fields) for m in (CheckinList, Event, Organizer))
    width = len(Ticket._meta.concrete_fields)
    ticket, state = None, UNKNOWN
    if row[start] is not None:  # the ticket's id: no ticket has this secret otherwise
        ticket = rawsql.build(Ticket, row[start:start + width])
        if ticket.event_id != clist.event_id:
            ticket = None
        else:  # as in lock_ticket_and_state
            state = NOT_FOUND if row[start + width] is None else rawsql.build(TicketListState, row[start + width:])
    return _redeem_locked(secret=secret, lists=[clist], req=req, ticket=ticket, state=state)


def _lock(*, event_ids: set[int], list_id: int | None, secret: str | None = None,
          pk: int | None = None) -> tuple[Ticket | None, TicketListState | None | object]:
    """The ticket locked, and its state row on ``list_id`` when one statement can tell (else UNKNOWN)."""
    if list_id is not None and rawsql.db().vendor == "postgresql":
        return lock_ticket_and_state(event_ids=event_ids, list_id=list_id, secret=secret, pk=pk)
    return lock_ticket(event_ids=event_ids, secret=secret, pk=pk), UNKNOWN


# --- Rules -------------------------------------------------------------------------------------------


def judge(*, ticket: Ticket, clist: CheckinList, state: TicketListState | None, req: ScanRequest) -> str | None:
    """The refusal reason for this scan, or None if it is allowed. Pure: reads only its arguments."""
    if req.type == EXIT:
        return _judge_exit(ticket=ticket, clist=clist, state=state, strict=req.strict_exit)
    return _judge_entry(ticket=ticket, clist=clist, state=state, at=req.at)


def _judge_entry(*, ticket, clist, state, at) -> str | None:
    # Any status but valid refuses entry: a status we do not know yet must never let someone in.
    if ticket.status != Ticket.Status.VALID:
        return R.CANCELED
    if not clist.covers(ticket.ticket_type):
        return R.PRODUCT
    if (clist.valid_from and at < clist.valid_from) or (clist.valid_until and at > clist.valid_until):
        return R.INVALID_TIME
    if state is not None:
        if state.inside and not clist.allow_multiple_entries:
            return R.ALREADY_REDEEMED
        if not state.inside and state.exit_count and not clist.allow_entry_after_exit:
            return R.ALREADY_REDEEMED
    return None


def _judge_exit(*, ticket, clist, state, strict: bool) -> str | None:
    # Exits ignore revocation and opening times on purpose: letting someone out is never the harm.
    if not clist.covers(ticket.ticket_type):
        return R.PRODUCT
    inside = state is not None and state.inside
    if not inside and (strict or clist.require_entry_for_exit):
        return R.NOT_CHECKED_IN
    return None


def pick_list(ticket: Ticket, lists: list[CheckinList]) -> tuple[CheckinList, str | None]:
    """The list this ticket is scanned on among the scanner's lists (all of the ticket's event)."""
    candidates = [c for c in lists if c.event_id == ticket.event_id]
    if len(candidates) == 1:
        return candidates[0], None
    covering = [c for c in candidates if c.covers(ticket.ticket_type)]
    if len(covering) == 1:
        return covering[0], None
    return (covering or candidates)[0], R.AMBIGUOUS


# --- Writes ------------------------------------------------------------------------------------------


def _replay(clist: CheckinList, nonce: str, *, ticket: Ticket | None = None, raw_code: str = "",
            successful: bool = True) -> ScanResult | None:
    """The earlier scan this nonce names, as pretix scopes nonces: per (list, ticket); for unknown codes per
    (list, code read). ``successful``: only a successful scan replays (a refusal never holds a nonce)."""
    scans = Scan.objects.select_related("ticket").filter(checkin_list=clist, nonce=nonce)
    if ticket is None:
        scans = scans.filter(ticket__isnull=True, raw_code=raw_code)
    else:
        scans = scans.filter(ticket=ticket, successful=successful)
    found = first(scans)
    if found is None:
        return None
    return ScanResult(scan=found, ticket=found.ticket, checkin_list=clist, replayed=True)


def _new_scan(req: ScanRequest, *, clist: CheckinList, **fields) -> Scan:
    return Scan(checkin_list=clist, type=req.type, nonce=req.nonce or None, datetime=req.at, user=req.user,
                device=req.device, gate=req.gate, **fields)


def _insert(req: ScanRequest, *, clist: CheckinList, **fields) -> Scan | ScanResult:
    scan = _new_scan(req, clist=clist, **fields)
    if not req.nonce:
        scan.save(force_insert=True)
        return scan
    try:
        with transaction.atomic():
            scan.save(force_insert=True)
    except IntegrityError:
        # Another request with this nonce (for this ticket, or for this unknown code) committed first.
        replayed = _replay(clist, req.nonce, ticket=scan.ticket, raw_code=scan.raw_code)
        if replayed is not None:
            return replayed
        raise
    return scan


def _apply(state: TicketListState | None, scan: Scan) -> None:
    """Move the state row to include this successful scan (F() counters, same transaction)."""
    is_entry = scan.type == ENTRY
    if state is None:
        TicketListState.objects.create(
            ticket_id=scan.ticket_id, checkin_list_id=scan.checkin_list_id, inside=is_entry,
            last_datetime=scan.datetime, entry_count=int(is_entry), exit_count=int(not is_entry),
            modified=scan.server_datetime,
        )
        return
    updates = {"entry_count": F("entry_count") + 1} if is_entry else {"exit_count": F("exit_count") + 1}
    updates["modified"] = scan.server_datetime
    # The new row has the highest id, so it is the latest by (datetime, id) unless its datetime is
    # earlier (an offline upload of an old scan): then it is logged and counted but does not move "inside".
    if scan.datetime >= state.last_datetime:
        updates.update(inside=is_entry, last_datetime=scan.datetime)
    TicketListState.objects.filter(pk=state.pk).update(**updates)


def _known_checkins(state: TicketListState | None, scan: Scan, lists: list[CheckinList] | None) -> list[dict] | None:
    """The ticket's successful scans on ``lists`` without reading the log, when the locked state row
    proves them: no state row means no successful scan on this list yet (every successful scan, single
    or bulk, writes or moves the state row in its own transaction, and we hold the ticket and state
    locks). Only for a single list; anything else is left to the presenter's query."""
    if state is not None or lists is None or len(lists) != 1:
        return None
    return [checkin_data(scan)] if scan.successful else []


# --- One-statement writes (PostgreSQL, scans without a nonce) ---------------------------------------
# The scan row, the state row's move and, when the response needs them, the ticket's earlier
# successful scans on the list, in ONE statement instead of three: same transaction, same locks held,
# same values as the ORM path (which SQLite and nonce scans take: a nonce needs its savepoint).

_WRITE = """
WITH new_scan AS (
    INSERT INTO {scan} (ticket_id, checkin_list_id, type, successful, error_reason, forced, nonce, datetime,
                        server_datetime, user_id, device_id, gate, raw_code, batch_id)
    VALUES (%s, %s, %s, %s, %s, %s, NULL, %s, %s, %s, %s, %s, '', NULL) RETURNING id
){state_cte}
SELECT n.id{earlier}
"""
_NEW_STATE = """, moved AS (INSERT INTO {state} (ticket_id, checkin_list_id, inside, last_datetime, entry_count,
                                          exit_count, modified, last_batch_id)
                            VALUES (%s, %s, %s, %s, %s, %s, %s, NULL))"""
_MOVE_STATE = """, moved AS (UPDATE {state} SET entry_count = entry_count + %s, exit_count = exit_count + %s,
                     modified = %s{move} WHERE id = %s)"""
# The statement's snapshot is taken after both locks were granted, and no other successful scan of this
# ticket on this list can commit while we hold its state row, so this is the log as of our scan. (Our
# own new row is not visible to it: rows a WITH clause inserts are not visible to the main query.)
# The read is a subquery ordered as the (ticket, list, datetime, id) index is, so that index answers it
# presorted whatever the planner's statistics say. As a plain join the (list, datetime) index looked as
# cheap to a plan made while the log was small or its statistics stale (a prepared statement keeps its
# generic plan until the table is re-ANALYZEd or the connection closes), and then every repeat read every
# scan of the list.
_EARLIER = """, s.* FROM new_scan n
LEFT JOIN (SELECT {columns} FROM {scan} s WHERE s.ticket_id = %s AND s.checkin_list_id = %s AND s.successful = %s
           ORDER BY s.datetime, s.id) s ON TRUE
ORDER BY s.datetime, s.id"""


# A successful scan whose state row the lock statement did not find (``NOT_FOUND``: usually a first entry,
# and then there is none). Instead of looking again first (``lock_state``), the state row is inserted
# ON CONFLICT DO NOTHING and the scan row only from the row it returns: the unique (list, ticket) index
# sees a row committed after our snapshot, so if one exists after all the statement writes nothing,
# returns nothing, and the caller looks and judges again. No uncommitted one can exist: state rows are
# only inserted by scans holding the ticket's lock, which we hold.
_GUARDED_FIRST_WRITE = """
WITH moved AS (
    INSERT INTO {state} (ticket_id, checkin_list_id, inside, last_datetime, entry_count, exit_count, modified,
                         last_batch_id)
    VALUES (%s, %s, %s, %s, %s, %s, %s, NULL) ON CONFLICT DO NOTHING RETURNING id
), new_scan AS (
    INSERT INTO {scan} (ticket_id, checkin_list_id, type, successful, error_reason, forced, nonce, datetime,
                        server_datetime, user_id, device_id, gate, raw_code, batch_id)
    SELECT %s, %s, %s, %s, %s, %s, NULL, %s, %s, %s, %s, %s, '', NULL FROM moved RETURNING id
)
SELECT id FROM new_scan
"""


@cache
def _guarded_first_write_sql(vendor: str) -> str:
    return _GUARDED_FIRST_WRITE.format(state=rawsql.table(TicketListState), scan=rawsql.table(Scan))


def _write_first(req: ScanRequest, *, clist: CheckinList, ticket: Ticket, forced: bool) -> Scan | None:
    """A successful scan that creates the ticket's state row on ``clist`` (``_GUARDED_FIRST_WRITE``); None,
    with nothing written, when the state row exists after all."""
    scan = _new_scan(req, clist=clist, ticket=ticket, successful=True, error_reason="", forced=forced)
    conn, is_entry = rawsql.db(), scan.type == ENTRY
    at = conn.ops.adapt_datetimefield_value(scan.datetime)
    now = conn.ops.adapt_datetimefield_value(scan.server_datetime)
    params = [ticket.pk, clist.pk, is_entry, at, int(is_entry), int(not is_entry), now,
              ticket.pk, clist.pk, scan.type, True, "", forced, at, now, scan.user_id, scan.device_id, scan.gate]
    found = rawsql.fetch(_guarded_first_write_sql(conn.vendor), params)
    if not found:
        return None
    scan.pk = found[0][0]
    scan._state.adding, scan._state.db = False, conn.alias
    return scan


@cache
def _write_sql(vendor: str, *, successful: bool, new_state: bool, moves: bool, earlier: bool) -> str:
    state_cte = ""
    if successful:
        move = ", inside = %s, last_datetime = %s" if moves else ""
        state_cte = _NEW_STATE if new_state else _MOVE_STATE.replace("{move}", move)
    return _WRITE.format(
        state_cte=state_cte.format(state=rawsql.table(TicketListState)), scan=rawsql.table(Scan),
        earlier=_EARLIER.format(columns=rawsql.columns(Scan, "s", CHECKIN_FIELDS), scan=rawsql.table(Scan))
        if earlier else " FROM new_scan n",
    )


def _write(req: ScanRequest, *, clist: CheckinList, ticket: Ticket, state: TicketListState | None,
           lists: list[CheckinList] | None, successful: bool, forced: bool = False,
           error_reason: str = "") -> tuple[Scan, list[dict] | None]:
    """``_insert`` (+ ``_apply`` when successful) in one statement; returns the scan and the response's
    ``position.checkins`` when it is known (see ``_known_checkins``) or was read by the statement."""
    scan = _new_scan(req, clist=clist, ticket=ticket, successful=successful, error_reason=error_reason, forced=forced)
    conn, is_entry = rawsql.db(), scan.type == ENTRY
    at = conn.ops.adapt_datetimefield_value(scan.datetime)
    now = conn.ops.adapt_datetimefield_value(scan.server_datetime)
    params = [ticket.pk, clist.pk, scan.type, successful, error_reason, forced, at, now, scan.user_id,
              scan.device_id, scan.gate]
    # As in _apply: an offline upload older than the latest scan is counted but does not move "inside".
    moves = state is None or scan.datetime >= state.last_datetime
    if successful and state is None:
        params += [ticket.pk, clist.pk, is_entry, at, int(is_entry), int(not is_entry), now]
    elif successful:
        params += [int(is_entry), int(not is_entry), now, *([is_entry, at] if moves else []), state.pk]
    # Without a state row there is no earlier successful scan to read (``_known_checkins``).
    earlier = state is not None and lists is not None and len(lists) == 1
    if earlier:
        params += [ticket.pk, clist.pk, True]
    sql = _write_sql(conn.vendor, successful=successful, new_state=state is None, moves=moves, earlier=earlier)
    found = rawsql.fetch(sql, params)
    scan.pk = found[0][0]
    scan._state.adding, scan._state.db = False, conn.alias
    if not earlier:
        return scan, _known_checkins(state, scan, lists)
    checkins = checkins_from_rows([row[1:] for row in found if row[1] is not None])
    if successful:
        checkins = sorted([*checkins, checkin_data(scan)], key=lambda c: (c["datetime"], c["id"]))
    return scan, checkins


def _first_scan(req: ScanRequest, *, ticket: Ticket, clist: CheckinList, preset: str | None,
                lists: list[CheckinList] | None) -> ScanResult | None:
    """A scan whose state row the lock statement did not find (``NOT_FOUND``), most likely a first scan on
    the list: a scan that would write the state row writes it guarded by its unique index
    (``_write_first``), saving the second look. None when that does not apply and the caller must look
    (``lock_state``): a refusal (its reason and its answer's check-ins depend on what is really there), a
    write the guard stopped, a nonce (the ORM path and its savepoint) or SQLite."""
    if req.nonce or rawsql.db().vendor != "postgresql":
        return None
    reason = preset or judge(ticket=ticket, clist=clist, state=None, req=req)
    if reason is not None and not req.force:
        return None
    scan = _write_first(req, clist=clist, ticket=ticket, forced=reason is not None)
    if scan is None:
        return None
    checkin_recorded.send(sender=Scan, scan=scan, ticket=ticket, checkin_list=clist)
    return ScanResult(scan=scan, ticket=ticket, checkin_list=clist, checkins=_known_checkins(None, scan, lists))


def _scan(req: ScanRequest, *, ticket: Ticket, clist: CheckinList, preset: str | None = None,
          lists: list[CheckinList] | None = None, state: TicketListState | None | object = UNKNOWN) -> ScanResult:
    if state is NOT_FOUND and (first := _first_scan(req, ticket=ticket, clist=clist, preset=preset, lists=lists)):
        return first
    if state is UNKNOWN or state is NOT_FOUND:
        state = lock_state(ticket_id=ticket.pk, list_id=clist.pk)
    if req.nonce and (replayed := _replay(clist, req.nonce, ticket=ticket)) is not None:
        return replayed
    reason = preset or judge(ticket=ticket, clist=clist, state=state, req=req)
    refused = reason is not None and not req.force
    # A refusal retried and refused again replays the stored refusal (nothing new in the log); a retry
    # that now succeeds (forced, or the state changed) is stored: refusals never hold a nonce.
    if refused and req.nonce:
        replayed = _replay(clist, req.nonce, ticket=ticket, successful=False)
        if replayed is not None:
            return replayed
    fields = {"successful": False, "error_reason": reason} if refused else {"successful": True, "forced": bool(reason)}
    if req.nonce or rawsql.db().vendor != "postgresql":
        scan = _insert(req, clist=clist, ticket=ticket, **fields)
        if isinstance(scan, ScanResult):
            return scan
        if not refused:
            _apply(state, scan)
        checkins = _known_checkins(state, scan, lists)
    else:
        scan, checkins = _write(req, clist=clist, ticket=ticket, state=state, lists=lists, **fields)
    if not refused:
        checkin_recorded.send(sender=Scan, scan=scan, ticket=ticket, checkin_list=clist)
    return ScanResult(scan=scan, ticket=ticket, checkin_list=clist, checkins=checkins)


@transaction.atomic
def redeem(*, secret: str, lists: list[CheckinList], req: ScanRequest) -> ScanResult:
    """Scan a ticket secret on one of ``lists`` (pretix's redeem). Refusals are stored and returned, not
    raised; ``force`` turns any refusal but ``invalid`` into a forced scan; a known nonce replays."""
    req.at = req.at or timezone.now()
    event_ids = {c.event_id for c in lists}
    # One list (a door's usual request): its state row can be locked with the ticket.
    ticket, state = _lock(secret=secret, event_ids=event_ids, list_id=lists[0].pk if len(lists) == 1 else None)
    return _redeem_locked(secret=secret, lists=lists, req=req, ticket=ticket, state=state)


def _redeem_locked(*, secret: str, lists: list[CheckinList], req: ScanRequest, ticket: Ticket | None,
                   state: TicketListState | None | object) -> ScanResult:
    """``redeem`` once the ticket (None: no ticket of these lists' events has this secret) is locked."""
    req.at = req.at or timezone.now()
    event_ids = {c.event_id for c in lists}
    revoked = False
    if ticket is None:
        ticket, revoked = _revoked_secret_ticket(secret, event_ids), True
    if ticket is None:
        return _unknown(req, clist=lists[0], raw_code=secret[:190])
    clist, preset = pick_list(ticket, lists)
    ticket.event = clist.event
    # A revoked secret is judged like any refusal (so ``force`` stores an offline scan of it).
    return _scan(req, ticket=ticket, clist=clist, preset=R.REVOKED if revoked else preset, lists=lists, state=state)


def _revoked_secret_ticket(secret: str, event_ids: set[int]) -> Ticket | None:
    # Only on the miss path (unknown codes), so a valid scan pays nothing for it.
    pk = RevokedSecret.objects.filter(secret=secret).values_list("ticket_id", flat=True).first()
    return None if pk is None else lock_ticket(pk=pk, event_ids=event_ids)


def _unknown(req: ScanRequest, *, clist: CheckinList, raw_code: str) -> ScanResult:
    if req.nonce and (replayed := _replay(clist, req.nonce, raw_code=raw_code)) is not None:
        return replayed
    scan = _insert(req, clist=clist, successful=False, error_reason=R.INVALID, raw_code=raw_code)
    return scan if isinstance(scan, ScanResult) else ScanResult(scan=scan, ticket=None, checkin_list=clist)


@transaction.atomic
def redeem_position(*, ticket_id: int, clist: CheckinList, req: ScanRequest) -> ScanResult:
    """pretix's per-list redeem by the position's internal id (``positions/<id>/redeem/``)."""
    req.at = req.at or timezone.now()
    ticket, state = _lock(pk=ticket_id, event_ids={clist.event_id}, list_id=clist.pk)
    if ticket is None:
        raise InvalidPosition("Unknown ticket for this check-in list.")
    ticket.event = clist.event
    return _scan(req, ticket=ticket, clist=clist, lists=[clist], state=state)


@transaction.atomic
def record_failed(*, clist: CheckinList, raw_code: str, reason: str, req: ScanRequest,
                  ticket_id: int | None = None) -> Scan:
    """pretix's ``failed_checkins``: a refusal an offline scanner made, stored in the log as it was made.
    It never touches the state row; a nonce-less upload retried twice is stored twice (as in pretix)."""
    req.at = req.at or timezone.now()
    ticket = None
    if ticket_id is not None:
        ticket = Ticket.objects.filter(pk=ticket_id, event_id=clist.event_id).first()
        if ticket is None:
            raise InvalidPosition("Unknown ticket for this check-in list.")
    scan = _new_scan(req, clist=clist, ticket=ticket, successful=False, error_reason=reason,
                     raw_code="" if ticket else raw_code[:190])
    scan.save(force_insert=True)
    return scan


@transaction.atomic
def regenerate_secret(*, ticket: Ticket) -> str:
    """Give a ticket a new secret (a leaked or resold ticket). The old one is kept as revoked: scanning it
    answers ``revoked`` with the ticket, so the door can tell an outdated ticket from a forged one."""
    locked = lock_ticket(pk=ticket.pk, event_ids={ticket.event_id})
    RevokedSecret.objects.create(ticket=locked, secret=locked.secret)
    ticket.secret = new_secret()
    Ticket.objects.filter(pk=ticket.pk).update(secret=ticket.secret, modified=timezone.now())
    return ticket.secret


@transaction.atomic
def checkout(*, ticket_id: int, clist: CheckinList, req: ScanRequest) -> ScanResult:
    """eventyay's single checkout: an exit that needs the attendee inside unless forced."""
    req.type, req.strict_exit, req.at = EXIT, True, req.at or timezone.now()
    ticket, state = _lock(pk=ticket_id, event_ids={clist.event_id}, list_id=clist.pk)
    if ticket is None:
        raise InvalidPosition("Unknown ticket or check-in list for this event.")
    return _scan(req, ticket=ticket, clist=clist, state=state)


# --- Bulk checkout -----------------------------------------------------------------------------------

_INSERT_EXITS = """
INSERT INTO {scan} (ticket_id, checkin_list_id, type, successful, error_reason, forced, nonce, datetime,
                    server_datetime, user_id, device_id, gate, raw_code, batch_id)
SELECT ticket_id, checkin_list_id, %s, %s, '', %s, NULL, %s, %s, %s, NULL, '', '', %s
FROM {state} WHERE last_batch_id = %s
"""


def _insert_exit_rows(batch: CheckoutBatch, *, user_id: int | None) -> None:
    ops = connection.ops
    sql = _INSERT_EXITS.format(scan=ops.quote_name(Scan._meta.db_table),
                               state=ops.quote_name(TicketListState._meta.db_table))
    at = ops.adapt_datetimefield_value(batch.datetime)
    now = ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [EXIT.value, True, False, at, now, user_id, batch.pk, batch.pk])


@transaction.atomic
def bulk_checkout(*, event, lists: list[CheckinList], at: datetime | None = None, user=None,
                  trigger: str = CheckoutBatch.Trigger.API) -> BulkResult:
    """Check out everyone inside ``lists`` with a constant number of SQL statements.

    One UPDATE flips the state rows (taking their row locks, so a single scan judging the same person
    either finishes first or sees the flip), one INSERT ... SELECT writes the exit rows of exactly the
    flipped rows, and one CheckoutBatch row is the audit record. ``checkin_recorded`` is NOT sent for
    these exits: one signal per person would make the cost grow with the room.
    People whose latest scan is later than ``at`` stay inside and are reported as errors.
    """
    at = at or timezone.now()
    ids = sorted(c.pk for c in lists)
    # Two bulk checkouts of the same list serialise here (pk order), so their UPDATEs never deadlock.
    locked = CheckinList.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
    list(locked.values_list("pk", flat=True))
    user_id = getattr(user, "pk", None)
    batch = CheckoutBatch.objects.create(event=event, list_ids=ids, user_id=user_id, trigger=trigger, datetime=at)
    moved = TicketListState.objects.filter(checkin_list_id__in=ids, inside=True, last_datetime__lte=at).update(
        inside=False, exit_count=F("exit_count") + 1, last_datetime=at, last_batch=batch, modified=timezone.now()
    )
    _insert_exit_rows(batch, user_id=user_id)
    CheckoutBatch.objects.filter(pk=batch.pk).update(checked_out=moved)
    batch.checked_out = moved
    checked_out = list(
        Scan.objects.filter(batch=batch).order_by("ticket_id")
        .values("ticket_id", "ticket__order_code", "ticket__attendee_name").distinct()
    )
    later = TicketListState.objects.filter(checkin_list_id__in=ids, inside=True, last_datetime__gt=at)
    errors = [{"position_id": pk, "error": "Scanned in after the checkout time."}
              for pk in later.order_by("ticket_id").values_list("ticket_id", flat=True).distinct()]
    return BulkResult(batch=batch, checked_out=checked_out, errors=errors)


def due_scheduled_checkouts(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(CheckinList.objects.filter(exit_all_at__lte=now).values_list("pk", flat=True))


def next_exit_all(event, due: datetime) -> datetime | None:
    """When a list's scheduled checkout at ``due`` should run next: the same local time on the next day
    while the event lasts past that moment (pretix does the same for multi-day events), else never.
    Local = the site's TIME_ZONE (events carry no zone of their own); across a DST change the wall-clock
    time stays, so the gap between two runs is 23 or 25 hours."""
    if event.date_to is None:
        return None
    zone = timezone.get_default_timezone()
    local = due.astimezone(zone)
    # In UTC: Python compares and subtracts two datetimes of the same zone by wall clock, ignoring DST.
    following = datetime.combine(local.date() + timedelta(days=1), local.time(), tzinfo=zone).astimezone(UTC)
    return following if event.date_to > following else None


def run_scheduled_checkout(*, list_id: int) -> BulkResult | None:
    """Check out everyone on a list whose ``exit_all_at`` has passed, exactly once per setting.

    The conditional UPDATE that moves ``exit_all_at`` on (to the next day while the event lasts, see
    ``next_exit_all``, else to NULL) claims the work: a second worker (or a rerun) matches no row and
    does nothing. A list that missed several days catches up one day per beat, each at its own time.
    """
    with transaction.atomic():
        clist = CheckinList.objects.select_related("event").filter(pk=list_id, exit_all_at__isnull=False).first()
        if clist is None:
            return None
        due = clist.exit_all_at
        if due > timezone.now():
            return None
        following = next_exit_all(clist.event, due)
        if CheckinList.objects.filter(pk=list_id, exit_all_at=due).update(exit_all_at=following) != 1:
            return None  # another worker got there first
        return bulk_checkout(event=clist.event, lists=[clist], at=due, trigger=CheckoutBatch.Trigger.SCHEDULE)
