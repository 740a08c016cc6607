from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from config.errors import DomainError
from engagement import services
from engagement.models import Activity


class Command(BaseCommand):
    help = "Award points (and XP, by default equal to the points) to a user from the shell."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("points", type=int)
        parser.add_argument("--xp", type=int, default=None, help="XP to award (default: the points).")
        parser.add_argument("--reason", default="manual", help="Ledger reason slug (default: manual).")
        parser.add_argument("--activity", default=None, help="Activity slug to scope the points to.")
        parser.add_argument("--idempotency-key", default=None, help="Makes a rerun return the first award.")

    def handle(self, *, username, points, xp, reason, activity, idempotency_key, **options) -> str:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user called {username!r}.")
        scope = None
        if activity:
            scope = Activity.objects.filter(slug=activity).first()
            if scope is None:
                raise CommandError(f"No activity with slug {activity!r}.")
        member = services.member_for_user(user)
        try:
            entry = services.award(member=member, reason=reason, points=points, xp=xp, activity=scope,
                                   meta={"via": "manage.py award"},
                                   idempotency_key=idempotency_key and f"cli:{idempotency_key}")
        except DomainError as exc:
            raise CommandError(f"{exc.message} ({exc.code})") from None
        again = " (replayed, nothing new written)" if entry.replayed else ""
        return (f"Awarded {entry.points} points and {entry.xp} XP to {username}{again}; "
                f"balance {member.points} points, level {member.level}.")
