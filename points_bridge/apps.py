from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class PointsBridgeConfig(AppConfig):
    name = "points_bridge"
    verbose_name = _("Point System and claims")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from checkin.signals import checkin_recorded
        from engagement.signals import ledger_entry_posted
        from points_bridge import conf, receivers

        conf.trusted_networks()  # a malformed POINT_SYSTEM_TRUSTED_CLIENTS stops start-up, not a request
        ledger_entry_posted.connect(receivers.forward_ledger_entry, dispatch_uid="points_bridge_forward")
        checkin_recorded.connect(receivers.award_checkin, dispatch_uid="points_bridge_checkin_awards")
        settings.CELERY_BEAT_SCHEDULE.setdefault(
            "points-bridge-sweep-outbox", {"task": "points_bridge.tasks.sweep_outbox", "schedule": 60.0}
        )
