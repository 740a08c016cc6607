"""Invariant 4 under real concurrent transactions (PostgreSQL), each with a negative control that removes
the guard and shows the race is real, so these tests can fail."""

import threading
import time
from collections import defaultdict

import pytest
from django.db import connection, connections

from checkin import services
from checkin.models import CheckinList, Event, Organizer, Scan, Ticket, TicketListState
from checkin.services import ScanRequest
from tests.concurrency import postgres_only, run_concurrently

pytestmark = [postgres_only, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


@pytest.fixture
def door():
    organizer = Organizer.objects.create(name="Org", slug="org")
    event = Event.objects.create(organizer=organizer, name="Conf", slug="conf")
    clist = CheckinList.objects.create(event=event, name="Main")
    return event, clist


def scan(ticket, clist, type="entry", **req):
    return services.redeem(secret=ticket.secret, lists=[clist], req=ScanRequest(type=type, **req))


def without_locks(monkeypatch):
    """The negative control: the same queries without FOR UPDATE."""
    monkeypatch.setattr(services, "lock_ticket", lambda *, event_ids, secret=None, pk=None: Ticket.objects.filter(
        event_id__in=event_ids, **({"secret": secret} if secret is not None else {"pk": pk})).first())
    monkeypatch.setattr(services, "lock_state", lambda *, ticket_id, list_id: TicketListState.objects.filter(
        ticket_id=ticket_id, checkin_list_id=list_id).first())
    monkeypatch.setattr(services, "lock_ticket_and_state", lambda *, event_ids, list_id, secret=None, pk=None: (
        services.lock_ticket(event_ids=event_ids, secret=secret, pk=pk), services.UNKNOWN))


def pause_after(monkeypatch, name: str, barrier: threading.Barrier):
    """Hold every caller of ``services.<name>`` right after it returns, widening the check-then-write gap."""
    original = getattr(services, name)
    paused_threads = set()

    def paused(*args, **kwargs):
        result = original(*args, **kwargs)
        if threading.get_ident() not in paused_threads:  # only a thread's first call waits
            paused_threads.add(threading.get_ident())
            barrier.wait(timeout=20)
        return result

    monkeypatch.setattr(services, name, paused)


def check_log_consistency(clist):
    """State rows equal the scan log, and (no forced scans, single entry lists) successful scans alternate."""
    sequences = defaultdict(list)
    for ticket_id, kind in (Scan.objects.filter(checkin_list=clist, successful=True)
                            .order_by("ticket_id", "datetime", "id").values_list("ticket_id", "type")):
        sequences[ticket_id].append(kind)
    problems = []
    for st in TicketListState.objects.filter(checkin_list=clist):
        seq = sequences.pop(st.ticket_id, [])
        if st.inside != (bool(seq) and seq[-1] == "entry"):
            problems.append((st.ticket_id, "inside differs from the log"))
        if (st.entry_count, st.exit_count) != (seq.count("entry"), seq.count("exit")):
            problems.append((st.ticket_id, "counts differ from the log"))
        if any(a == b for a, b in zip(seq, seq[1:], strict=False)):
            problems.append((st.ticket_id, f"two successive {seq}"))
    problems += [(t, "scans without a state row") for t in sequences]
    return problems


# --- 20 scanners, one ticket ---------------------------------------------------------------------------


def race_entries(ticket, clist):
    results, errors = run_concurrently(lambda i: scan(ticket, clist, gate=f"g{i}"), threads=THREADS)
    assert errors == []
    return [r for r in results if r.ok]


def test_twenty_scanners_racing_a_fresh_ticket_accept_exactly_one(door):
    event, clist = door
    ticket = Ticket.objects.create(event=event, order_code="A1")
    accepted = race_entries(ticket, clist)
    assert len(accepted) == 1
    assert Scan.objects.filter(successful=False, error_reason="already_redeemed").count() == THREADS - 1
    assert check_log_consistency(clist) == []


def test_negative_control_trusting_a_missing_state_row_from_the_joint_lock_lets_several_in(door, monkeypatch):
    """Why a first entry looks for its state row again after ``lock_ticket_and_state`` found none: that
    statement's snapshot predates its wait for the ticket lock, so it cannot see the row the winner
    inserted. Trusting it, the scanners that queued behind the winner all judge the ticket fresh."""
    event, clist = door
    ticket = Ticket.objects.create(event=event, order_code="A1")
    joint = services.lock_ticket_and_state

    def trusting(**kwargs):
        found, state = joint(**kwargs)
        return found, (None if state is services.NOT_FOUND else state)

    monkeypatch.setattr(services, "lock_ticket_and_state", trusting)
    results, errors = run_concurrently(lambda i: scan(ticket, clist, gate=f"g{i}"), threads=THREADS)
    # Each of them inserts a state row of its own: the unique (ticket, list) key refuses all but the first.
    assert errors != [] or sum(r.ok for r in results) > 1


def _waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = "
                       "current_database()")
        return cursor.fetchone()[0]


def _first_entry_behind_a_first_entry(monkeypatch, door, scan_fn):
    """Scanner A has locked a fresh ticket (no state row) and is held before it writes; scanner B's lock
    statement then starts (its snapshot predates A's commit) and waits for the ticket. A writes and
    commits; B is granted the lock but cannot see A's state row. Returns B's result and what its guarded
    first write returned."""
    event, clist = door
    ticket = Ticket.objects.create(event=event, order_code="A1")
    reached, go, original, writes = threading.Event(), threading.Event(), services._first_scan, []

    def held(req, **kwargs):
        if req.gate == "A":  # A holds the ticket's lock here: its lock statement has returned
            reached.set()
            assert go.wait(20)
        return original(req, **kwargs)

    def recorded(req, **kwargs):
        scan = write_first(req, **kwargs)
        writes.append((req.gate, scan))
        return scan

    write_first = services._write_first
    monkeypatch.setattr(services, "_first_scan", held)
    monkeypatch.setattr(services, "_write_first", recorded)
    results = {}

    def run(gate):
        try:
            results[gate] = scan_fn(ticket, clist, gate)
        finally:
            connections.close_all()

    a, b = threading.Thread(target=run, args=("A",)), threading.Thread(target=run, args=("B",))
    a.start()
    assert reached.wait(20)
    b.start()
    for _ in range(400):  # until B's lock statement waits for A's ticket lock (polling, no time asserted)
        if _waiting_on_a_lock():
            break
        time.sleep(0.05)
    assert _waiting_on_a_lock() == 1
    go.set()
    a.join(30)
    b.join(30)
    return ticket, results, writes


def _redeem(ticket, clist, gate):
    return scan(ticket, clist, gate=gate)


def _redeem_checked(ticket, clist, gate):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="door-guard")
    return services.redeem_checked(user=user, slug="org", list_id=clist.pk, secret=ticket.secret,
                                   req=ScanRequest(gate=gate))


@pytest.mark.parametrize("scan_fn", [_redeem, _redeem_checked])
def test_a_first_entry_that_cannot_see_the_winners_state_row_is_stopped_by_its_unique_index(door, monkeypatch,
                                                                                            scan_fn):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser("door-guard", password="x")
    assert user.is_superuser
    ticket, results, writes = _first_entry_behind_a_first_entry(monkeypatch, door, scan_fn)
    assert results["A"].ok and not results["B"].ok
    assert results["B"].scan.error_reason == "already_redeemed"
    # B's guarded write found A's row and wrote nothing; it then looked again and refused.
    assert [(gate, scan is None) for gate, scan in writes] == [("A", False), ("B", True)]
    assert Scan.objects.filter(ticket=ticket).count() == 2
    assert check_log_consistency(door[1]) == []


def exited_ticket(event, clist):
    ticket = Ticket.objects.create(event=event, order_code="A1")
    scan(ticket, clist)
    scan(ticket, clist, "exit")
    return ticket


def test_twenty_scanners_racing_a_re_entry_accept_exactly_one(door):
    event, clist = door
    ticket = exited_ticket(event, clist)
    assert len(race_entries(ticket, clist)) == 1
    assert TicketListState.objects.get(ticket=ticket).entry_count == 2
    assert check_log_consistency(clist) == []


def test_negative_control_without_the_lock_several_scanners_get_in(door, monkeypatch):
    event, clist = door
    ticket = exited_ticket(event, clist)
    without_locks(monkeypatch)
    pause_after(monkeypatch, "judge", threading.Barrier(THREADS))
    assert len(race_entries(ticket, clist)) == THREADS
    assert check_log_consistency(clist) != []


# --- A replayed nonce ----------------------------------------------------------------------------------


def race_nonce(ticket, clist):
    results, errors = run_concurrently(lambda i: scan(ticket, clist, nonce="same-nonce"), threads=THREADS)
    assert errors == []
    return results


def multi_entry_list_with_ticket_inside(event, clist):
    # Multiple entries allowed: the nonce is then the only thing that stops a replay from counting twice.
    CheckinList.objects.filter(pk=clist.pk).update(allow_multiple_entries=True)
    clist.refresh_from_db()
    ticket = Ticket.objects.create(event=event, order_code="N1")
    scan(ticket, clist)
    return ticket


def test_a_replayed_nonce_racing_creates_one_row(door):
    event, clist = door
    ticket = multi_entry_list_with_ticket_inside(event, clist)
    results = race_nonce(ticket, clist)
    assert Scan.objects.filter(nonce="same-nonce").count() == 1
    assert len({r.scan.pk for r in results}) == 1 and all(r.ok for r in results)
    assert sum(not r.replayed for r in results) == 1
    assert TicketListState.objects.get(ticket=ticket).entry_count == 2


def test_the_nonce_constraint_alone_holds_without_the_lock(door, monkeypatch):
    event, clist = door
    ticket = multi_entry_list_with_ticket_inside(event, clist)
    without_locks(monkeypatch)
    pause_after(monkeypatch, "_replay", threading.Barrier(THREADS))
    results = race_nonce(ticket, clist)
    assert Scan.objects.filter(nonce="same-nonce").count() == 1
    assert len({r.scan.pk for r in results}) == 1


@pytest.fixture
def no_nonce_constraint():
    constraint = next(c for c in Scan._meta.constraints if c.name == "checkin_scan_unique_nonce")
    with connection.schema_editor() as editor:
        editor.remove_constraint(Scan, constraint)
    yield
    Scan.objects.filter(nonce="same-nonce").update(nonce=None)
    with connection.schema_editor() as editor:
        editor.add_constraint(Scan, constraint)


def test_negative_control_without_lock_and_constraint_a_replay_is_stored_twice(door, monkeypatch, no_nonce_constraint):
    event, clist = door
    ticket = multi_entry_list_with_ticket_inside(event, clist)
    without_locks(monkeypatch)
    pause_after(monkeypatch, "_replay", threading.Barrier(THREADS))
    race_nonce(ticket, clist)
    assert Scan.objects.filter(nonce="same-nonce").count() == THREADS


# --- Bulk checkout racing single scans -----------------------------------------------------------------

SINGLES = 10


def bulk_against_singles(event, clist, monkeypatch):
    """Tickets 0..29 inside; 10 threads check tickets 0..9 out one by one while one thread checks everyone
    out. Every single exit is held after its judgement until the bulk checkout has committed, or (when
    the bulk is blocked by the single's row lock, as it must be) for a few seconds: the widest window."""
    tickets = [Ticket.objects.create(event=event, order_code=f"B{i}") for i in range(30)]
    for t in tickets:
        scan(t, clist)
    judged, bulk_done = threading.Barrier(SINGLES + 1), threading.Event()
    original = services.judge

    def judge_then_wait_for_bulk(*args, **kwargs):
        result = original(*args, **kwargs)
        judged.wait(timeout=20)
        bulk_done.wait(timeout=3)
        return result

    monkeypatch.setattr(services, "judge", judge_then_wait_for_bulk)

    def work(i):
        if i < SINGLES:
            return scan(tickets[i], clist, "exit")
        judged.wait(timeout=20)
        try:
            return services.bulk_checkout(event=event, lists=[clist])
        finally:
            bulk_done.set()

    results, errors = run_concurrently(work, threads=SINGLES + 1)
    assert errors == []
    return results


def test_bulk_checkout_racing_single_exits_leaves_a_consistent_state(door, monkeypatch):
    event, clist = door
    results = bulk_against_singles(event, clist, monkeypatch)
    assert check_log_consistency(clist) == []
    assert not TicketListState.objects.filter(checkin_list=clist, inside=True).exists()
    bulk = next(r for r in results if isinstance(r, services.BulkResult))
    singles_ok = sum(1 for r in results if isinstance(r, services.ScanResult) and r.ok)
    assert singles_ok + bulk.batch.checked_out == 30
    assert Scan.objects.filter(type="exit", successful=True).count() == 30


def test_negative_control_bulk_and_single_without_the_state_lock_exit_twice(door, monkeypatch):
    event, clist = door
    without_locks(monkeypatch)
    bulk_against_singles(event, clist, monkeypatch)
    problems = check_log_consistency(clist)
    assert problems and all("two successive" in p[1] for p in problems)
    assert Scan.objects.filter(type="exit", successful=True).count() > 30
