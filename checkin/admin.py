import json

from django.contrib import admin, messages
from django.db import models

from checkin import devices, items, services
from checkin.errors import DeviceTokenInvalid
from checkin.models import (
    CheckinList,
    CheckoutBatch,
    Device,
    Event,
    Organizer,
    OrganizerMembership,
    Scan,
    Ticket,
    TicketType,
)
from config.admin_readonly import ReadOnlyAdmin
from config.forms import JSONField


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
    formfield_overrides = {models.JSONField: {"form_class": JSONField}}  # no NUL or lone surrogates

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
    actions = ["regenerate_secrets"]

    @admin.action(description="Give the selected tickets new codes (old codes scan as revoked)")
    def regenerate_secrets(self, request, queryset):
        count = 0
        for ticket in queryset:
            services.regenerate_secret(ticket=ticket)
            count += 1
        self.message_user(request, f"Regenerated {count} ticket code(s).")


@admin.register(TicketType)
class TicketTypeAdmin(admin.ModelAdmin):
    """pretix's items: ids are created on first use; here admins set the scanner flags."""

    list_display = ["name", "event", "id", "admission", "checkin_attention", "checkin_text"]
    list_filter = ["event__organizer", "event"]
    list_select_related = ["event"]
    readonly_fields = ["event", "name"]

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        items.forget()  # this process sees the new flags at once; others within items.FLAGS_TTL


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    """Scanner apps. Adding one shows its initialization token once (type it in the app, or paste the JSON
    into a QR code generator: pretixSCAN reads ``{"handshake_version": 1, "url": …, "token": …}``)."""

    list_display = ["name", "organizer", "device_id", "unique_serial", "initialized", "revoked", "software_brand",
                    "software_version"]
    list_filter = ["organizer"]
    list_select_related = ["organizer"]
    filter_horizontal = ["limit_events"]
    readonly_fields = ["device_id", "unique_serial", "initialized", "revoked", "init_token_expires",
                       "hardware_brand", "hardware_model", "software_brand", "software_version"]
    actions = ["new_init_token", "revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        devices.save_new(obj)
        self._show_token(request, devices.issue_init_token(device=obj))

    def _show_token(self, request, issued) -> None:
        handshake = json.dumps({"handshake_version": 1, "url": request.build_absolute_uri("/").rstrip("/"),
                                "token": issued.token})
        self.message_user(request, f"Initialization token for {issued.device.name} (shown once, valid until "
                                   f"{issued.device.init_token_expires:%Y-%m-%d %H:%M %Z}): {issued.token} — "
                                   f"QR content: {handshake}", messages.WARNING)

    @admin.action(description="Issue a new initialization token (set the app up again)")
    def new_init_token(self, request, queryset):
        for device in queryset:
            try:
                self._show_token(request, devices.issue_init_token(device=device))
            except DeviceTokenInvalid as exc:
                self.message_user(request, f"{device.name}: {exc.message}", messages.ERROR)

    @admin.action(description="Revoke the selected devices (irreversible)")
    def revoke(self, request, queryset):
        count = 0
        for device in queryset.filter(revoked__isnull=True):
            devices.revoke(device=device)
            count += 1
        self.message_user(request, f"Revoked {count} device(s).")


@admin.register(Scan)
class ScanAdmin(ReadOnlyAdmin):
    list_display = ["id", "datetime", "type", "successful", "error_reason", "forced", "ticket", "checkin_list",
                    "gate", "user", "device", "batch"]
    list_filter = ["type", "successful", "error_reason", "forced", "checkin_list"]
    list_select_related = ["ticket", "checkin_list", "user", "device"]
    search_fields = ["ticket__order_code", "ticket__attendee_name", "nonce", "raw_code"]
    date_hierarchy = "datetime"


@admin.register(CheckoutBatch)
class CheckoutBatchAdmin(ReadOnlyAdmin):
    list_display = ["id", "event", "trigger", "datetime", "checked_out", "user"]
    list_select_related = ["event", "user"]
