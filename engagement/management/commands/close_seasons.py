from django.core.management.base import BaseCommand
from tqdm import tqdm

from engagement import seasons


class Command(BaseCommand):
    help = (
        "Freeze the seasons whose last day is over: exact totals, final standings, top-N prizes as ledger "
        "entries (paid once), the team board. Safe to rerun and to run next to the beat task."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *, no_progress: bool, **options) -> str:
        bar = tqdm(total=seasons.due_seasons().count(), unit="season", disable=no_progress, file=self.stderr._out)
        try:
            results = seasons.close_due_seasons(tick=bar.update)
        finally:
            bar.close()
        closed = [r for r in results if r.closed]
        standings, prizes = sum(r.standings for r in closed), sum(r.prizes for r in closed)
        names = ", ".join(r.season.slug for r in closed) or "none"
        return f"Closed {len(closed)} season(s) ({names}): {standings} standing(s), {prizes} prize(s) paid."
