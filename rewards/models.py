"""Reward catalogue and redemptions.

Stock is ``NULL`` for unlimited, otherwise the units left (0 = sold out). The JSON API speaks the
contract's ``-1``/``0``/``N``; the translation lives in rewards/serializers.py and nowhere else.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rewards.images import validate_image_url
from rewards.metadata import validate_metadata


class CostType(models.TextChoices):
    """What a reward's price is counted in: points are spent; XP is a threshold, nothing is deducted."""

    POINTS = "points", _("Points (spent)")
    XP = "xp", _("XP (needed, not spent)")


class Reward(models.Model):
    class Type(models.TextChoices):
        AVATAR_STATIC = "avatar_static", _("Static avatar")
        AVATAR_ANIMATED = "avatar_animated", _("Animated avatar")
        AVATAR_UPLOAD_UNLOCK = "avatar_upload_unlock", _("Avatar upload unlock")
        MERCH_COUPON = "merch_coupon", _("Merch coupon")
        MERCH_PHYSICAL = "merch_physical", _("Physical merch")
        MERCH_DIGITAL = "merch_digital", _("Digital merch")
        CUSTOM = "custom", _("Custom")

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    type = models.CharField(max_length=32, choices=Type.choices)
    cost_points = models.PositiveIntegerField(_("cost"), help_text=_("In points, or in XP for XP-only rewards."))
    cost_type = models.CharField(_("cost type"), max_length=8, choices=CostType.choices, default=CostType.POINTS)
    # An https URL or a path on this site (an uploaded picture's storage URL, see rewards/images.py).
    image_url = models.CharField(max_length=500, blank=True, default="", validators=[validate_image_url])
    stock = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Units left. Empty = unlimited, 0 = sold out (hidden from members).")
    )
    active = models.BooleanField(default=True)
    metadata = models.JSONField(default=dict, blank=True, help_text=_("Type-specific details, validated per type."))
    available_from = models.DateTimeField(null=True, blank=True)
    available_until = models.DateTimeField(null=True, blank=True)
    max_per_member = models.PositiveIntegerField(
        _("limit per member"), null=True, blank=True,
        help_text=_("How many times one member may redeem it (rejected redemptions do not count). Empty = no limit."),
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cost_points", "name", "id"]
        constraints = [
            # spend() refuses zero, so a free reward could never be redeemed.
            models.CheckConstraint(condition=Q(cost_points__gte=1), name="rewards_reward_cost_positive"),
            models.CheckConstraint(condition=Q(stock__isnull=True) | Q(stock__gte=0),
                                   name="rewards_reward_stock_non_negative"),
            models.CheckConstraint(
                condition=Q(available_from__isnull=True) | Q(available_until__isnull=True)
                | Q(available_until__gt=models.F("available_from")),
                name="rewards_reward_window_ordered",
            ),
            # Zero would be "never": that is what deactivating is for.
            models.CheckConstraint(condition=Q(max_per_member__isnull=True) | Q(max_per_member__gte=1),
                                   name="rewards_reward_limit_positive"),
        ]
        indexes = [
            # The public catalogue: active rewards, cheapest first.
            models.Index(fields=["cost_points", "name"], name="rewards_reward_catalogue",
                         condition=Q(active=True)),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        super().clean()
        if self.type:
            self.metadata = validate_metadata(self.type, self.metadata)
        if self.available_from and self.available_until and self.available_until <= self.available_from:
            raise ValidationError({"available_until": _("Must be after 'available from'.")})

    @property
    def unlimited(self) -> bool:
        return self.stock is None

    @property
    def needs_approval(self) -> bool:
        return self.type in PENDING_TYPES

    def is_available(self, at) -> bool:
        """Active and inside its window (stock is judged separately, under the UPDATE)."""
        return self.active and self.window_state(at) == WINDOW_OPEN

    def window_state(self, at) -> str:
        """``upcoming`` before ``available_from``, ``ended`` from ``available_until`` on, else ``open``."""
        if self.available_from is not None and at < self.available_from:
            return WINDOW_UPCOMING
        if self.available_until is not None and at >= self.available_until:
            return WINDOW_ENDED
        return WINDOW_OPEN

    def seconds_left(self, at) -> int | None:
        """Whole seconds until the window closes (None: no end). Clients count down from this number
        rather than from ``available_until``, so a wrong clock on the phone does not matter."""
        if self.available_until is None:
            return None
        return max(0, int((self.available_until - at).total_seconds()))


WINDOW_UPCOMING, WINDOW_OPEN, WINDOW_ENDED = "upcoming", "open", "ended"


AVATAR_TYPES = frozenset({Reward.Type.AVATAR_STATIC, Reward.Type.AVATAR_ANIMATED})
ONE_PER_MEMBER_TYPES = frozenset({Reward.Type.AVATAR_UPLOAD_UNLOCK})
PENDING_TYPES = frozenset({Reward.Type.MERCH_COUPON, Reward.Type.MERCH_PHYSICAL, Reward.Type.MERCH_DIGITAL,
                           Reward.Type.CUSTOM})


class Redemption(models.Model):
    """One member's purchase of one reward. Status moves only by conditional UPDATEs in services."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        FULFILLED = "fulfilled", _("Fulfilled")

    member = models.ForeignKey("engagement.Member", on_delete=models.PROTECT, related_name="redemptions")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    # A copy of the reward's type at redemption time: the one-per-member constraint needs it on this row.
    reward_type = models.CharField(max_length=32, choices=Reward.Type.choices, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    cost_points = models.PositiveIntegerField(_("cost"), help_text=_("Points paid, or XP needed (cost type)."))
    cost_type = models.CharField(max_length=8, choices=CostType.choices, default=CostType.POINTS, editable=False)
    # False for unlimited rewards: rejecting such a redemption has no unit to give back.
    took_stock = models.BooleanField(default=False, editable=False)
    # Empty for XP-only rewards: nothing was spent.
    spend_entry = models.ForeignKey("engagement.LedgerEntry", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    refund_entry = models.ForeignKey("engagement.LedgerEntry", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", help_text=_("Who approved or rejected (empty: automatic)."))
    decided_at = models.DateTimeField(null=True, blank=True)
    fulfilled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, default="")
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, editable=False)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["member", "idempotency_key"], name="rewards_redemption_unique_key"),
            # The upload unlock is sold once per member; a rejected one does not count.
            models.UniqueConstraint(
                fields=["member"], name="rewards_redemption_one_unlock_per_member",
                condition=Q(reward_type="avatar_upload_unlock") & ~Q(status="rejected"),
            ),
            # An XP-only reward is an entitlement, not a purchase: once per member (a rejected one does not count).
            models.UniqueConstraint(
                fields=["member", "reward"], name="rewards_redemption_xp_once_per_member",
                condition=Q(cost_type="xp") & ~Q(status="rejected"),
            ),
            models.CheckConstraint(condition=Q(cost_points__gte=1), name="rewards_redemption_cost_positive"),
            models.CheckConstraint(condition=Q(cost_type="xp") | Q(spend_entry__isnull=False),
                                   name="rewards_redemption_points_spent"),
            models.CheckConstraint(condition=Q(status="rejected") | Q(refund_entry__isnull=True),
                                   name="rewards_redemption_refund_only_if_rejected"),
        ]
        indexes = [
            # The admin queue and GET admin/engagement/redemptions?status=..., newest first.
            models.Index(fields=["status", "-created"], name="rewards_redemption_queue"),
            # A member's own history (GET engagement/redemptions).
            models.Index(fields=["member", "-created"], name="rewards_redemption_member"),
        ]

    def __str__(self) -> str:
        # The audit trail reads "Sticker pack for alice (approved)", not internal ids.
        return f"{self.reward.name} for {self.member} ({self.status})"


class EngagementOverview(Redemption):
    """No table: gives the admin's rewards app list an "Engagement overview" entry (see admin.py)."""

    class Meta:
        proxy = True
        verbose_name = _("engagement overview")
        verbose_name_plural = _("engagement overview")
