from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """For facts and pages, not editable tables (the ledger, scan logs, claims, unlocks, the overview):
    viewable, never added, edited or deleted through the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
