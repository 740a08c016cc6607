"""Django admin: the redemption queue (actions call services), the reward catalogue with presets and
batch creation, and the engagement overview page."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.admin_readonly import ReadOnlyAdmin
from config.errors import DomainError
from config.forms import JSONField
from rewards import images, overview, services
from rewards.models import EngagementOverview, Redemption, Reward
from rewards.presets import PRESETS

# --- Redemption queue ---------------------------------------------------------------------------------


def _decision_message(action: str, redemption: Redemption, note: str) -> str:
    """The LogEntry change message of one decision, e.g. "Rejected: damaged (refunded 120 points)"."""
    if action == "reject":
        effects = f"refunded {redemption.refund_entry.points} points"
        if redemption.took_stock:
            effects += ", 1 unit back in stock"
        return f"Rejected: {note} ({effects})" if note else f"Rejected ({effects})"
    verb = {"approve": "Approved", "fulfil": "Fulfilled"}[action]
    return f"{verb}: {note}" if note else verb


def _posted_decision(request) -> str | None:
    """The decision button pressed on the change page, if any."""
    return next((name for name in services.ACTIONS if f"_decide_{name}" in request.POST), None)


def _report(modeladmin, request, *, action: str, participle: str, queryset) -> None:
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    result = services.decide_many(
        action=action, redemption_ids=ids, actor=request.user,
        # Inside each redemption's transaction: a LogEntry for every redemption that moved, none for the rest.
        on_changed=lambda redemption: modeladmin.log_decision(request, redemption, _decision_message(
            action, redemption, "")),
    )
    text = f"{participle.capitalize()} {result.changed} redemption(s)."
    if result.refused:
        text += f" Left {sum(result.refused.values())} unchanged: {result.explain()}."
    modeladmin.message_user(request, text, messages.SUCCESS if not result.refused else messages.WARNING)


class StatusFilter(admin.SimpleListFilter):
    """The queue opens on what waits for a decision: no choice means Pending, and "All" is a choice of
    its own (Django's built-in "All" is the empty choice, which here is Pending)."""

    title = "status"
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [*Redemption.Status.choices, (self.ALL, "All")]

    def queryset(self, request, queryset):
        if self.value() is None and request.method != "GET":
            # An action posted with its selection: act on exactly the rows selected (they were on the
            # page the admin saw), never narrow them to the default view.
            return queryset
        value = self.value() or Redemption.Status.PENDING
        return queryset if value == self.ALL else queryset.filter(status=value)

    def choices(self, changelist):
        current = self.value() or Redemption.Status.PENDING
        for value, label in self.lookup_choices:
            yield {"selected": current == value, "display": label,
                   "query_string": changelist.get_query_string({self.parameter_name: value})}


@admin.register(Redemption)
class RedemptionAdmin(admin.ModelAdmin):
    # Who, what and where it stands first: on a phone the first three columns are all that fit.
    list_display = ["member", "reward", "status", "created", "cost_points", "decided_by", "decided_at",
                    "fulfilled_at"]
    list_display_links = ["member", "reward"]
    list_filter = [StatusFilter, "reward_type", "created", "reward"]
    search_fields = ["member__username", "member__user__username", "member__user__email",
                     "member__user__first_name", "member__user__last_name", "reward__name"]
    list_select_related = ["member__user", "reward", "decided_by", "fulfilled_by"]
    date_hierarchy = "created"
    actions = ["approve_selected", "reject_selected", "fulfil_selected"]
    fieldsets = [
        (None, {"fields": ["member", "reward", "status", "cost_points", "note"]}),
        ("Decision", {"fields": ["created", "decided_by", "decided_at", "fulfilled_by", "fulfilled_at"]}),
        # What support needs now and then, folded away from the daily queue.
        ("Technical details", {"classes": ["collapse"], "fields": [
            "reward_type", "took_stock", "spend_entry", "refund_entry", "idempotency_key"]}),
    ]
    # Only the note is edited here; status moves through the actions and buttons (services).
    readonly_fields = [name for _, options in fieldsets for name in options["fields"] if name != "note"]
    change_form_template = "admin/rewards/redemption/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Approve selected redemptions", permissions=["change"])
    def approve_selected(self, request, queryset):
        _report(self, request, action="approve", participle="approved", queryset=queryset)

    @admin.action(description="Reject selected redemptions (refund points, restore stock)", permissions=["change"])
    def reject_selected(self, request, queryset):
        _report(self, request, action="reject", participle="rejected", queryset=queryset)

    @admin.action(description="Mark selected redemptions fulfilled", permissions=["change"])
    def fulfil_selected(self, request, queryset):
        _report(self, request, action="fulfil", participle="fulfilled", queryset=queryset)

    def save_model(self, request, obj, form, change):
        # Never obj.save(): the form's copy of the status may be stale, and saving it would undo a
        # decision made meanwhile. A decision button calls its service; otherwise only the note moves.
        action = _posted_decision(request)
        note = form.cleaned_data.get("note", "")
        if action is None:
            Redemption.objects.filter(pk=obj.pk).update(note=note)
            return
        try:
            redemption = services.ACTIONS[action](redemption_id=obj.pk, actor=request.user, note=note)
        except DomainError as exc:
            self.message_user(request, f"Not changed: {exc.message}", messages.ERROR)
        else:
            # changeform_view runs in one transaction: the entry commits with the decision.
            self.log_decision(request, redemption, _decision_message(action, redemption, note))

    def response_change(self, request, obj):
        action = _posted_decision(request)
        if action is None:
            return super().response_change(request, obj)
        # The decision's own words and the status it ended in, not Django's "was changed successfully"
        # over the form's stale copy of the row.
        obj.refresh_from_db()
        if obj.status != services.TRANSITIONS[action][1]:
            return redirect(request.path)  # refused: save_model said why; stay on the redemption
        self.message_user(request, f"{obj.get_status_display()}: {obj.reward.name} for {obj.member}.", messages.SUCCESS)
        return redirect("admin:rewards_redemption_changelist")  # opens on Pending: the next one to decide

    def save_related(self, request, form, formsets, change):
        pass  # nothing related is edited here, and form.save_m2m would touch the stale instance

    def log_change(self, request, obj, message):
        if _posted_decision(request) is not None:
            return None  # save_model logged the decision, or it was refused and nothing changed
        return super().log_change(request, obj, message or "Edited the note.")

    def log_decision(self, request, redemption: Redemption, message: str) -> LogEntry:
        """The admin audit trail (Recent actions, the History page) of one approve / reject / fulfil."""
        return super().log_change(request, redemption, message)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["decisions"] = _available_decisions(obj) if obj and self.has_change_permission(request, obj) else []
        return super().render_change_form(request, context, add, change, form_url, obj)


def _available_decisions(obj: Redemption) -> list[tuple[str, str]]:
    labels = {"approve": "Approve", "reject": "Reject and refund", "fulfil": "Mark fulfilled"}
    return [(name, labels[name]) for name, (sources, _, _) in services.TRANSITIONS.items() if obj.status in sources]


# --- Reward catalogue ---------------------------------------------------------------------------------


class BatchForm(forms.Form):
    type = forms.ChoiceField(choices=Reward.Type.choices, initial=Reward.Type.AVATAR_STATIC)
    name_template = forms.CharField(max_length=180, initial="Avatar #{i}",
                                    help_text="{i} is replaced by the running number.")
    url_template = forms.CharField(max_length=480, initial="https://api.dicebear.com/9.x/bottts/svg?seed={i}",
                                   help_text="Image URL with {i}; for avatar types also the avatar itself.")
    count = forms.IntegerField(min_value=1, max_value=200, initial=10)
    start = forms.IntegerField(min_value=0, max_value=1_000_000, initial=1, label="Start index")
    cost_points = forms.IntegerField(min_value=1, max_value=2_147_483_647, initial=50)
    stock = forms.IntegerField(min_value=0, max_value=2_147_483_647, required=False,
                               help_text="Empty = unlimited.")
    active = forms.BooleanField(required=False, initial=True)

    def clean_url_template(self):
        value = self.cleaned_data["url_template"]
        if "{i}" not in value:
            raise ValidationError("The URL template needs an {i} placeholder.")
        return value


def _switch_active(request, queryset, *, active: bool) -> int:
    """Switch the selected rewards on or off; only those that change are written and logged."""
    ids = list(queryset.values_list("pk", flat=True))
    with transaction.atomic():
        # Locked, so exactly the rows read here are the ones switched (and logged).
        rewards = list(Reward.objects.select_for_update().filter(pk__in=ids, active=not active).order_by("pk"))
        Reward.objects.filter(pk__in=[reward.pk for reward in rewards]).update(active=active)
        LogEntry.objects.log_actions(user_id=request.user.pk, queryset=rewards, action_flag=CHANGE,
                                     change_message="Activated." if active else "Deactivated.")
    return len(rewards)


class RewardForm(forms.ModelForm):
    image_upload = forms.FileField(required=False, label="Upload a picture",
                                   help_text="PNG, JPEG, GIF or WebP; replaces the image URL.")

    class Meta:
        model = Reward
        fields = ["name", "description", "type", "cost_points", "cost_type", "image_url", "stock", "active",
                  "metadata", "available_from", "available_until", "max_per_member"]

    def clean_image_upload(self):
        upload = self.cleaned_data.get("image_upload")
        if upload:
            images.read_image(upload)  # ImageRefused is a ValidationError: shown on the field
            upload.seek(0)
        return upload


class AvailabilityFilter(admin.SimpleListFilter):
    """Where a reward's window stands now (``active`` is its own filter: an inactive reward in its
    window is still "available now" here, as the admin plans the window separately)."""

    title = _("availability")
    parameter_name = "availability"

    def lookups(self, request, model_admin):
        return [("now", _("Available now")), ("upcoming", _("Upcoming")), ("ended", _("Ended"))]

    def queryset(self, request, queryset):
        at = timezone.now()
        started = Q(available_from__isnull=True) | Q(available_from__lte=at)
        if self.value() == "now":
            return queryset.filter(started, Q(available_until__isnull=True) | Q(available_until__gt=at))
        if self.value() == "upcoming":
            return queryset.filter(available_from__gt=at)
        if self.value() == "ended":
            return queryset.filter(available_until__lte=at)
        return queryset


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "cost_points", "cost_type", "stock", "active", "available_from", "available_until",
                    "max_per_member", "redemption_count"]
    list_editable = ["stock", "active"]
    list_filter = ["type", "cost_type", "active", AvailabilityFilter]
    search_fields = ["name", "description"]
    actions = ["activate_selected", "deactivate_selected"]
    form = RewardForm
    change_list_template = "admin/rewards/reward/change_list.html"
    formfield_overrides = {models.JSONField: {"form_class": JSONField}}  # no NUL or lone surrogates

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_redemptions=Count("redemptions"))

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "stock":
            # The page posts the stock it showed, so "changed" means "the admin typed a new number",
            # not "differs from the database" (which it does as soon as anyone redeems meanwhile).
            field.show_hidden_initial = True
        return field

    @admin.display(description="redemptions", ordering="n_redemptions")
    def redemption_count(self, obj) -> int:
        return obj.n_redemptions

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        return {**PRESETS.get(request.GET.get("preset", ""), {}), **initial} if "preset" in request.GET else initial

    def save_model(self, request, obj, form, change):
        # Write only what the admin changed: re-saving an unchanged (stale) stock from the changelist
        # would put back units sold since the page was loaded.
        changed = [name for name in form.changed_data if name != "image_upload"]
        if form.cleaned_data.get("image_upload"):
            # Storage I/O inside the admin's transaction: one file, an admin's save; we accept it here.
            obj.image_url = images.store_image(form.cleaned_data["image_upload"])
            changed.append("image_url")
        if change:
            obj.save(update_fields=[*dict.fromkeys(changed), "updated"])
        else:
            obj.save()

    @admin.action(description="Activate selected rewards", permissions=["change"])
    def activate_selected(self, request, queryset):
        count = _switch_active(request, queryset, active=True)
        self.message_user(request, f"Activated {count} reward(s).")

    @admin.action(description="Deactivate selected rewards", permissions=["change"])
    def deactivate_selected(self, request, queryset):
        count = _switch_active(request, queryset, active=False)
        self.message_user(request, f"Deactivated {count} reward(s).")

    def changelist_view(self, request, extra_context=None):
        presets = [(key, Reward.Type(key).label) for key in PRESETS]
        return super().changelist_view(request, {**(extra_context or {}), "presets": presets})

    def get_urls(self):
        batch = self.admin_site.admin_view(self.batch_view)
        return [path("batch/", batch, name="rewards_reward_batch"), *super().get_urls()]

    def batch_view(self, request):
        if not self.has_add_permission(request):
            messages.error(request, "You do not have permission to add rewards.")
            return redirect("admin:rewards_reward_changelist")
        form = BatchForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = dict(form.cleaned_data)
            try:
                with transaction.atomic():  # the rewards and their LogEntries commit together
                    created = services.create_batch(**data)
                    LogEntry.objects.log_actions(user_id=request.user.pk, queryset=created, action_flag=ADDITION,
                                                 change_message="Added in a batch.")
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                self.message_user(request, f"Created {len(created)} reward(s).")
                return redirect("admin:rewards_reward_changelist")
        context = {**self.admin_site.each_context(request), "form": form, "opts": self.model._meta,
                   "title": "Create rewards in a batch"}
        return render(request, "admin/rewards/reward/batch.html", context)


# --- Engagement overview ------------------------------------------------------------------------------


@admin.register(EngagementOverview)
class EngagementOverviewAdmin(ReadOnlyAdmin):
    """A page, not a table: the entry in the rewards app list opens the overview."""

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("rewards.view_redemption") and request.user.has_perm(
            "engagement.view_ledgerentry")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def get_urls(self):
        view = self.admin_site.admin_view(self.changelist_view)
        return [path("", view, name="rewards_engagementoverview_changelist")]

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            messages.error(request, "You need to view redemptions and ledger entries for the overview.")
            return redirect("admin:index")
        at = timezone.now()
        earners, median = overview.unusual_earners(at=at)
        per_day, per_week = overview.redemptions_per_day(at=at), overview.points_per_week(at=at)
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": "Engagement overview",
            "per_day": per_day, "per_week": per_week, "charts": _chart_data(per_day, per_week, at=at),
            "earners": earners, "median": median, "pending": Redemption.objects.filter(status="pending").count(),
            "queue_url": reverse("admin:rewards_redemption_changelist"),  # opens on Pending
        }
        return render(request, "admin/rewards/overview.html", context)


def _chart_data(per_day: list[dict], per_week: list[dict], *, at) -> dict:
    """The overview's two charts, as plain lists for json_script. Every one of the 30 days gets a bar,
    zero included: a gap in the axis would read as "no data" rather than "no redemptions"."""
    today = timezone.localdate(at)
    totals = {row["day"]: row["total"] for row in per_day}
    days = [today - timedelta(days=n) for n in range(29, -1, -1)]
    return {
        "days": [day.isoformat() for day in days],
        "redemptions": [totals.get(day, 0) for day in days],
        "weeks": [row["week"].isoformat()[:10] for row in per_week],
        "issued": [row["issued"] for row in per_week],
        "spent": [row["spent"] for row in per_week],
    }
