"""Admin for referrals (imported at the bottom of engagement/admin.py): read-only facts. A referral moves
only through engagement.referrals; its credits are ordinary ledger entries (reason ``referral``)."""

from django.contrib import admin

from config.admin_readonly import ReadOnlyAdmin
from engagement.models import Referral, ReferralCode


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ["invitee", "inviter", "code", "status", "refusal", "created", "qualified_at", "credited_at"]
    list_filter = ["status", "refusal", "created", "credited_at"]
    list_select_related = ["inviter", "invitee"]
    search_fields = ["code", "inviter__username", "inviter__user__username", "invitee__username",
                     "invitee__user__username"]
    date_hierarchy = "created"
    raw_id_fields = ["inviter", "invitee", "trigger_entry", "inviter_entry", "invitee_entry"]


@admin.register(ReferralCode)
class ReferralCodeAdmin(ReadOnlyAdmin):
    list_display = ["code", "member", "created"]
    list_select_related = ["member"]
    search_fields = ["code", "member__username", "member__user__username"]
    raw_id_fields = ["member"]
