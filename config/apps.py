from django.apps import AppConfig
from django.conf import settings
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class PlauditConfig(AppConfig):
    """The shared ground under every app: the task outbox, the worker heartbeat, health and metrics.
    It imports no app: apps register their outboxes and figures in their own ``monitoring.py``."""

    name = "config"
    label = "plaudit"
    verbose_name = _("Plaudit operations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from config import metrics

        metrics.allowed_networks()  # a malformed METRICS_ALLOWED_IPS stops start-up, not a scrape
        autodiscover_modules("monitoring")
        settings.CELERY_BEAT_SCHEDULE.setdefault(
            "plaudit-outbox-sweep", {"task": "plaudit.outbox.sweep", "schedule": settings.OUTBOX_SWEEP_SECONDS}
        )
        # A heartbeat that waited in the queue while no worker ran proves nothing: it expires instead.
        settings.CELERY_BEAT_SCHEDULE.setdefault("plaudit-heartbeat", {
            "task": "plaudit.heartbeat", "schedule": settings.HEARTBEAT_SECONDS,
            "options": {"expires": settings.HEARTBEAT_SECONDS}})
