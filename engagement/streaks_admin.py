"""The member admin's streak pieces: read-only figures, a list filter and the freeze-granting action."""

from datetime import timedelta

from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.admin_readonly import ReadOnlyAdmin
from config.errors import DomainError
from engagement import streaks
from engagement.leaderboards.periods import local_day
from engagement.models import StreakFreezeGrant


class StreakFilter(admin.SimpleListFilter):
    title = _("streak")
    parameter_name = "streak"

    def lookups(self, request, model_admin):
        return [("today", _("active today")), ("alive", _("streak alive (active today or yesterday)")),
                ("best7", _("best streak of 7+ days")), ("best30", _("best streak of 30+ days")),
                ("frozen", _("has streak freezes")), ("none", _("never active"))]

    def queryset(self, request, queryset):
        today = local_day(timezone.now())
        filters = {
            "today": {"streak__last_active_day": today},
            "alive": {"streak__last_active_day__gte": today - timedelta(days=1)},
            "best7": {"streak__best__gte": 7},
            "best30": {"streak__best__gte": 30},
            "frozen": {"streak__freezes__gt": 0},
        }
        if self.value() == "none":
            return queryset.filter(streak__last_active_day__isnull=True)
        return queryset.filter(**filters[self.value()]) if self.value() in filters else queryset


class StreakReadouts:
    """Mixed into MemberAdmin: the streak on the member's page, and the action granting freezes."""

    streak_fields = ["streak_current", "streak_best", "streak_freezes", "streak_active_today"]

    @staticmethod
    def _streak(member) -> streaks.Status:
        # One read for the four fields of the change page.
        if not hasattr(member, "_streak_status"):
            member._streak_status = streaks.status(member=member) if member.pk else streaks.Status(0, 0, 0, 0, False,
                                                                                                  None)
        return member._streak_status

    @admin.display(description=_("current streak"))
    def streak_current(self, member):
        return self._streak(member).current

    @admin.display(description=_("best streak"))
    def streak_best(self, member):
        return self._streak(member).best

    @admin.display(description=_("streak freezes"))
    def streak_freezes(self, member):
        state = self._streak(member)
        return f"{state.freezes} ({state.freezes_used} used)"

    @admin.display(description=_("active today"), boolean=True)
    def streak_active_today(self, member):
        return self._streak(member).active_today

    @admin.action(description=_("Grant streak freezes"), permissions=["grant_streak_freezes"])
    def grant_streak_freezes(self, request, queryset):
        count = request.POST.get("freezes") or "1"
        try:
            count = int(count)
            with transaction.atomic():  # all selected members or none
                granted = [streaks.grant_freezes(member=m, count=count, actor=request.user)
                           for m in queryset.order_by("pk")]
        except (ValueError, DomainError) as exc:
            self.message_user(request, getattr(exc, "message", f"Freezes must be 1 to {streaks.MAX_FREEZE_GRANT}."),
                              messages.ERROR)
            return
        self.message_user(request, f"Granted {count} streak freeze(s) to {len(granted)} member(s).")

    def has_grant_streak_freezes_permission(self, request):
        return request.user.has_perm("engagement.grant_streak_freezes")


@admin.register(StreakFreezeGrant)
class StreakFreezeGrantAdmin(ReadOnlyAdmin):
    """Who granted whom how many freezes, and when (the admin action and the API both write one)."""

    list_display = ["member", "count", "actor", "created"]
    list_filter = ["created"]
    list_select_related = ["member", "actor"]
    search_fields = ["member__username", "member__user__username", "actor__username"]
    date_hierarchy = "created"
    raw_id_fields = ["member", "actor"]
