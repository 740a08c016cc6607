"""Admin for achievements, unlocks and campaigns (imported at the bottom of engagement/admin.py)."""

import json

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models, transaction

from config import outbox
from config.admin_readonly import ReadOnlyAdmin
from config.forms import JSONField
from engagement.achievement_rules import validate_rule
from engagement.models import Achievement, AchievementCategory, Campaign, MemberAchievement
from engagement.tasks import evaluate_achievements


class RuleField(JSONField):
    """A JSON field whose value must be a valid achievement rule (errors say where in the rule)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 6, "cols": 80, "style": "font-family: monospace"}))
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        validate_rule(value)

    def prepare_value(self, value):
        if isinstance(value, str):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)


class AchievementForm(forms.ModelForm):
    rule = RuleField(help_text='Types: reason_count (reason, min), checkins, level, points, xp, distinct_activities, '
                               'streak_days (min), streak (days); combine with {"all": [...]} or {"any": [...]}.')

    class Meta:
        model = Achievement
        fields = ["code", "title", "description", "category", "icon", "points", "xp", "rule", "active", "position"]


@admin.register(AchievementCategory)
class AchievementCategoryAdmin(admin.ModelAdmin):
    list_display = ["slug", "title", "icon", "position"]
    list_editable = ["position"]
    search_fields = ["slug", "title"]
    prepopulated_fields = {"slug": ["title"]}


@admin.register(Achievement)
class AchievementAdmin(admin.ModelAdmin):
    form = AchievementForm
    list_display = ["code", "title", "category", "points", "xp", "active", "position"]
    list_editable = ["active", "position"]
    list_select_related = ["category"]
    search_fields = ["code", "title"]
    list_filter = ["active", "category"]


@admin.register(MemberAchievement)
class MemberAchievementAdmin(ReadOnlyAdmin):
    """Unlocks are facts paid through the ledger: created by evaluation only, never edited."""

    list_display = ["unlocked_at", "member", "achievement", "entry"]
    list_select_related = ["member__user", "achievement", "entry"]
    list_filter = ["achievement"]
    search_fields = ["member__username", "member__user__username", "achievement__code"]
    raw_id_fields = ["member", "entry"]
    date_hierarchy = "unlocked_at"
    actions = ["reevaluate"]

    @admin.action(description="Re-evaluate the selected members' achievements")
    def reevaluate(self, request, queryset):
        member_ids = set(queryset.values_list("member_id", flat=True))
        with transaction.atomic():  # through the outbox: a broker outage delays the evaluations, never loses them
            for member_id in sorted(member_ids):
                outbox.enqueue(evaluate_achievements, member_id=member_id)
        self.message_user(request, f"Queued {len(member_ids)} member(s) for evaluation.")


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "rules", "reasons", "points_multiplier", "xp_multiplier", "starts_at", "ends_at", "active"]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("rules") and not cleaned.get("reasons"):
            raise ValidationError("Choose at least one earning rule or reason for the campaign to boost.")
        return cleaned


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    formfield_overrides = {models.JSONField: {"form_class": JSONField}}  # no NUL or lone surrogates
    list_display = ["name", "points_multiplier", "xp_multiplier", "starts_at", "ends_at", "active"]
    list_filter = ["active"]
    filter_horizontal = ["rules"]
    search_fields = ["name"]
