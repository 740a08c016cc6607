from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path, reverse

from config.admin_readonly import ReadOnlyAdmin
from config.errors import DomainError
from engagement import services, streaks
from engagement.leaderboards.index import set_visibility
from engagement.models import Activity, EarningRule, LedgerEntry, Member
from engagement.streaks_admin import StreakFilter, StreakReadouts


class AdjustForm(forms.Form):
    delta = forms.IntegerField(min_value=-services.MAX_ADJUST, max_value=services.MAX_ADJUST,
                               help_text="Positive to add points, negative to remove them. XP never changes.")
    note = forms.CharField(max_length=200, help_text="Why (kept in the entry's meta and shown in the audit).")


class MemberActionForm(ActionForm):
    freezes = forms.IntegerField(min_value=1, max_value=streaks.MAX_FREEZE_GRANT, required=False, initial=1,
                                 label="Freezes", help_text="For “Grant streak freezes”.")


@admin.register(Member)
class MemberAdmin(StreakReadouts, admin.ModelAdmin):
    action_form = MemberActionForm
    actions = ["grant_streak_freezes"]
    list_display = ["__str__", "user", "points", "xp", "level", "external_id", "show_on_leaderboard", "banned",
                    "created"]
    list_select_related = ["user"]
    search_fields = ["username", "user__username", "user__email", "user__first_name", "user__last_name"]
    list_filter = ["avatar_upload_unlocked", "show_on_leaderboard", "banned", StreakFilter]
    raw_id_fields = ["user"]
    # Balances are a cache of the ledger; they move only through services (see the adjust page). So is
    # the streak (engagement.streaks); freezes are granted with the action on the member list.
    readonly_fields = ["points", "xp", "level", "banned", "banned_until", "created", *StreakReadouts.streak_fields]

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Write only what the form changed: a plain save() would also write back the balances read when
        # the page was posted, undoing any award that committed in between.
        changed = [name for name in form.changed_data if name != "show_on_leaderboard"]
        if "show_on_leaderboard" in form.changed_data:
            # The Redis leaderboard index must drop or re-add the member too, not just the column.
            set_visibility(member=obj, visible=obj.show_on_leaderboard)
        if changed:
            obj.save(update_fields=changed)

    def get_urls(self):
        adjust = self.admin_site.admin_view(self.adjust_view)
        return [path("<int:member_id>/adjust/", adjust, name="engagement_member_adjust"), *super().get_urls()]

    def adjust_view(self, request, member_id: int):
        if not request.user.has_perm("engagement.adjust_points"):
            messages.error(request, "You do not have permission to adjust points.")
            return redirect("admin:engagement_member_changelist")
        member = Member.objects.select_related("user").get(pk=member_id)
        form = AdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            note = form.cleaned_data["note"]
            try:
                with transaction.atomic():  # the ledger entry and its LogEntry commit together
                    entry = services.adjust(member=member, delta=form.cleaned_data["delta"], actor=request.user,
                                            meta={"note": note, "via": "admin"})
                    self.log_change(request, member,
                                    f"Adjusted points by {entry.points:+d}: {note} (ledger entry #{entry.pk})")
            except DomainError as exc:
                form.add_error("delta", exc.message)
            else:
                self.message_user(request, f"Adjusted {member} by {entry.points:+d}; balance now {member.points}.")
                return redirect("admin:engagement_member_change", member.pk)
        context = {**self.admin_site.each_context(request), "member": member, "form": form,
                   "opts": self.model._meta, "title": f"Adjust points of {member}"}
        return render(request, "admin/engagement/adjust.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}),
                         "adjust_url": reverse("admin:engagement_member_adjust", args=[object_id])}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created", "member", "points", "xp", "reason", "activity", "actor", "idempotency_key"]
    list_select_related = ["member__user", "activity", "actor"]
    list_filter = ["reason", "activity"]
    search_fields = ["member__username", "member__user__username", "reason", "idempotency_key"]
    date_hierarchy = "created"
    show_full_result_count = False  # counting millions of rows on every page is not worth it


@admin.register(EarningRule)
class EarningRuleAdmin(admin.ModelAdmin):
    list_display = ["reason", "points", "xp", "daily_cap", "lifetime_cap", "active"]
    list_editable = ["points", "xp", "daily_cap", "lifetime_cap", "active"]
    search_fields = ["reason", "description"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "external_id", "active", "created"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]


# Registered by import: achievements, unlocks and campaigns; challenges and their completions; bans and
# the unban request queue; referrals; seasons, standings and teams.
from engagement import (  # noqa: E402, F401
    admin_achievements,
    admin_challenges,
    admin_moderation,
    admin_referrals,
    admin_seasons,
)
