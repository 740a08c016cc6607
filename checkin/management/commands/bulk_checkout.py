from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime
from tqdm import tqdm

from checkin import services
from checkin.management.commands._common import event_for
from checkin.models import CheckinList, CheckoutBatch


class Command(BaseCommand):
    help = (
        "Check out everyone inside an event's lists (set-based, one audit batch per list), or with --due run "
        "every scheduled checkout whose exit_all_at has passed. Safe to rerun: nobody inside, nobody checked out."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organizer")
        parser.add_argument("--event")
        parser.add_argument("--list", type=int, action="append", dest="list_ids", help="Only these list ids.")
        parser.add_argument("--at", help="Checkout time (ISO 8601); default now.")
        parser.add_argument("--due", action="store_true", help="Run the scheduled checkouts that are due.")

    def handle(self, organizer, event, list_ids, at, due, **options) -> str:
        if due:
            ids = services.due_scheduled_checkouts()
            results = [services.run_scheduled_checkout(list_id=i) for i in tqdm(ids, desc="Lists", disable=None)]
            total = sum(r.batch.checked_out for r in results if r is not None)
            return f"Checked out {total} attendee(s) from {len(ids)} due list(s)."
        if not (organizer and event):
            raise CommandError("Give --organizer and --event, or --due.")
        target = event_for(organizer, event)
        try:
            when = parse_datetime(at) if at else None
        except ValueError:
            when = None
        if at and (when is None or when.tzinfo is None):
            raise CommandError("--at must be an ISO 8601 datetime with a time zone, e.g. 2025-05-01T23:00:00+02:00")
        lists = CheckinList.objects.filter(event=target).order_by("pk")
        if list_ids:
            lists = lists.filter(pk__in=list_ids)
        total = 0
        for clist in tqdm(list(lists), desc="Lists", unit="list", disable=None):
            result = services.bulk_checkout(event=target, lists=[clist], at=when, trigger=CheckoutBatch.Trigger.COMMAND)
            total += result.batch.checked_out
        return f"Checked out {total} attendee(s) from {lists.count()} list(s) of {target.slug}."
