from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class PlauditConfig(AppConfig):
    """The shared ground under every app: the task outbox and the worker heartbeat. It imports no app."""

    name = "config"
    label = "plaudit"
    verbose_name = _("Plaudit operations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        settings.CELERY_BEAT_SCHEDULE.setdefault(
            "plaudit-outbox-sweep", {"task": "plaudit.outbox.sweep", "schedule": settings.OUTBOX_SWEEP_SECONDS}
        )
