from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class CheckinConfig(AppConfig):
    name = "checkin"
    verbose_name = _("Door check-in")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from checkin import conf, schema  # noqa: F401 - schema registers the device auth with drf-spectacular

        # Lists with exit_all_at are checked out by this periodic task (see checkin/tasks.py).
        settings.CELERY_BEAT_SCHEDULE.setdefault("checkin-scheduled-checkouts", {
            "task": "checkin.tasks.run_scheduled_checkouts",
            "schedule": float(conf.SCHEDULED_CHECKOUT_EVERY),
        })
