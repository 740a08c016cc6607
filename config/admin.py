from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from config import outbox
from config.admin_readonly import ReadOnlyAdmin
from config.models import Heartbeat, OutboxTask


@admin.register(OutboxTask)
class OutboxTaskAdmin(ReadOnlyAdmin):
    list_display = ["id", "task", "kwargs", "created", "done_at", "attempts", "dispatches", "due_at"]
    list_filter = [("done_at", admin.EmptyFieldListFilter), "task"]
    search_fields = ["task", "last_error"]
    date_hierarchy = "created"
    actions = ["send_now"]

    @admin.action(description="Send the selected unfinished tasks now")
    def send_now(self, request, queryset):
        with transaction.atomic():
            ids = list(queryset.filter(done_at__isnull=True).values_list("pk", flat=True))
            OutboxTask.objects.filter(pk__in=ids).update(due_at=timezone.now())
            content_type = ContentType.objects.get_for_model(OutboxTask)
            for pk in ids:
                LogEntry.objects.log_action(request.user.pk, content_type.pk, pk, f"outbox task #{pk}", CHANGE,
                                            "Sent again by hand.")
                transaction.on_commit(lambda pk=pk: outbox.relay(pk))
        self.message_user(request, f"{len(ids)} task(s) sent again; finished ones were left alone.",
                          messages.SUCCESS if ids else messages.WARNING)


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["name", "at"]
