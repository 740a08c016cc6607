from django.core.management.base import BaseCommand
from tqdm import tqdm

from engagement.achievements import evaluate_member, pending
from engagement.models import Member


class Command(BaseCommand):
    help = "Re-evaluate every member's achievements (after adding or editing one). Safe to run repeatedly."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report who would unlock what; change nothing.")
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *, dry_run: bool, no_progress: bool, **options) -> str:
        members = Member.objects.order_by("pk")
        bar = tqdm(total=members.count(), unit="member", disable=no_progress, file=self.stderr._out)
        unlocks = touched = seen = 0
        for member in members.iterator(chunk_size=2000):
            if dry_run:
                found = [achievement.code for achievement, _ in pending(member=member)]
                if found:
                    self.stdout.write(f"{member.display_name} (#{member.pk}) would unlock: {', '.join(found)}")
            else:
                found = evaluate_member(member_id=member.pk)
            unlocks += len(found)
            touched += bool(found)
            seen += 1
            bar.update(1)
        bar.close()
        verb = "Would unlock" if dry_run else "Unlocked"
        return f"{verb} {unlocks} achievement(s) for {touched} of {seen} member(s)."
