"""Admin of bans, of the unban request queue and of the spam review list. Bans and unban requests
change only through engagement.moderation, which writes the LogEntry and sends the emails."""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from config.errors import DomainError
from engagement import moderation
from engagement.models import Ban, SpamReport, UnbanRequest


class BanForm(forms.ModelForm):
    class Meta:
        model = Ban
        fields = ["member", "reason", "until"]

    def clean(self):
        data = super().clean()
        try:
            moderation._validate_ban(data.get("reason", ""), data.get("until"), timezone.now())
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None
        return data


@admin.register(Ban)
class BanAdmin(admin.ModelAdmin):
    """Adding a ban bans the member (a ban in force is replaced); bans are never edited, only lifted."""

    form = BanForm
    list_display = ["member", "reason", "until", "created", "created_by", "ended_at", "end", "ended_by"]
    list_filter = ["end", ("ended_at", admin.EmptyFieldListFilter)]
    list_select_related = ["member__user", "created_by", "ended_by"]
    search_fields = ["member__username", "member__user__username", "member__user__email", "reason"]
    raw_id_fields = ["member"]
    actions = ["lift_selected"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["member", "reason", "until", "created", "created_by", "ended_at", "end", "ended_by"]

    def has_delete_permission(self, request, obj=None):
        return False  # the history stays; lifting ends a ban

    def save_model(self, request, obj, form, change):
        if change:
            return
        ban = moderation.ban_member(member=obj.member, reason=obj.reason, until=obj.until, actor=request.user)
        obj.pk, obj.created, obj.created_by = ban.pk, ban.created, ban.created_by

    def log_addition(self, request, obj, message):
        return None  # ban_member logged the ban on the member's history

    @admin.action(description="Lift selected bans", permissions=["change"])
    def lift_selected(self, request, queryset):
        lifted = 0
        for ban in queryset.filter(ended_at__isnull=True).select_related("member"):
            try:
                moderation.unban_member(member=ban.member, actor=request.user)
            except DomainError:
                continue  # ended meanwhile (expired, or another admin)
            lifted += 1
        self.message_user(request, f"Lifted {lifted} ban(s).")


def _decide(modeladmin, request, queryset, decide, participle: str) -> None:
    done, refused = 0, 0
    for request_id in queryset.order_by("pk").values_list("pk", flat=True):
        try:
            decide(request_id=request_id, actor=request.user)
        except DomainError:
            refused += 1
        else:
            done += 1
    text = f"{participle} {done} unban request(s)."
    if refused:
        text += f" Left {refused} unchanged (already decided)."
    modeladmin.message_user(request, text, messages.WARNING if refused else messages.SUCCESS)


@admin.register(UnbanRequest)
class UnbanRequestAdmin(admin.ModelAdmin):
    """The approval queue: approve lifts the ban, reject keeps it; both email the member."""

    list_display = ["id", "created", "member", "status", "message", "decided_by", "decided_at"]
    list_filter = ["status", "created"]
    list_select_related = ["member__user", "decided_by"]
    search_fields = ["member__username", "member__user__username", "member__user__email", "message"]
    readonly_fields = ["member", "ban", "message", "status", "created", "decided_by", "decided_at", "note"]
    actions = ["approve_selected", "reject_selected"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Approve selected requests (lift the ban)", permissions=["change"])
    def approve_selected(self, request, queryset):
        _decide(self, request, queryset, moderation.approve_unban_request, "Approved")

    @admin.action(description="Reject selected requests (keep the ban)", permissions=["change"])
    def reject_selected(self, request, queryset):
        _decide(self, request, queryset, moderation.reject_unban_request, "Rejected")


@admin.register(SpamReport)
class SpamReportAdmin(admin.ModelAdmin):
    """Actions refused as suspected spam. Reviewing one marks it seen; banning the member is done from
    the Bans page. Nothing is awarded afterwards: the frontend may report the action again."""

    list_display = ["created", "member", "reason", "rule", "short_text", "reviewed_at", "reviewed_by"]
    list_filter = ["rule", ("reviewed_at", admin.EmptyFieldListFilter), "reason"]
    list_select_related = ["member__user", "reviewed_by"]
    search_fields = ["member__username", "member__user__username", "member__user__email", "text"]
    readonly_fields = ["member", "reason", "rule", "text", "meta", "actor", "created", "reviewed_at", "reviewed_by"]
    actions = ["mark_reviewed"]
    date_hierarchy = "created"

    def has_add_permission(self, request):
        return False

    @admin.display(description="text")
    def short_text(self, obj) -> str:
        return obj.text if len(obj.text) <= 80 else obj.text[:79] + "…"

    @admin.action(description="Mark selected reports reviewed", permissions=["change"])
    def mark_reviewed(self, request, queryset):
        count = queryset.filter(reviewed_at__isnull=True).update(reviewed_at=timezone.now(), reviewed_by=request.user)
        self.message_user(request, f"Marked {count} report(s) reviewed.")
