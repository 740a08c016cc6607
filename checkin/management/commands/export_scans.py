import csv
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from checkin.management.commands._common import event_for
from checkin.models import Scan

COLUMNS = ["id", "datetime", "server_datetime", "type", "successful", "error_reason", "forced", "list_id", "list",
           "ticket_id", "order_code", "attendee_name", "gate", "user", "nonce", "batch_id"]


def _row(s: Scan) -> list:
    ticket = s.ticket
    return [s.pk, s.datetime.isoformat(), s.server_datetime.isoformat(), s.type, s.successful, s.error_reason,
            s.forced, s.checkin_list_id, s.checkin_list.name, s.ticket_id, ticket.order_code if ticket else "",
            ticket.attendee_name if ticket else "", s.gate, s.user.get_username() if s.user else "", s.nonce or "",
            s.batch_id or ""]


class Command(BaseCommand):
    help = "Export an event's scan log (entries, exits, refusals) as CSV, oldest first. Read-only."

    def add_arguments(self, parser):
        parser.add_argument("--organizer", required=True)
        parser.add_argument("--event", required=True)
        parser.add_argument("--list", type=int, dest="list_id", help="Only this check-in list.")
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")

    def handle(self, organizer: str, event: str, list_id: int | None, output: str | None, **options) -> str:
        target = event_for(organizer, event)
        scans = Scan.objects.filter(checkin_list__event=target).select_related("ticket", "checkin_list", "user")
        if list_id is not None:
            scans = scans.filter(checkin_list_id=list_id)
        scans = scans.order_by("datetime", "id")
        try:
            handle = open(output, "w", newline="", encoding="utf-8") if output else sys.stdout
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc}") from exc
        try:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            n = 0
            for scan in tqdm(scans.iterator(chunk_size=2000), total=scans.count(), desc="Exporting", unit="scan",
                             disable=None):
                writer.writerow(_row(scan))
                n += 1
        finally:
            if output:
                handle.close()
        summary = f"Exported {n} scan(s) of {target.slug}" + (f" to {output}." if output else ".")
        if not output:
            self.stderr.write(summary)
            return ""
        return summary
