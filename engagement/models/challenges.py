from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from engagement.achievement_rules import validate_rule

from .ledger import Activity, LedgerEntry, Member


class Challenge(models.Model):
    """A time-boxed goal: the achievement rule language counted only over ledger entries created in
    [``starts_at``, ``ends_at``) (and of ``activity``, if set). Completing it pays ``points``/``xp``
    once per member through the ledger (reason ``challenge:<code>``)."""

    code = models.SlugField(max_length=64, unique=True)
    # English source text; shown through gettext like achievements' titles.
    title = models.CharField(_("title"), max_length=120)
    description = models.CharField(_("description"), max_length=300, blank=True, default="")
    icon = models.CharField(max_length=200, blank=True, default="", help_text=_("An emoji or an image URL."))
    rule = models.JSONField(help_text=_('e.g. {"all": [{"type": "reason_count", "reason": "comment_create", '
                                        '"min": 5}, {"type": "checkins", "min": 2}]}'))
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    points = models.PositiveIntegerField(default=0)
    xp = models.PositiveIntegerField(default=0)
    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 help_text=_("Count only entries of this activity (empty: all)."))
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0, help_text=_("Order on the member's page."))
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["position", "ends_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                   name="engagement_challenge_ends_after_start"),
        ]
        indexes = [
            # Read by every evaluation and by the members' list: "which challenges are open now?"
            models.Index(fields=["ends_at", "starts_at"], name="engagement_challenge_live_idx",
                         condition=Q(active=True)),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        errors = {}
        try:
            validate_rule(self.rule, windowed=True)
        except ValidationError as exc:
            errors["rule"] = exc.messages
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = [_("The challenge must end after it starts.")]
        if errors:
            raise ValidationError(errors)

    def is_open(self, at) -> bool:
        return self.active and self.starts_at <= at < self.ends_at

    @property
    def display_title(self) -> str:
        return gettext(self.title) if self.title else ""

    @property
    def display_description(self) -> str:
        return gettext(self.description) if self.description else ""


class ChallengeCompletion(models.Model):
    """A member completed a challenge: at most one per member and challenge, written in the same
    transaction as the reward's ledger entry."""

    challenge = models.ForeignKey(Challenge, on_delete=models.PROTECT, related_name="completions")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="challenge_completions")
    completed_at = models.DateTimeField(default=timezone.now)
    entry = models.ForeignKey(LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-completed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["member", "challenge"], name="engagement_challenge_completed_once"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.challenge_id}"
