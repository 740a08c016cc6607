from django.contrib import admin

from checkin import services
from checkin.models import CheckinList, CheckoutBatch, Event, Organizer, OrganizerMembership, Scan, Ticket
from config.admin_readonly import ReadOnlyAdmin


class MembershipInline(admin.TabularInline):
    model = OrganizerMembership
    raw_id_fields = ["user"]
    extra = 1


@admin.register(Organizer)
class OrganizerAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


class CheckinListInline(admin.StackedInline):
    model = CheckinList
    extra = 0


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["name", "organizer", "slug", "date_from"]
    list_filter = ["organizer"]
    list_select_related = ["organizer"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(CheckinList)
class CheckinListAdmin(admin.ModelAdmin):
    list_display = ["name", "event", "allow_multiple_entries", "allow_entry_after_exit", "exit_all_at",
                    "attendance_points"]
    list_select_related = ["event"]
    list_filter = ["event__organizer"]
    actions = ["check_everyone_out"]

    @admin.action(description="Check everyone inside the selected lists out")
    def check_everyone_out(self, request, queryset):
        total = 0
        for clist in queryset.select_related("event"):
            result = services.bulk_checkout(event=clist.event, lists=[clist], user=request.user)
            total += result.batch.checked_out
        self.message_user(request, f"Checked out {total} attendee(s).")


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["order_code", "attendee_name", "attendee_email", "ticket_type", "event", "status"]
    list_filter = ["status", "event", "ticket_type"]
    list_select_related = ["event"]
    search_fields = ["order_code", "attendee_name", "attendee_email", "=secret"]
    search_help_text = "Order code, attendee name or email, or a whole ticket secret (what the QR code holds)."
    raw_id_fields = ["member"]


@admin.register(Scan)
class ScanAdmin(ReadOnlyAdmin):
    list_display = ["id", "datetime", "type", "successful", "error_reason", "forced", "ticket", "checkin_list",
                    "gate", "user", "batch"]
    list_filter = ["type", "successful", "error_reason", "forced", "checkin_list"]
    list_select_related = ["ticket", "checkin_list", "user"]
    search_fields = ["ticket__order_code", "ticket__attendee_name", "nonce", "raw_code"]
    date_hierarchy = "datetime"


@admin.register(CheckoutBatch)
class CheckoutBatchAdmin(ReadOnlyAdmin):
    list_display = ["id", "event", "trigger", "datetime", "checked_out", "user"]
    list_select_related = ["event", "user"]
