"""Bulk checkout is set-based: the same number of SQL statements for 10 and for 1,000 attendees."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from checkin import selectors, services
from checkin.models import Scan, Ticket, TicketListState

pytestmark = pytest.mark.django_db


def room_with(n: int, event, clist) -> None:
    at = timezone.now() - timezone.timedelta(hours=1)
    tickets = Ticket.objects.bulk_create(
        [Ticket(event=event, order_code=f"S{n}-{i}", attendee_name=f"Guest {i}") for i in range(n)])
    Scan.objects.bulk_create([Scan(ticket=t, checkin_list=clist, type="entry", datetime=at) for t in tickets])
    TicketListState.objects.bulk_create(
        [TicketListState(ticket=t, checkin_list=clist, inside=True, last_datetime=at, entry_count=1) for t in tickets])


def statements_for_bulk(n: int, event, clist) -> tuple[int, services.BulkResult]:
    room_with(n, event, clist)
    with CaptureQueriesContext(connection) as captured:
        result = services.bulk_checkout(event=event, lists=[clist])
    return len(captured.captured_queries), result


def test_bulk_checkout_statement_count_does_not_grow_with_the_room(event, clist):
    small, small_result = statements_for_bulk(10, event, clist)
    large, large_result = statements_for_bulk(1000, event, clist)
    assert (small_result.batch.checked_out, large_result.batch.checked_out) == (10, 1000)
    assert small == large
    assert small <= 10
    assert selectors.inside_from_log(clist) == set()
    assert Scan.objects.filter(type="exit", successful=True).count() == 1010


def test_status_statement_count_does_not_grow_with_scans(event, clist, scan, make_ticket, django_assert_num_queries):
    clist.allow_multiple_entries = True
    clist.save()
    tickets = [make_ticket() for _ in range(5)]
    for t in tickets:
        scan(t)
    selectors.list_status(clist)  # the ticket types' ids are created on first use, then cached (checkin.items)
    with CaptureQueriesContext(connection) as few:
        before = selectors.list_status(clist)
    for _ in range(20):
        for t in tickets:
            scan(t)
    with django_assert_num_queries(len(few.captured_queries)):
        after = selectors.list_status(clist)
    assert before["checkin_count"] == after["checkin_count"] == 5
    # The aggregates read the state rows (one per ticket), never the 105 scan rows.
    assert "checkin_scan" not in " ".join(q["sql"] for q in few.captured_queries)
