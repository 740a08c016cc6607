from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .ledger import EarningRule

MULTIPLIER_VALIDATORS = [MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("100"))]


class Campaign(models.Model):
    """A time-boxed boost: awards for the campaign's reasons earn ``points_multiplier`` times the
    points and ``xp_multiplier`` times the XP while ``starts_at <= at < ends_at``."""

    name = models.CharField(max_length=200)
    rules = models.ManyToManyField(EarningRule, blank=True, related_name="campaigns",
                                   help_text=_("Earning rules whose awards are boosted."))
    reasons = models.JSONField(default=list, blank=True,
                               help_text=_('Further reasons to boost, e.g. ["checkin", "claim"].'))
    points_multiplier = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1"),
                                            validators=MULTIPLIER_VALIDATORS)
    xp_multiplier = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1"),
                                        validators=MULTIPLIER_VALIDATORS)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                   name="engagement_campaign_ends_after_start"),
            models.CheckConstraint(condition=Q(points_multiplier__gte=1, xp_multiplier__gte=1),
                                   name="engagement_campaign_multipliers_at_least_one"),
        ]
        indexes = [
            # Looked up by every award: "which campaigns are running now?"
            models.Index(fields=["ends_at", "starts_at"], name="engagement_campaign_live_idx",
                         condition=Q(active=True)),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("The campaign must end after it starts.")
        if not isinstance(self.reasons, list) or not all(isinstance(r, str) and 0 < len(r) <= 64 for r in self.reasons):
            errors["reasons"] = _("A list of reason slugs, e.g. [\"checkin\"].")
        if errors:
            raise ValidationError(errors)
