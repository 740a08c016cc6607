"""Bridge models: QR claim templates and their claims, members' personal QR keys, the forwarding outbox.

Ledger rows themselves live in engagement; everything here points at them and never moves balances.
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagement.models import Activity, LedgerEntry, Member


class ClaimTemplateQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)


class ClaimTemplate(models.Model):
    """What a printed (or on-screen) QR code pays. Its token names the template and its ``version``:
    bumping the version (rotate) makes every code printed before stop working."""

    class PointsMode(models.TextChoices):
        AUTOMATIC = "automatic", _("Automatic: the template's points")
        MANUAL = "manual", _("Manual: staff type the amount")

    class LimitMode(models.TextChoices):
        PER_MEMBER = "per_member", _("Per member")
        OVERALL = "overall", _("Overall")

    name = models.CharField(max_length=200)
    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    points = models.PositiveIntegerField(
        help_text=_("Points paid per claim; in manual mode the most staff may type (0 = no maximum).")
    )
    points_mode = models.CharField(max_length=16, choices=PointsMode.choices, default=PointsMode.AUTOMATIC)
    description = models.CharField(max_length=200, blank=True, default="")
    enabled = models.BooleanField(default=True)
    claim_limit = models.PositiveIntegerField(
        null=True, blank=True, default=1, help_text=_("Claims allowed (empty = unlimited).")
    )
    limit_mode = models.CharField(max_length=16, choices=LimitMode.choices, default=LimitMode.PER_MEMBER)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    token_lifetime = models.DurationField(
        null=True, blank=True,
        help_text=_("Codes issued expire after this long (empty = never; e.g. 00:05:00 for a screen)."),
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    created = models.DateTimeField(default=timezone.now, editable=False)
    # Who set the template up (the admin fills it in): they may not claim its codes themselves.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ClaimTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gt=models.F("valid_from")),
                name="points_bridge_template_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.points_mode == self.PointsMode.AUTOMATIC and not self.points:
            raise ValidationError({"points": _("An automatic template must pay at least one point.")})

    @property
    def is_manual(self) -> bool:
        return self.points_mode == self.PointsMode.MANUAL


class Claim(models.Model):
    """One paid use of a template. Counted, under the template's row lock, to enforce its limits."""

    class Via(models.TextChoices):
        SELF = "self", _("Member scanned the code")
        STAFF = "staff", _("Staff attribution")

    template = models.ForeignKey(ClaimTemplate, on_delete=models.PROTECT, related_name="claims")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="+")
    points = models.PositiveIntegerField()
    via = models.CharField(max_length=8, choices=Via.choices, default=Via.SELF)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            # Per-member limit check: "how many times has this member claimed this template".
            models.Index(fields=["template", "member"], name="points_bridge_claim_limit_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} claimed {self.template_id} (+{self.points})"


def new_nonce() -> str:
    return secrets.token_urlsafe(6)


class MemberCode(models.Model):
    """A member's personal QR key. Staff scan it to identify the member; rotating the nonce makes a
    leaked screenshot useless. Kept here because engagement's models are not ours to change."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="bridge_code")
    nonce = models.CharField(max_length=16, default=new_nonce)
    rotated = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"QR key of {self.member_id}"

    def rotate(self) -> None:
        self.nonce = new_nonce()
        self.rotated = timezone.now()

    rotate.alters_data = True


class OutboxEntry(models.Model):
    """A ledger entry waiting to be forwarded to the external Point System (POINT_SYSTEM_FORWARD_URL).

    Written in the ledger entry's own transaction, so an entry is never lost and never forwarded
    without having committed. Workers claim a row by a conditional UPDATE pending → sending."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed (gave up)")
        SKIPPED = "skipped", _("Skipped (nothing to forward)")

    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "outbox entry"
        verbose_name_plural = "outbox"
        ordering = ["-created", "-id"]
        indexes = [
            # Polled by the sweep_outbox beat task: due pending rows, oldest first.
            models.Index(fields=["next_attempt_at"], name="points_bridge_outbox_due", condition=Q(status="pending")),
            # Also polled by the sweep: rows a crashed worker left in "sending".
            models.Index(fields=["claimed_at"], name="points_bridge_outbox_sending", condition=Q(status="sending")),
        ]

    def __str__(self) -> str:
        return f"entry {self.entry_id}: {self.status}"


class AwardRule(models.Model):
    """Turns another app's event into points. Today's source: a successful check-in *entry*.

    Paid once per ticket per list (or once per ticket per list per day): the ledger entry's idempotency
    key is built from the rule, the ticket, the list (and the day), so a replayed or repeated scan never
    pays twice. Tickets not linked to a member are skipped (see docs/points-bridge.md)."""

    class Source(models.TextChoices):
        CHECKIN_ENTRY = "checkin_entry", _("Check-in entry")

    class Once(models.TextChoices):
        PER_TICKET_LIST = "ticket_list", _("Once per ticket per list")
        PER_TICKET_LIST_DAY = "ticket_list_day", _("Once per ticket per list per day")

    name = models.CharField(max_length=200)
    source = models.CharField(max_length=32, choices=Source.choices, default=Source.CHECKIN_ENTRY)
    checkin_list = models.ForeignKey(
        "checkin.CheckinList", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text=_("Empty: every check-in list."),
    )
    points = models.PositiveIntegerField(null=True, blank=True, help_text=_("Empty: the list's attendance points."))
    xp = models.PositiveIntegerField(null=True, blank=True, help_text=_("Empty: the same as the points."))
    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    once = models.CharField(max_length=16, choices=Once.choices, default=Once.PER_TICKET_LIST)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # Looked up inside every successful check-in (the checkin_recorded receiver).
            models.Index(fields=["source", "checkin_list"], name="points_bridge_rule_lookup", condition=Q(active=True)),
        ]

    def __str__(self) -> str:
        return self.name
