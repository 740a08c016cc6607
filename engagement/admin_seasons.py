"""Admin screens of seasons (with "close now"), their frozen standings (read-only), teams and memberships."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config.admin_readonly import ReadOnlyAdmin
from config.errors import DomainError
from engagement import seasons
from engagement.models import Season, SeasonStanding, Team, TeamMembership


class TeamInline(admin.TabularInline):
    model = Team
    extra = 0
    fields = ("name", "slug", "join_code", "final_rank", "final_points")
    readonly_fields = ("final_rank", "final_points")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Season)
class SeasonAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "starts", "ends", "state", "frozen_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("frozen_at",)
    inlines = [TeamInline]
    actions = ["close_now"]

    @admin.display(description=_("state"))
    def state(self, season: Season) -> str:
        return Season.State(seasons.state(season)).label

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.frozen_at is not None:
            return ("slug", "name", "starts", "ends", "prizes", "frozen_at")
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        # The season's board is recomputed from the day rows: it may start in the past or have moved.
        previous = form.initial.get("starts") if change else None
        try:
            seasons.save_season(season=obj, previous_starts=previous)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    @admin.action(description=_("Close now (freeze standings and pay prizes) if the season is over"))
    def close_now(self, request, queryset):
        closed, waiting = 0, []
        for season in queryset:
            if seasons.close_season(season_id=season.pk).closed:
                closed += 1
            elif seasons.state(season) != Season.State.FROZEN:
                waiting.append(season.name)
        self.message_user(request, ngettext("%(n)d season closed.", "%(n)d seasons closed.", closed) % {"n": closed})
        if waiting:
            self.message_user(request, _("Not over yet (change the last day first, then close): %(names)s")
                              % {"names": ", ".join(waiting)}, messages.WARNING)


@admin.register(SeasonStanding)
class SeasonStandingAdmin(ReadOnlyAdmin):
    list_display = ("season", "rank", "member", "points", "xp", "prize_points", "prize_xp")
    list_filter = ("season",)
    list_select_related = ("season", "member")
    search_fields = ("member__username", "member__user__username")
    ordering = ("season", "rank", "member_id")
    show_full_result_count = False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "season", "slug", "has_code", "final_rank", "final_points")
    list_filter = ("season",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("final_rank", "final_points")

    @admin.display(boolean=True, description=_("join code"))
    def has_code(self, team: Team) -> bool:
        return bool(team.join_code)


@admin.register(TeamMembership)
class TeamMembershipAdmin(admin.ModelAdmin):
    list_display = ("member", "team", "season", "joined")
    list_filter = ("season", "team")
    list_select_related = ("member", "team", "season")
    search_fields = ("member__username", "member__user__username", "team__name")
    raw_id_fields = ("member",)
