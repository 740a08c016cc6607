import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from checkin.models import CheckinList, CheckoutBatch, Ticket, TicketListState

pytestmark = pytest.mark.django_db

HEADER = "order_code,attendee_name,attendee_email,ticket_type,secret,status,member_username\n"


def write_csv(tmp_path, body: str):
    path = tmp_path / "tickets.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return str(path)


def run(*args, **kwargs) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


def test_import_tickets_imports_valid_rows_and_is_safe_to_rerun(tmp_path, event, member):
    path = write_csv(tmp_path, "A1,Jana,jana@example.org,VIP,secret-a1,,\nA2,Petr,,,,,alice\n")
    out, _ = run("import_tickets", path, organizer="org", event="conf")
    assert out.strip() == "Imported 2 ticket(s) into conf, skipped 0 already imported, 0 invalid."
    assert Ticket.objects.get(secret="secret-a1").ticket_type == "VIP"
    assert Ticket.objects.get(order_code="A2").member == member
    out, _ = run("import_tickets", path, organizer="org", event="conf")
    assert "Imported 0 ticket(s)" in out and "skipped 2" in out
    assert Ticket.objects.count() == 2


def test_import_tickets_reports_bad_rows_by_line_and_imports_nothing(tmp_path, event):
    path = write_csv(tmp_path, "A1,Ok,,,,,\n,No code,,,,,\nA3,Bad mail,not-an-email,,,,\nA4,X,,,,weird,\n")
    with pytest.raises(CommandError, match="3 bad row"):
        run("import_tickets", path, organizer="org", event="conf")
    assert Ticket.objects.count() == 0


def test_import_tickets_error_report_names_the_lines(tmp_path, event):
    path = write_csv(tmp_path, "A1,Ok,,,,,\n,No code,,,,,\nA3,Bad,not-an-email,,,,\nA4,Dup,,,s1,,\nA5,Dup,,,s1,,\n")
    out, err = run("import_tickets", path, organizer="org", event="conf", skip_invalid=True)
    assert "line 3: order_code is required" in err
    assert "line 4: attendee_email 'not-an-email' is not an email address" in err
    assert "line 6: secret appears twice in this file" in err
    assert "Imported 2 ticket(s)" in out and "3 invalid" in out
    assert set(Ticket.objects.values_list("order_code", flat=True)) == {"A1", "A4"}


def test_import_tickets_refuses_missing_columns_and_unknown_events(tmp_path, event):
    path = tmp_path / "bad.csv"
    path.write_text("name\nJana\n")
    with pytest.raises(CommandError, match="Missing column"):
        run("import_tickets", str(path), organizer="org", event="conf")
    with pytest.raises(CommandError, match="No event"):
        run("import_tickets", str(path), organizer="org", event="nope")


def test_export_scans_writes_every_scan_as_csv(tmp_path, scan, ticket, clist):
    scan(ticket)
    scan(ticket)
    target = tmp_path / "scans.csv"
    out, _ = run("export_scans", organizer="org", event="conf", output=str(target))
    assert out.strip() == f"Exported 2 scan(s) of conf to {target}."
    rows = list(csv.DictReader(target.open()))
    assert [(r["type"], r["successful"], r["error_reason"]) for r in rows] == [
        ("entry", "True", ""), ("entry", "False", "already_redeemed")]
    assert rows[0]["order_code"] == ticket.order_code


def test_bulk_checkout_command_checks_out_and_reruns_as_a_no_op(scan, make_ticket, clist):
    for _ in range(3):
        scan(make_ticket())
    out, _ = run("bulk_checkout", organizer="org", event="conf")
    assert out.strip() == "Checked out 3 attendee(s) from 1 list(s) of conf."
    assert CheckoutBatch.objects.get().trigger == "command"
    out, _ = run("bulk_checkout", organizer="org", event="conf")
    assert out.strip() == "Checked out 0 attendee(s) from 1 list(s) of conf."


def test_bulk_checkout_command_runs_due_scheduled_checkouts(scan, ticket, clist):
    scan(ticket, at=timezone.now() - timedelta(hours=1))
    CheckinList.objects.filter(pk=clist.pk).update(exit_all_at=timezone.now() - timedelta(minutes=1))
    out, _ = run("bulk_checkout", due=True)
    assert out.strip() == "Checked out 1 attendee(s) from 1 due list(s)."
    assert not TicketListState.objects.get(ticket=ticket).inside


def test_bulk_checkout_command_validates_its_arguments(event):
    with pytest.raises(CommandError):
        run("bulk_checkout")
    with pytest.raises(CommandError, match="--at"):
        run("bulk_checkout", organizer="org", event="conf", at="2025-13-45T00:00")
    with pytest.raises(CommandError, match="--at"):
        run("bulk_checkout", organizer="org", event="conf", at="2025-05-01T00:00")


def test_seed_demo_is_idempotent_and_gives_staff_door_rights(db):
    from checkin.models import Event, OrganizerMembership

    run("seed_demo")
    run("seed_demo")
    event = Event.objects.get(organizer__slug="demo", slug="demo-event")
    assert event.tickets.filter(status="valid").count() == 50
    assert event.checkin_lists.count() == 1 and event.checkin_lists.get().attendance_points > 0
    assert event.tickets.filter(member__user__username__in=["alice", "bob"]).count() == 2
    assert OrganizerMembership.objects.get(organizer__slug="demo", user__username="staff").can_checkin


def test_import_tickets_reads_the_old_revoked_status_as_canceled(tmp_path, event):
    path = write_csv(tmp_path, "A1,Jana,,,,revoked,\nA2,Petr,,,,canceled,\n")
    run("import_tickets", path, organizer="org", event="conf")
    assert list(Ticket.objects.order_by("order_code").values_list("status", flat=True)) == ["canceled", "canceled"]
