from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models import Count
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from config.admin_readonly import ReadOnlyAdmin
from points_bridge import services
from points_bridge.models import AwardRule, Claim, ClaimTemplate, OutboxEntry


def _logger(request, message: str):
    """An ``on_changed`` hook for the services: one CHANGE LogEntry per object they actually changed, by the
    acting admin, written inside the service's transaction (a failing write rolls the change back)."""

    def log(changed) -> None:
        if changed:
            LogEntry.objects.log_actions(user_id=request.user.pk, queryset=changed, action_flag=CHANGE,
                                         change_message=message)

    return log


class AliveFilter(admin.SimpleListFilter):
    """Deleted templates are hidden unless asked for: they are soft-deleted so their claims stay."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("all", "All"), ("deleted", "Deleted")]

    def choices(self, changelist):
        yield {"selected": self.value() is None, "display": "Not deleted",
               "query_string": changelist.get_query_string(remove=[self.parameter_name])}
        for value, title in self.lookup_choices:
            yield {"selected": self.value() == value, "display": title,
                   "query_string": changelist.get_query_string({self.parameter_name: value})}

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        return queryset.filter(deleted_at__isnull=self.value() != "deleted")


@admin.register(ClaimTemplate)
class ClaimTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "activity", "points", "points_mode", "enabled", "claim_limit", "limit_mode", "valid_from",
                    "valid_until", "version", "claim_count", "qr_links"]
    list_filter = [AliveFilter, "enabled", "points_mode", "limit_mode", "activity"]
    list_select_related = ["activity"]
    search_fields = ["name", "description"]
    readonly_fields = ["version", "deleted_at", "created", "created_by", "qr_links"]
    actions = ["rotate", "print_sheet", "soft_delete"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(claim_count=Count("claims"))

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user  # the creator may not claim its codes (services._claim)
        super().save_model(request, obj, form, change)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # soft delete instead: claims and ledger rows point here
        return actions

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="claims", ordering="claim_count")
    def claim_count(self, obj) -> int:
        return obj.claim_count

    @admin.display(description="QR")
    def qr_links(self, obj):
        if obj.pk is None or obj.deleted_at is not None:
            return "—"
        return format_html('<a href="{}">PNG</a> · <a href="{}">SVG</a>',
                           reverse("bridge-template-qr-png", args=[obj.pk]),
                           reverse("bridge-template-qr-svg", args=[obj.pk]))

    @admin.action(description="Rotate codes (printed codes stop working)")
    def rotate(self, request, queryset):
        count = services.rotate_templates(templates=queryset, on_changed=_logger(request, "Rotated its codes."))
        self.message_user(request, f"Rotated {count} claim template(s); print their new codes.")

    @admin.action(description="Print a sheet of codes")
    def print_sheet(self, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.filter(deleted_at__isnull=True).values_list("pk", flat=True))
        return redirect(f"{reverse('bridge-claim-sheet')}?ids={ids}")

    @admin.action(description="Delete (soft: claims are kept, codes refused)")
    def soft_delete(self, request, queryset):
        count = services.soft_delete_templates(templates=queryset, on_changed=_logger(request, "Deleted (soft)."))
        self.message_user(request, f"Deleted {count} claim template(s).")


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    list_display = ["created", "template", "member", "points", "via", "actor"]
    list_filter = ["via", "template"]
    list_select_related = ["template", "member__user", "actor"]
    search_fields = ["member__username", "member__user__username", "template__name"]


@admin.register(AwardRule)
class AwardRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "source", "checkin_list", "points", "xp", "activity", "once", "active"]
    list_filter = ["source", "once", "active"]
    list_select_related = ["checkin_list", "activity"]
    raw_id_fields = ["checkin_list"]


@admin.register(OutboxEntry)
class OutboxEntryAdmin(ReadOnlyAdmin):
    list_display = ["entry", "status", "attempts", "next_attempt_at", "last_status_code", "short_error", "sent_at"]
    list_filter = ["status"]
    list_select_related = ["entry"]
    actions = ["retry"]

    def has_change_permission(self, request, obj=None):
        # Needed for the retry action to be offered; the form itself has no editable field.
        return request.user.has_perm("points_bridge.change_outboxentry")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.display(description="last error")
    def short_error(self, obj) -> str:
        return obj.last_error[:80]

    @admin.action(description="Retry delivery now")
    def retry(self, request, queryset):
        from points_bridge import forwarding

        count = forwarding.requeue(outbox=queryset, on_changed=_logger(request, "Queued for delivery again."))
        self.message_user(request, f"Queued {count} outbox entr(y/ies) for delivery.")
