from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .ledger import Member


class Ban(models.Model):
    """One ban of a member, kept after it ends (the history an admin reads). The member row carries
    the ban in force (``Member.banned``/``banned_until``) so that the award hot path, which locks that
    row anyway, judges it without a query of its own."""

    class End(models.TextChoices):
        LIFTED = "lifted", _("Lifted by an admin")
        APPEAL = "appeal", _("Unban request approved")
        EXPIRED = "expired", _("Expired")
        REPLACED = "replaced", _("Replaced by a newer ban")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="bans")
    reason = models.CharField(_("reason"), max_length=500)
    until = models.DateTimeField(_("until"), null=True, blank=True, help_text=_("Empty: until lifted."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created = models.DateTimeField(default=timezone.now, editable=False)
    ended_at = models.DateTimeField(null=True, blank=True, editable=False)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", editable=False)
    end = models.CharField(max_length=16, choices=End.choices, blank=True, default="", editable=False)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            # At most one ban in force per member; banning again ends the old one first (services).
            models.UniqueConstraint(fields=["member"], condition=Q(ended_at__isnull=True),
                                    name="engagement_ban_one_open_per_member"),
        ]
        indexes = [
            # The expiry sweep: open bans with an end date.
            models.Index(fields=["until"], name="engagement_ban_expiry",
                         condition=Q(ended_at__isnull=True, until__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"ban of {self.member_id} ({'open' if self.ended_at is None else self.end})"


class UnbanRequest(models.Model):
    """A banned member's request to lift their ban: a queue admins approve (lifts it) or reject."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="unban_requests")
    ban = models.ForeignKey(Ban, on_delete=models.CASCADE, related_name="unban_requests")
    message = models.TextField(_("message"), max_length=2000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, default="", help_text=_("Told to the member in the decision email."))
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            # One request at a time: the member waits for the decision before asking again.
            models.UniqueConstraint(fields=["member"], condition=Q(status="pending"),
                                    name="engagement_unban_one_pending_per_member"),
        ]
        indexes = [
            # The admin queue, oldest pending first.
            models.Index(fields=["status", "created"], name="engagement_unban_queue"),
        ]

    def __str__(self) -> str:
        return f"unban request #{self.pk} of {self.member_id} ({self.status})"


class SpamReport(models.Model):
    """An action refused as suspected spam (``spam_suspected``), kept for an admin to review."""

    class Rule(models.TextChoices):
        DUPLICATE = "duplicate", _("Duplicate of a recent text")
        LINKS = "links", _("Too many links")
        BURST = "burst", _("Too many texts in a short time")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="spam_reports")
    reason = models.CharField(max_length=64)
    rule = models.CharField(max_length=16, choices=Rule.choices)
    text = models.TextField(blank=True, default="")
    meta = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", help_text=_("The service that reported the action."))
    created = models.DateTimeField(default=timezone.now, editable=False)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            # The admin review list: what nobody has looked at yet, newest first.
            models.Index(fields=["-created"], name="engagement_spam_unreviewed",
                         condition=Q(reviewed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.rule} by {self.member_id} ({self.reason})"
