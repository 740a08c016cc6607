"""Seasons (named periods with their own leaderboards), their frozen final standings, and teams.

A season's live boards are LeaderboardTotal rows of period ``s`` whose ``start`` is the season's first
day; ``starts`` is therefore unique: two seasons that start on the same day would share their rows.
Seasons may otherwise overlap (an entry then counts on both).
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .ledger import Member


class Season(models.Model):
    class State(models.TextChoices):
        UPCOMING = "upcoming", _("upcoming")
        ACTIVE = "active", _("active")
        ENDED = "ended", _("ended")
        FROZEN = "frozen", _("frozen")

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    # Both days are included and read in the project time zone (TIME_ZONE), like the windows' days.
    starts = models.DateField(_("first day"), unique=True,
                              help_text=_("Seasons that start on the same day would share their board."))
    ends = models.DateField(_("last day"))
    prizes = models.JSONField(
        _("prizes"), default=list, blank=True,
        help_text=_('Top-N prizes paid when the season is frozen, e.g. [{"rank_to": 1, "points": 500, "xp": 100}, '
                    '{"rank_to": 10, "points": 100, "xp": 0}]: the first tier whose rank_to is at least the rank.'),
    )
    frozen_at = models.DateTimeField(_("frozen at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-starts"]
        verbose_name = _("season")
        verbose_name_plural = _("seasons")
        constraints = [
            models.CheckConstraint(condition=Q(ends__gte=F("starts")), name="engagement_season_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.name

    def state_on(self, day) -> str:
        if self.frozen_at is not None:
            return self.State.FROZEN
        if day < self.starts:
            return self.State.UPCOMING
        return self.State.ACTIVE if day <= self.ends else self.State.ENDED

    def prize_for(self, rank: int) -> tuple[int, int]:
        """(points, xp) of the first prize tier covering ``rank``; (0, 0) without one."""
        for tier in sorted(self.prizes or [], key=lambda t: t["rank_to"]):
            if rank <= tier["rank_to"]:
                return int(tier.get("points", 0)), int(tier.get("xp", 0))
        return 0, 0

    def clean(self) -> None:
        if self.starts and self.ends and self.ends < self.starts:
            raise ValidationError({"ends": _("The last day cannot be before the first day.")})
        if not isinstance(self.prizes, list) or not all(_valid_tier(t) for t in self.prizes):
            raise ValidationError({"prizes": _("Prizes must be a list of {rank_to, points, xp} with whole "
                                               "numbers, rank_to at least 1 and amounts not negative.")})


def _valid_tier(tier) -> bool:
    if not isinstance(tier, dict) or set(tier) - {"rank_to", "points", "xp"} or "rank_to" not in tier:
        return False
    values = [tier["rank_to"], tier.get("points", 0), tier.get("xp", 0)]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return False
    return values[0] >= 1 and values[1] >= 0 and values[2] >= 0


class SeasonStanding(models.Model):
    """A frozen season's final points standings (everything scope), written once by its close."""

    season = models.ForeignKey(Season, on_delete=models.CASCADE, related_name="standings")
    rank = models.PositiveIntegerField(_("rank"))
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    points = models.BigIntegerField(_("points"))
    xp = models.BigIntegerField(_("XP"))
    prize_points = models.BigIntegerField(_("prize points"), default=0)
    prize_xp = models.BigIntegerField(_("prize XP"), default=0)

    class Meta:
        verbose_name = _("season standing")
        verbose_name_plural = _("season standings")
        constraints = [
            # A second close of the same season cannot write a second set of standings.
            models.UniqueConstraint(fields=["season", "member"], name="engagement_standing_unique"),
        ]
        indexes = [
            # The frozen board: top-N in rank order and "how many are above me".
            models.Index(fields=["season", "-points", "member"], name="engagement_standing_points"),
        ]

    def __str__(self) -> str:
        return f"{self.season_id} #{self.rank}: {self.member_id}"


class Team(models.Model):
    """A team of one season, created by admins; members join it (with its code when it has one)."""

    season = models.ForeignKey(Season, on_delete=models.CASCADE, related_name="teams")
    slug = models.SlugField(_("slug"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    join_code = models.CharField(_("join code"), max_length=64, blank=True, default="",
                                 help_text=_("Leave empty to let anybody join."))
    # Written by the season's close: the frozen team board.
    final_rank = models.PositiveIntegerField(_("final rank"), null=True, blank=True, editable=False)
    final_points = models.BigIntegerField(_("final points"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["season", "name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [
            models.UniqueConstraint(fields=["season", "slug"], name="engagement_team_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    # ``season`` repeats the team's season so that the database can hold "one team per member per season".
    season = models.ForeignKey(Season, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="team_memberships")
    joined = models.DateTimeField(_("joined"), auto_now_add=True)

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        constraints = [
            models.UniqueConstraint(fields=["season", "member"], name="engagement_one_team_per_season"),
        ]
        indexes = [
            # The team board: one GROUP BY over a season's memberships joined to its totals.
            models.Index(fields=["season", "team", "member"], name="engagement_teammember_board"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} in {self.team_id}"

    def clean(self) -> None:
        if self.team_id and self.season_id and self.team.season_id != self.season_id:
            raise ValidationError({"team": _("The team belongs to another season.")})
