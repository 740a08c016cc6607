"""Attendee CSV import: validate every row first, then write all valid rows in one transaction."""

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from checkin.models import Event, Ticket
from engagement.models import Member

COLUMNS = ["order_code", "attendee_name", "attendee_email", "ticket_type", "secret", "status", "member_username"]
REQUIRED = ["order_code"]
BATCH = 1000
LEGACY_STATUS = {"revoked": Ticket.Status.CANCELED.value}


@dataclass
class ImportReport:
    tickets: list[Ticket] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: int = 0


def read_rows(handle) -> tuple[csv.DictReader, list[str]]:
    reader = csv.DictReader(handle)
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    return reader, missing


def _field_errors(row: dict) -> list[str]:
    errors = []
    limits = {"order_code": 32, "attendee_name": 200, "ticket_type": 100, "secret": 64}
    if not row["order_code"]:
        errors.append("order_code is required")
    errors += [f"{name} is longer than {n} characters" for name, n in limits.items() if len(row[name]) > n]
    if row["attendee_email"]:
        try:
            validate_email(row["attendee_email"])
        except ValidationError:
            errors.append(f"attendee_email {row['attendee_email']!r} is not an email address")
    if row["status"] and row["status"] not in Ticket.Status.values:
        errors.append(f"status must be one of {', '.join(Ticket.Status.values)}")
    return errors


class Importer:
    def __init__(self, event: Event):
        self.event = event
        self.secrets = set(Ticket.objects.filter(event__organizer=event.organizer).values_list("secret", flat=True))
        self.seen_secrets: set[str] = set()
        self.existing = set(Ticket.objects.filter(event=event).values_list("order_code", "attendee_name"))
        self.members = dict(Member.objects.values_list("user__username", "pk"))

    def check(self, line: int, raw: dict, report: ImportReport) -> None:
        row = {c: (raw.get(c) or "").strip() for c in COLUMNS}
        # Files exported before migration 0003 call a cancelled ticket "revoked".
        row["status"] = LEGACY_STATUS.get(row["status"], row["status"])
        errors = _field_errors(row)
        if row["member_username"] and row["member_username"] not in self.members:
            errors.append(f"no member with username {row['member_username']!r}")
        if row["secret"] in self.seen_secrets:
            errors.append("secret appears twice in this file")
        if errors:
            report.errors.append(f"line {line}: " + "; ".join(errors))
            return
        if row["secret"] in self.secrets or (row["order_code"], row["attendee_name"]) in self.existing:
            report.skipped += 1  # imported by an earlier run: safe to rerun the same file
            return
        if row["secret"]:
            self.seen_secrets.add(row["secret"])
        report.tickets.append(self.ticket(row))

    def ticket(self, row: dict) -> Ticket:
        fields = {"event": self.event, "order_code": row["order_code"], "attendee_name": row["attendee_name"],
                  "attendee_email": row["attendee_email"], "member_id": self.members.get(row["member_username"])}
        for optional in ("ticket_type", "secret", "status"):
            if row[optional]:
                fields[optional] = row[optional]
        return Ticket(**fields)


def validate(event: Event, rows: Iterable[tuple[int, dict]]) -> ImportReport:
    report, importer = ImportReport(), Importer(event)
    for line, raw in rows:
        importer.check(line, raw, report)
    return report


@transaction.atomic
def save(tickets: list[Ticket]) -> int:
    Ticket.objects.bulk_create(tickets, batch_size=BATCH)
    return len(tickets)
