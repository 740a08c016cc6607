from django.core.management.base import BaseCommand
from tqdm import tqdm

from engagement import streaks
from engagement.models import Member


class Command(BaseCommand):
    help = (
        "Recompute every member's streak (last active day, current, best, freezes used) from the ledger; "
        "freezes granted are kept. Safe to rerun, and while awards are being made (each member under their lock)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *, no_progress: bool, **options) -> str:
        member_ids = Member.objects.order_by("pk").values_list("pk", flat=True)
        bar = tqdm(total=member_ids.count(), unit="member", disable=no_progress, file=self.stderr._out)
        changed = seen = 0
        for member_id in member_ids.iterator(chunk_size=2000):
            changed += streaks.rebuild_member(member_id)
            seen += 1
            bar.update(1)
        bar.close()
        return f"Rebuilt the streaks of {seen} member(s) from the ledger; {changed} changed."
