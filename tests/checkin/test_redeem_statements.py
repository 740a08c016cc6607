"""The door's hot path stays cheap: a redeem over token auth runs a fixed, small number of statements,
and the response built from rows in memory equals the one a fresh query of the scan log gives."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from checkin.api import RedeemView, fast_redeem_input
from checkin.models import CheckinList, OrganizerMembership, Scan
from checkin.presenters import position_data

# PostgreSQL: token auth, BEGIN, the list's check (list+event+organizer+rights) with the ticket and state
# locks (one statement), INSERT state + scan (one statement, guarded by the state row's unique index, so a
# first entry need not look for its state row again with a fresh snapshot), COMMIT. A later scan of the
# same ticket (refused or not) finds its state row in the lock statement, and its write statement also
# reads the ticket's earlier scans for the response: 5 as well. SQLite takes the general path (lists read
# apart, scan and state written apart, the earlier scans read after the commit) and its capture shows no
# BEGIN/COMMIT but a transaction-mode statement; the bounds pin both.
FIRST_ENTRY_STATEMENTS = {"postgresql": 5, "sqlite": 8}
REPEAT_STATEMENTS = {"postgresql": 5, "sqlite": 9}


@pytest.fixture
def token_api(make_user, organizer):
    user = make_user("door")
    OrganizerMembership.objects.create(organizer=organizer, user=user, can_checkin=True)
    return APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")


def post(client, url, body):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, body, format="json")
    return response, len(queries.captured_queries)


def test_a_first_entry_runs_a_fixed_number_of_statements(token_api, redeem_url, make_ticket, clist):
    token_api.post(redeem_url, {"secret": make_ticket().secret, "lists": [clist.pk]}, format="json")  # warm
    ticket = make_ticket()
    response, n = post(token_api, redeem_url, {"secret": ticket.secret, "lists": [clist.pk]})
    assert response.status_code == 201
    assert n <= FIRST_ENTRY_STATEMENTS[connection.vendor]
    response, n = post(token_api, redeem_url, {"secret": ticket.secret, "lists": [clist.pk]})
    assert response.status_code == 400 and response.json()["reason"] == "already_redeemed"
    assert n <= REPEAT_STATEMENTS[connection.vendor]
    response, n = post(token_api, redeem_url, {"secret": ticket.secret, "lists": [clist.pk], "type": "exit"})
    assert response.status_code == 201
    assert n <= REPEAT_STATEMENTS[connection.vendor]


@pytest.mark.parametrize("extra", [{}, {"force": True, "type": "exit"}, {"gate": "North", "nonce": "n1"},
                                   {"datetime": "2030-01-02T03:04:05.123456+05:00"}])
def test_the_response_from_memory_equals_a_fresh_read(door_api, redeem_url, make_ticket, clist, extra):
    ticket = make_ticket()
    response = door_api.post(redeem_url, {"secret": ticket.secret, "lists": [clist.pk], **extra}, format="json")
    assert response.status_code == 201
    assert len(response.json()["position"]["checkins"]) == 1
    reread = position_data(ticket, [CheckinList.objects.select_related("event").get(pk=clist.pk)])
    assert response.json()["position"] == json.loads(JSONRenderer().render(reread))


def fresh_read(ticket, clist) -> dict:
    """``position`` as the ORM reads it from the log (independent of the hand-written SQL)."""
    rows = (Scan.objects.filter(ticket=ticket, checkin_list=clist, successful=True).order_by("datetime", "id")
            .values("id", "checkin_list_id", "type", "datetime", "forced", "gate", "device_id"))
    checkins = [{"id": r["id"], "list": r["checkin_list_id"], "type": r["type"], "datetime": r["datetime"],
                 "forced": r["forced"], "gate": r["gate"] or None, "device": r["device_id"],
                 "auto_checked_in": False} for r in rows]
    position = {**position_data(ticket, [clist], checkins=[]), "checkins": checkins}
    return json.loads(JSONRenderer().render(position))


LATER = [
    ("entry", {}, 400),  # already_redeemed: a refusal answered with the earlier entry
    ("exit", {"gate": "South"}, 201),
    ("exit", {}, 400),  # not_checked_in
    ("exit", {"force": True}, 201),  # forced
    ("entry", {"nonce": "later-1"}, 201),  # the ORM path (savepoint) in between
    ("exit", {"datetime": "2001-01-01T10:00:00+01:00"}, 201),  # an older offline upload: sorts first...
    ("entry", {}, 400),  # ...and does not move "inside"
]


def test_later_scans_answer_the_log_as_a_fresh_read_gives_it(door_api, redeem_url, make_ticket, clist):
    ticket = make_ticket()
    door_api.post(redeem_url, {"secret": ticket.secret, "lists": [clist.pk]}, format="json")
    for kind, extra, expected in LATER:
        body = {"secret": ticket.secret, "lists": [clist.pk], "type": kind, **extra}
        response = door_api.post(redeem_url, body, format="json")
        assert response.status_code == expected, (kind, extra, response.json())
        assert response.json()["position"] == fresh_read(ticket, clist), (kind, extra)
    assert len(response.json()["position"]["checkins"]) == 5
    assert response.json()["position"]["checkins"][0]["datetime"].startswith("2001-01-01T09:00:00")


def test_a_refused_first_scan_from_memory_has_no_checkins(door_api, redeem_url, make_ticket, clist):
    ticket = make_ticket()
    response = door_api.post(redeem_url, {"secret": ticket.secret, "lists": [clist.pk], "type": "exit"},
                             format="json")
    assert response.status_code == 400 and response.json()["position"]["checkins"] == []


@pytest.mark.parametrize("body", [
    {"secret": "abc", "lists": [1]},
    {"secret": "abc", "lists": [1, 2, 1], "type": "exit", "force": True, "nonce": "", "gate": "", "source_type": "x",
     "datetime": None, "other": 1},
    {"secret": "abc", "lists": [1], "nonce": None},
])
def test_the_fast_input_path_matches_the_serializer(body):
    serializer = RedeemView.InputSerializer(data=body)
    assert serializer.is_valid()
    assert fast_redeem_input(body) == dict(serializer.validated_data)


@pytest.mark.parametrize("body", [
    {"secret": " abc", "lists": [1]}, {"secret": "ábc", "lists": [1]}, {"secret": "abc", "lists": [True]},
    {"secret": "abc", "lists": [1], "force": "true"}, {"secret": "abc", "lists": [1], "datetime": "2030-01-01"},
    {"secret": "abc", "lists": [1], "source_type": ""}, {"secret": "abc", "lists": [1], "gate": None},
    {"secret": "abc", "lists": [0]}, {"secret": "", "lists": [1]}, [1],
])
def test_anything_unusual_goes_to_the_serializer(body):
    assert fast_redeem_input(body) is None


# A scanner device instead of a staff token: its token read replaces DRF's, plus one read of its events
# (limited to some events; none for an all-events device). Its right is its organizer, so the list's
# check in the lock statement has no membership test.
DEVICE_FIRST_ENTRY_STATEMENTS = {"postgresql": 6, "sqlite": 9}


def test_a_device_scan_adds_at_most_its_events_read(device_api, redeem_url, make_ticket, clist):
    device_api.post(redeem_url, {"secret": make_ticket().secret, "lists": [clist.pk]}, format="json")  # warm
    response, n = post(device_api, redeem_url, {"secret": make_ticket().secret, "lists": [clist.pk]})
    assert response.status_code == 201
    assert n <= DEVICE_FIRST_ENTRY_STATEMENTS[connection.vendor], n


# The write statement of a later scan reads the ticket's earlier scans on the list. Written as a plain join,
# PostgreSQL planned that read on the (list, datetime) index whenever the scan log's statistics were stale
# (analysed while empty, then a few thousand scans: a door's first minutes, or any table autovacuum has not
# analysed yet), reading every scan of the list on every repeat; a prepared statement keeps such a plan
# for its connection's life. The subquery ordered as the ticket index is answers from that index alone.
PLAIN_JOIN_READ = """
WITH new_scan AS (
    INSERT INTO {scan} (ticket_id, checkin_list_id, type, successful, error_reason, forced, nonce, datetime,
                        server_datetime, user_id, device_id, gate, raw_code, batch_id)
    VALUES (%s, %s, %s, %s, %s, %s, NULL, %s, %s, %s, %s, %s, '', NULL) RETURNING id
)
SELECT n.id, s.id FROM new_scan n
LEFT JOIN {scan} s ON s.ticket_id = %s AND s.checkin_list_id = %s AND s.successful = %s ORDER BY s.datetime, s.id
"""


def _plan(sql: str, params: list, mode: str) -> str:
    from config import sql as rawsql

    raw = rawsql.db().connection
    with raw.cursor() as cursor:
        cursor.execute(f"SET LOCAL plan_cache_mode = {mode}")
        cursor.execute("EXPLAIN " + sql, params, prepare=False)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
@pytest.mark.parametrize("mode", ["force_custom_plan", "force_generic_plan"])
def test_the_earlier_scans_are_read_by_the_ticket_index_on_stale_statistics(event, clist, mode):
    from django.utils import timezone

    from checkin import services
    from checkin.models import Ticket
    from config import sql as rawsql

    tickets = Ticket.objects.bulk_create([Ticket(event=event, order_code=f"P{i}") for i in range(2000)])
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {rawsql.table(Scan)}")  # statistics of an empty log
    Scan.objects.bulk_create([Scan(ticket=t, checkin_list=clist) for t in tickets])
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    ticket = tickets[0].pk
    params = [ticket, clist.pk, "entry", False, "already_redeemed", False, now, now, None, None, "",
              ticket, clist.pk, True]
    ours = _plan(services._write_sql("postgresql", successful=False, new_state=False, moves=True, earlier=True),
                 params, mode)
    assert "checkin_scan_ticket_idx" in ours and "checkin_scan_list_dt_idx" not in ours, ours
    # The control: the plain join, on the same statistics, takes the list's index (the trap is real here).
    control = _plan(PLAIN_JOIN_READ.format(scan=rawsql.table(Scan)), params, mode)
    assert "checkin_scan_list_dt_idx" in control, control
