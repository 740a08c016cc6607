from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from engagement.achievement_rules import validate_rule

from .ledger import LedgerEntry, Member


class AchievementCategory(models.Model):
    """A heading that groups achievements on the member's page and in the admin."""

    slug = models.SlugField(max_length=64, unique=True)
    # English source text, shown through gettext like Achievement.title.
    title = models.CharField(_("title"), max_length=120)
    icon = models.CharField(max_length=200, blank=True, default="", help_text=_("An emoji or an image URL."))
    position = models.PositiveSmallIntegerField(default=0, help_text=_("Order on the member's page."))

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("achievement category")
        verbose_name_plural = _("achievement categories")

    def __str__(self) -> str:
        return self.slug

    @property
    def display_title(self) -> str:
        return gettext(self.title) if self.title else ""


class Achievement(models.Model):
    """Something a member unlocks once, when its declarative ``rule`` is met. Unlocking pays
    ``points``/``xp`` through the ledger (reason ``achievement:<code>``)."""

    code = models.SlugField(max_length=64, unique=True)
    # English source text; shown through gettext so the shipped achievements read in Czech too.
    title = models.CharField(_("title"), max_length=120)
    description = models.CharField(_("description"), max_length=300, blank=True, default="")
    points = models.PositiveIntegerField(default=0)
    xp = models.PositiveIntegerField(default=0)
    icon = models.CharField(max_length=200, blank=True, default="", help_text=_("An emoji or an image URL."))
    active = models.BooleanField(default=True)
    rule = models.JSONField(help_text=_('e.g. {"type": "reason_count", "reason": "comment_create", "min": 10}'))
    position = models.PositiveSmallIntegerField(default=0, help_text=_("Order on the member's page."))
    category = models.ForeignKey(AchievementCategory, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="achievements", verbose_name=_("category"))
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        try:
            validate_rule(self.rule)
        except ValidationError as exc:
            raise ValidationError({"rule": exc.messages}) from None

    @property
    def display_title(self) -> str:
        return gettext(self.title) if self.title else ""

    @property
    def display_description(self) -> str:
        return gettext(self.description) if self.description else ""


class MemberAchievement(models.Model):
    """An unlock: at most one per member and achievement (the constraint settles racing evaluations)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="achievements")
    achievement = models.ForeignKey(Achievement, on_delete=models.PROTECT, related_name="unlocks")
    unlocked_at = models.DateTimeField(default=timezone.now)
    entry = models.ForeignKey(LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-unlocked_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["member", "achievement"], name="engagement_member_achievement_once"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.achievement_id}"
