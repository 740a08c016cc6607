from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagement import levels


class Member(models.Model):
    """One per user. ``points``/``xp``/``level`` are a cache of the ledger, moved only by services."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member")
    # The public handle shown on leaderboards; unique case-insensitively (see constraints). Every member
    # has one from the start: ``fan-<user id>`` until they choose another (see save()).
    username = models.CharField(_("username"), max_length=32, blank=True, default="")
    points = models.BigIntegerField(default=0)
    xp = models.BigIntegerField(default=0)
    level = models.PositiveSmallIntegerField(default=1)
    avatar_url = models.URLField(max_length=500, blank=True, default="")
    animated_avatar_url = models.URLField(max_length=500, blank=True, default="")
    avatar_upload_unlocked = models.BooleanField(default=False)
    show_on_leaderboard = models.BooleanField(_("show on leaderboards"), default=True)
    # The ban in force, copied from its Ban row by engagement.moderation: the award path reads it from
    # the member row it locks anyway. ``banned`` stays True past ``banned_until`` until the expiry sweep
    # ends the ban; earning is judged by the date, leaderboards by the flag.
    banned = models.BooleanField(_("banned"), default=False, editable=False)
    banned_until = models.DateTimeField(_("banned until"), null=True, blank=True, editable=False)
    # Integer id used by other systems (the Point System protocol's user_id).
    external_id = models.BigIntegerField(null=True, blank=True, unique=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        permissions = [
            ("record_action", "Can record member actions through the earning rules"),
            ("adjust_points", "Can adjust a member's points"),
            ("award_points", "Can award points to members (staff attribution)"),
            ("ban_member", "Can ban and unban members"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=0), name="engagement_member_points_non_negative"),
            models.CheckConstraint(condition=Q(xp__gte=0), name="engagement_member_xp_non_negative"),
            models.UniqueConstraint(
                models.functions.Lower("username"),
                condition=~Q(username=""),
                name="engagement_member_username_ci_unique",
            ),
        ]
        indexes = [
            # Leaderboard SQL path: top-N and "how many are above me" per metric.
            models.Index(fields=["-points", "id"], name="engagement_member_points_idx"),
            models.Index(fields=["-xp", "id"], name="engagement_member_xp_idx"),
            # The few members hidden from leaderboards (opted out or banned), subtracted from ranks on the
            # SQL path.
            models.Index(fields=["id"], name="engagement_member_hidden_idx",
                         condition=Q(show_on_leaderboard=False) | Q(banned=True)),
            # "Hidden members above v" on the global board as an index-only range (a rank subtracts them).
            models.Index(fields=["points"], name="engagement_member_hidden_pts",
                         condition=Q(show_on_leaderboard=False) | Q(banned=True)),
            models.Index(fields=["xp"], name="engagement_member_hidden_xp",
                         condition=Q(show_on_leaderboard=False) | Q(banned=True)),
        ]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, **kwargs):
        if not self.username and self.user_id is not None:
            self.username = default_handle(self.user_id)
        super().save(*args, **kwargs)

    @property
    def listed(self) -> bool:
        """Whether the member appears on leaderboards: not opted out and not banned."""
        return self.show_on_leaderboard and not self.banned

    def ban_in_force(self, at) -> bool:
        return self.banned and (self.banned_until is None or at < self.banned_until)

    @property
    def display_name(self) -> str:
        return self.username or self.user.get_username()

    @property
    def level_title(self) -> str:
        return levels.title_for_level(self.level)

    @property
    def level_color(self) -> str:
        return levels.color_for_level(self.level)

    @property
    def xp_into_level(self) -> int:
        return self.xp - levels.xp_for_level(self.level)

    @property
    def xp_for_next_level(self) -> int:
        """XP still needed to reach the next level (0 at the level cap)."""
        nxt = levels.xp_for_level(self.level + 1) if self.level < levels.level_cap() else None
        return 0 if nxt is None else max(0, nxt - self.xp)


def default_handle(user_id: int) -> str:
    """The handle a member has until they choose one (the club specification's ``fan-<id>``)."""
    return f"fan-{user_id}"


def listed_q(prefix: str = "") -> Q:
    """The ``Member.listed`` condition, for members (``prefix`` "") or rows that point at one ("member__")."""
    return Q(**{f"{prefix}show_on_leaderboard": True, f"{prefix}banned": False})


class Activity(models.Model):
    """A scope for points: an event session, a booth, a campaign. Other systems name it by integer id."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    external_id = models.BigIntegerField(null=True, blank=True, unique=True)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "activities"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EarningRule(models.Model):
    """reason → points and XP, with caps counted in awards per member (a day is in TIME_ZONE)."""

    reason = models.SlugField(max_length=64, unique=True)
    description = models.CharField(max_length=200, blank=True, default="")
    points = models.PositiveIntegerField()
    xp = models.PositiveIntegerField()
    daily_cap = models.PositiveIntegerField(null=True, blank=True, help_text=_("Awards per member per day."))
    lifetime_cap = models.PositiveIntegerField(null=True, blank=True, help_text=_("Awards per member ever."))
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["reason"]

    def __str__(self) -> str:
        return self.reason


class LedgerEntry(models.Model):
    """One movement of points and/or XP. Append-only: a correction is a new compensating row."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="ledger_entries")
    points = models.BigIntegerField()
    xp = models.BigIntegerField(default=0)
    reason = models.CharField(max_length=64)
    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    meta = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    # sha256 of what was asked, so a replayed key with a different request is told apart (409).
    request_hash = models.CharField(max_length=64, blank=True, default="")
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name_plural = "ledger entries"
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="engagement_ledger_unique_key"),
            models.CheckConstraint(condition=Q(xp__gte=0), name="engagement_ledger_xp_only_grows"),
        ]
        indexes = [
            # Cap checks ("awards of this reason today") and per-reason counters.
            models.Index(fields=["member", "reason", "created"], name="engagement_ledger_cap_idx"),
            # Member history, newest first.
            models.Index(fields=["member", "-created", "-id"], name="engagement_ledger_history_idx"),
            # Activity-scoped and windowed leaderboards.
            models.Index(fields=["activity", "created"], name="engagement_ledger_activity_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.points:+d} ({self.reason})"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise RuntimeError("Ledger entries are append-only; write a compensating entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Ledger entries are append-only.")
