from django.core.management.base import BaseCommand
from django.utils import timezone
from tqdm import tqdm

from config import outbox
from config.models import OutboxTask


class Command(BaseCommand):
    help = ("Show the task outbox; with --sweep, send every due row to the broker (what beat does); with --run, "
            "run every due row in this process (no broker or worker needed, e.g. after a long outage).")

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--sweep", action="store_true", help="Send due rows to the broker now.")
        action.add_argument("--run", action="store_true", help="Run due rows here, now.")
        parser.add_argument("--all", action="store_true", dest="every",
                            help="With --run or --sweep: every unfinished row, due or not.")
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *, sweep: bool, run: bool, every: bool, no_progress: bool, **options) -> str:
        if every and (sweep or run):
            OutboxTask.objects.filter(done_at__isnull=True).update(due_at=timezone.now())
        if sweep:
            return f"Outbox: {outbox.sweep()} task(s) sent to the broker; {self._status()}"
        if run:
            pending = list(OutboxTask.objects.filter(done_at__isnull=True, due_at__lte=timezone.now())
                           .order_by("due_at").values_list("pk", flat=True))
            ran = sum(outbox.run(outbox_id=pk) for pk in tqdm(pending, unit="task", file=self.stderr,
                                                               disable=no_progress or len(pending) < 100))
            return f"Outbox: ran {ran} of {len(pending)} due task(s); {self._status()}"
        return f"Outbox: {self._status()}"

    @staticmethod
    def _status() -> str:
        age = outbox.oldest_pending_age()
        oldest = "nothing waits" if age is None else f"oldest waiting {int(age.total_seconds())} s"
        return f"{outbox.pending_count()} unfinished, {oldest}."
