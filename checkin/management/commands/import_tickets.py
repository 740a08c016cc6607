from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from checkin import imports
from checkin.management.commands._common import event_for


class Command(BaseCommand):
    help = (
        "Import attendees from a CSV file (columns: order_code, attendee_name, attendee_email, ticket_type, "
        "secret, status, member_username; only order_code is required). A file with bad rows imports nothing "
        "unless --skip-invalid. Safe to rerun: rows already imported are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("csv_path")
        parser.add_argument("--organizer", required=True)
        parser.add_argument("--event", required=True)
        parser.add_argument("--skip-invalid", action="store_true", help="Import the valid rows, report the rest.")

    def handle(self, csv_path: str, organizer: str, event: str, skip_invalid: bool, **options) -> str:
        target = event_for(organizer, event)
        try:
            with open(csv_path, newline="", encoding="utf-8-sig") as handle:
                reader, missing = imports.read_rows(handle)
                if missing:
                    raise CommandError(f"Missing column(s): {', '.join(missing)}")
                rows = tqdm(enumerate(reader, start=2), desc="Checking rows", unit="row", disable=None)
                report = imports.validate(target, rows)
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {csv_path}: {exc}") from exc
        for error in report.errors:
            self.stderr.write(error)
        if report.errors and not skip_invalid:
            raise CommandError(f"{len(report.errors)} bad row(s); nothing imported (use --skip-invalid to import "
                               "the valid rows).")
        created = imports.save(report.tickets)
        return (f"Imported {created} ticket(s) into {target.slug}, skipped {report.skipped} already imported, "
                f"{len(report.errors)} invalid.")
