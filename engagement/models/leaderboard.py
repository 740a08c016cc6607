import datetime

from django.db import models

from .ledger import Member

# The "start" of the all-time period of an activity board.
EPOCH = datetime.date(1970, 1, 1)


class LeaderboardTotal(models.Model):
    """What a member earned in one board's scope, kept in the ledger's transaction (derived data:
    ``manage.py rebuild_leaderboards`` recomputes it from the ledger).

    ``scope`` is 0 for all activities or an activity id; ``period`` is a day, ISO week or month
    (``start`` is its first day in the project time zone), or ``all`` for an activity's lifetime.
    The global all-time board reads the member's cached balances instead.
    """

    class Period(models.TextChoices):
        ALL = "a", "all"
        DAY = "d", "day"
        WEEK = "w", "week"
        MONTH = "m", "month"
        SEASON = "s", "season"  # start = the season's first day (engagement.models.Season.starts)

    scope = models.BigIntegerField()
    period = models.CharField(max_length=1, choices=Period.choices)
    start = models.DateField()
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    points = models.BigIntegerField(default=0)
    xp = models.BigIntegerField(default=0)
    # A copy of the member's ``listed`` (not opted out, not banned): written with the row under the member's
    # lock and rewritten under it whenever the member's flags change (index.listing_changed), so that the
    # few hidden rows of a board are a partial index of their own (a rank subtracts the hidden above it).
    listed = models.BooleanField(default=True, db_default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "period", "start", "member"], name="engagement_lbtotal_unique"),
        ]
        indexes = [
            # Top-N and "how many are above me" of the points and xp (and level) boards, index-only.
            models.Index(fields=["scope", "period", "start", "-points", "member"], name="engagement_lbtotal_points"),
            models.Index(fields=["scope", "period", "start", "-xp", "member"], name="engagement_lbtotal_xp"),
            # A member's rows: reindexing one member, opt-out.
            models.Index(fields=["member", "period", "start"], name="engagement_lbtotal_member"),
            # "Hidden members above v" on a board as an index-only range (a rank subtracts them); ~1 % of rows.
            models.Index(fields=["scope", "period", "start", "points"], name="engagement_lbtotal_hidden_pts",
                         condition=models.Q(listed=False)),
            models.Index(fields=["scope", "period", "start", "xp"], name="engagement_lbtotal_hidden_xp",
                         condition=models.Q(listed=False)),
        ]

    def __str__(self) -> str:
        return f"{self.scope}/{self.period}/{self.start}: {self.member_id}"


class LeaderboardDirtyMember(models.Model):
    """Members whose Redis index entries could not be written (Redis was down); repaired by a task."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="+")
    since = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.member_id)


class LeaderboardBucket(models.Model):
    """A change in how many members of one board have a value in one bucket: the rows of a histogram
    per (board, base), appended in the ledger's transaction and summed on read (derived data, rebuilt by
    ``manage.py rebuild_leaderboards``; see ``engagement.leaderboards.histogram``).

    A board is (scope, period, start) as in LeaderboardTotal, with (0, "a", EPOCH) for the global
    all-time board of balances. ``base`` is "p" (points) or "x" (XP); ``bucket`` is the lowest value
    of the bucket; ``members`` is +n or -n. Rows are only inserted, never updated, so concurrent
    awards never wait on each other here; a periodic compaction folds them into one row per bucket.
    """

    scope = models.BigIntegerField()
    # No choices: any period kind of LeaderboardTotal (day, week, month, all, and later ones) has a histogram.
    period = models.CharField(max_length=1)
    start = models.DateField()
    base = models.CharField(max_length=1)
    bucket = models.BigIntegerField()
    members = models.IntegerField()

    class Meta:
        indexes = [
            # "Members in the buckets above v" is an index-only range sum over (board, base, bucket ≥ …).
            models.Index(fields=["scope", "period", "start", "base", "bucket", "members"],
                         name="engagement_lbbucket_board"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}/{self.period}/{self.start}/{self.base}: {self.bucket} {self.members:+d}"
