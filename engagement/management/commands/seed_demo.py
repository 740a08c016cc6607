import importlib
import importlib.util

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from engagement.demo import DEMO_PASSWORD

# Each app may ship ``<app>/demo.py`` with a ``seed()`` function; they run in this order.
DEMO_APPS = ["engagement", "rewards", "checkin", "points_bridge"]


class Command(BaseCommand):
    help = "Create the demo site's users and data. Safe to rerun: existing demo rows are kept."

    def handle(self, **options) -> str:
        seeded = []
        with transaction.atomic():
            for app in DEMO_APPS:
                if importlib.util.find_spec(f"{app}.demo") is None:
                    continue
                importlib.import_module(f"{app}.demo").seed()
                seeded.append(app)
        self.stdout.write(
            f"Demo logins (password '{DEMO_PASSWORD}'): admin (superuser), staff (door and attribution), "
            f"alice and bob (members). Point System key: {settings.POINT_SYSTEM_API_KEY or '(not set)'}"
        )
        return f"Demo data ready for: {', '.join(seeded)}."
