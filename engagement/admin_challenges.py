"""Admin for challenges and their completions (imported at the bottom of engagement/admin.py)."""

from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from config import outbox
from config.admin_readonly import ReadOnlyAdmin
from engagement.achievement_rules import validate_rule
from engagement.admin_achievements import RuleField
from engagement.models import Challenge, ChallengeCompletion
from engagement.tasks import evaluate_challenge


class ChallengeRuleField(RuleField):
    """An achievement rule that must also be countable inside the challenge's window (no ``level``)."""

    def validate(self, value):
        super().validate(value)
        validate_rule(value, windowed=True)


class ChallengeForm(forms.ModelForm):
    # WINDOWED_LEAF_TYPES, spelled out for the translators.
    rule = ChallengeRuleField(help_text=_("Counted only over entries inside the window. Types: reason_count "
                                          "(reason, min), checkins, points, xp, distinct_activities (min), "
                                          'streak (days); combine with {"all": [...]} or {"any": [...]}.'))

    class Meta:
        model = Challenge
        fields = ["code", "title", "description", "icon", "rule", "starts_at", "ends_at", "activity", "points", "xp",
                  "active", "position"]


@admin.register(Challenge)
class ChallengeAdmin(admin.ModelAdmin):
    form = ChallengeForm
    list_display = ["code", "title", "starts_at", "ends_at", "points", "xp", "activity", "active", "position"]
    list_editable = ["active", "position"]
    list_filter = ["active"]
    list_select_related = ["activity"]
    search_fields = ["code", "title"]
    date_hierarchy = "starts_at"
    actions = ["reevaluate"]

    @admin.action(description=_("Re-evaluate the selected challenges for every member"))
    def reevaluate(self, request, queryset):
        ids = sorted(queryset.filter(active=True).values_list("pk", flat=True))
        with transaction.atomic():  # through the outbox: a broker outage delays the evaluations, never loses them
            for challenge_id in ids:
                outbox.enqueue(evaluate_challenge, challenge_id=challenge_id)
        self.message_user(request, _("Queued %(n)d active challenge(s) for evaluation.") % {"n": len(ids)})


@admin.register(ChallengeCompletion)
class ChallengeCompletionAdmin(ReadOnlyAdmin):
    """Completions are facts paid through the ledger: created by evaluation only, never edited."""

    list_display = ["completed_at", "member", "challenge", "entry"]
    list_select_related = ["member__user", "challenge", "entry"]
    list_filter = ["challenge"]
    search_fields = ["member__username", "member__user__username", "challenge__code"]
    raw_id_fields = ["member", "entry"]
    date_hierarchy = "completed_at"
