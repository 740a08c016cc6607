from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .ledger import Member


class Streak(models.Model):
    """A member's run of consecutive active days, kept by the award path (engagement.streaks) under the
    member lock, so reading it never scans the ledger. ``current`` is the run as of ``last_active_day``;
    whether it is still alive today is for the reader to judge (``engagement.streaks.status``).
    ``manage.py rebuild_streaks`` recomputes every row but ``freezes`` from the ledger."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, primary_key=True, related_name="streak")
    last_active_day = models.DateField(_("last active day"), null=True, blank=True)
    current = models.PositiveIntegerField(_("current streak"), default=0)
    best = models.PositiveIntegerField(_("best streak"), default=0)
    # Granted by admins; each one bridges a single missed day at the member's next activity.
    freezes = models.PositiveIntegerField(_("streak freezes"), default=0)
    freezes_used = models.PositiveIntegerField(_("streak freezes used"), default=0)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("streak")
        verbose_name_plural = _("streaks")
        permissions = [("grant_streak_freezes", "Can grant streak freezes to members")]
        constraints = [
            models.CheckConstraint(condition=Q(best__gte=models.F("current")),
                                   name="engagement_streak_best_ge_current"),
        ]
        indexes = [
            # The member admin's "streak" filter (active today / alive since yesterday).
            models.Index(fields=["last_active_day"], name="engagement_streak_last_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.current} (best {self.best})"


class StreakFreezeUse(models.Model):
    """A missed day that one of the member's freezes bridged. Kept so that a rebuild from the ledger
    bridges the same days again (the ledger has no entry for a day nobody was active)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="streak_freeze_uses")
    day = models.DateField(_("bridged day"))
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("streak freeze use")
        verbose_name_plural = _("streak freeze uses")
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["member", "day"], name="engagement_streak_freeze_use_once"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.day}"


class StreakFreezeGrant(models.Model):
    """One grant of streak freezes by an admin (or the API): the audit trail of ``Streak.freezes``, and
    what makes a retried grant with the same ``Idempotency-Key`` a replay instead of a second grant."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="streak_freeze_grants")
    count = models.PositiveIntegerField(_("freezes"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    # "freezes:<actor id>:<client key>" (config.idempotency); none for the admin action.
    idempotency_key = models.CharField(max_length=160, unique=True, null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("streak freeze grant")
        verbose_name_plural = _("streak freeze grants")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.member_id}: +{self.count}"
