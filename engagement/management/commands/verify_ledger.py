from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from engagement.leaderboards import histogram, totals
from engagement.models import Member
from engagement.verification import ledger_mismatches


class Command(BaseCommand):
    help = ("Prove that every member's cached points, XP and level equal what their ledger entries add up to, "
            "and that the leaderboards' rank histograms count exactly the balances and totals (and the totals "
            "carry their members' listed flag).")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")
        parser.add_argument("--ledger-only", action="store_true",
                            help="Check the balances only, not the leaderboards' rank histograms.")

    def handle(self, *, batch_size: int, no_progress: bool, ledger_only: bool = False, **options) -> str:
        total = Member.objects.count()
        bar = tqdm(total=total, unit="member", disable=no_progress or total < batch_size, file=self.stderr)
        mismatches = list(ledger_mismatches(batch_size=batch_size, progress=bar.update))
        bar.close()
        for m in mismatches:
            self.stderr.write(
                f"member {m.member_id} ({m.name or '-'}): cached points {m.cached_points} vs ledger "
                f"{m.ledger_points}; cached xp {m.cached_xp} vs ledger {m.ledger_xp}; "
                f"level {m.cached_level} (expected at least {m.expected_level})"
            )
        if mismatches:
            raise CommandError(f"Ledger mismatch for {len(mismatches)} of {total} member(s).")
        if ledger_only:
            return f"Ledger OK: {total} member(s) checked, cached balances equal their entries."
        wrong = [f"rank histogram {line}" for line in histogram.mismatches()]
        wrong += [f"leaderboard total {line}" for line in totals.listed_mismatches()]
        for line in wrong:
            self.stderr.write(line)
        if wrong:
            raise CommandError(f"The leaderboards' rank histogram or totals are off in {len(wrong)} place(s) (first "
                               "20 of each shown); run manage.py rebuild_leaderboards.")
        return (f"Ledger OK: {total} member(s) checked, cached balances equal their entries; "
                "the rank histograms count them exactly.")
