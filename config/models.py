from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxTask(models.Model):
    """A Celery task that a committed change implies, recorded in that change's transaction.

    The row is the promise; the broker message is only a wake-up call. A row is finished (``done_at``)
    only once its task has run in a worker, so a broker that was down at commit, or that restarted empty,
    loses nothing: the sweep sends every unfinished row again when it is due (config/outbox.py).
    """

    task = models.CharField(_("task"), max_length=200, help_text=_("Celery task name"))
    kwargs = models.JSONField(_("arguments"), default=dict)
    created = models.DateTimeField(_("created"), default=timezone.now)
    due_at = models.DateTimeField(_("next send"), help_text=_("when the sweep sends it (again) if still not done"))
    dispatches = models.PositiveIntegerField(_("sent by the sweep"), default=0)
    attempts = models.PositiveIntegerField(_("failed runs"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox task")
        verbose_name_plural = _("outbox tasks")
        indexes = [
            # The sweep's only query: unfinished rows that are due, oldest first. Finished rows drop out.
            models.Index(fields=["due_at"], condition=Q(done_at__isnull=True), name="outbox_pending_due"),
            models.Index(fields=["done_at"], condition=Q(done_at__isnull=False), name="outbox_done"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.task}({', '.join(f'{k}={v}' for k, v in self.kwargs.items())})"


class Heartbeat(models.Model):
    """The last time a periodic task ran in a worker (``/healthz`` reads it: a live worker and beat)."""

    name = models.CharField(max_length=50, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
