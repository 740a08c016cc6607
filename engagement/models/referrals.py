"""Referrals: a member's invite code, and who joined with whose code.

The credit itself is two ordinary ledger entries (reason ``referral``) written by engagement.referrals;
these rows only record the relation and where it stands.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReferralCode(models.Model):
    """A member's invite code, created the first time they ask for it (no backfill for a million members)."""

    member = models.OneToOneField("engagement.Member", on_delete=models.CASCADE, related_name="referral_code")
    code = models.CharField(_("code"), max_length=16, unique=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("referral code")
        verbose_name_plural = _("referral codes")

    def __str__(self) -> str:
        return self.code


class Referral(models.Model):
    """``invitee`` joined with ``inviter``'s code. A member is invited at most once (unique invitee)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the first earning action")
        QUALIFIED = "qualified", _("Being credited")
        CREDITED = "credited", _("Credited")
        REFUSED = "refused", _("Not credited")

    inviter = models.ForeignKey("engagement.Member", on_delete=models.PROTECT, related_name="referrals_made")
    invitee = models.OneToOneField("engagement.Member", on_delete=models.PROTECT, related_name="referred_by")
    code = models.CharField(_("code"), max_length=16, help_text=_("The code the invitee joined with."))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    # Why a referral was not credited (``inviter_banned``, ``invitee_banned``).
    refusal = models.CharField(_("refusal"), max_length=32, blank=True, default="")
    created = models.DateTimeField(default=timezone.now, editable=False)
    qualified_at = models.DateTimeField(_("first earning action at"), null=True, blank=True)
    trigger_entry = models.ForeignKey("engagement.LedgerEntry", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+", help_text=_("The invitee's first earning entry."))
    credited_at = models.DateTimeField(_("credited at"), null=True, blank=True)
    inviter_entry = models.ForeignKey("engagement.LedgerEntry", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    invitee_entry = models.ForeignKey("engagement.LedgerEntry", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        constraints = [
            models.CheckConstraint(condition=~Q(inviter=models.F("invitee")), name="engagement_referral_not_self"),
        ]
        indexes = [
            # GET engagement/referral counts a member's invitations by status.
            models.Index(fields=["inviter", "status"], name="engagement_referral_inviter"),
        ]

    def __str__(self) -> str:
        return f"{self.inviter} → {self.invitee} ({self.status})"
