"""The SQL source of the leaderboards: Member balances (global all-time) and LeaderboardTotal rows.

Every query is an index range: top-N walks (scope, period, start, -value, member) in order, and a rank
sums the rank histogram's buckets above the value plus a narrow count inside its bucket (histogram.py).
Opted-out and banned members are few, so a rank counts everybody above and subtracts the hidden members
above instead of joining every counted row to its member: an index-only range of a partial index on the
hidden rows, the member's on the global board and the totals' own (``LeaderboardTotal.listed``, a copy of
the member's flags) on the others.
"""

from django.db import connection
from django.db.models import QuerySet

from engagement.leaderboards import histogram
from engagement.leaderboards.rows import RowMember, display_columns, row_member
from engagement.models import LeaderboardTotal, Member
from engagement.models.ledger import listed_q


class SqlSource:
    def __init__(self, *, scope: int, period: str, start, base: str):
        self.base = base
        self.other = "xp" if base == "points" else "points"
        self.is_global = scope == 0 and period == LeaderboardTotal.Period.ALL
        self.board = {} if self.is_global else {"scope": scope, "period": period, "start": start}
        self.histogram_board = histogram.GLOBAL if self.is_global else (scope, period, start)

    def _rows(self) -> QuerySet:
        if self.is_global:
            return Member.objects.all()
        return LeaderboardTotal.objects.filter(**self.board)

    def _hidden(self) -> QuerySet:
        """The board's hidden rows: a partial index of their own on the member table and on the totals."""
        if self.is_global:
            return Member.objects.exclude(listed_q())
        return self._rows().filter(listed=False)

    def _hidden_by_member(self) -> QuerySet:
        """The same rows found through the members' flags (a join; the way before the totals' copy)."""
        if self.is_global:
            return Member.objects.exclude(listed_q())
        return self._rows().exclude(listed_q("member__"))

    def _ranked(self, *columns: str) -> QuerySet:
        id_field = "id" if self.is_global else "member_id"
        visible = listed_q() if self.is_global else listed_q("member__")
        return (
            self._rows().filter(visible, **{f"{self.base}__gt": 0})
            .order_by(f"-{self.base}", id_field)
            .values_list(self.base, self.other, *columns)
        )

    def top(self, limit: int) -> list[tuple[int, int, int]]:
        """[(member_id, value, other value)] of the best ``limit`` members, best first."""
        id_field = "id" if self.is_global else "member_id"
        return [(m, base, other) for base, other, m in self._ranked(id_field)[:limit]]

    def rows(self, limit: int) -> list[tuple[int, int, RowMember, tuple[int, int] | None]]:
        """[(value, other value, member, balances)] of the best ``limit``: the top-N index range joined
        to the member's display columns in the same query, no model instances."""
        columns = display_columns("" if self.is_global else "member__")
        out = []
        for base, other, *display in self._ranked(*columns)[:limit]:
            # On the global board the values are the member's balances (points first).
            balances = ((base, other) if self.base == "points" else (other, base)) if self.is_global else None
            out.append((base, other, row_member(display), balances))
        return out

    def member_values(self, member_id: int) -> tuple[int, int] | None:
        id_field = "id" if self.is_global else "member_id"
        row = self._rows().filter(**{id_field: member_id}).values_list(self.base, self.other).first()
        return row if row is not None and row[0] > 0 else None

    def count_above(self, value: int) -> int:
        """Members listed on the board with a value above ``value``, in one round trip: the rank
        histogram's buckets above value's bucket, plus an index-only count inside that bucket, minus
        the few hidden members above (see histogram.py for why that is exact). A day board has no
        histogram (histogram.WITHOUT): its index above ``value`` is counted, minus the hidden rows."""
        if not histogram.kept(self.histogram_board[1]):
            return self._count_above(value, self._hidden())
        buckets = histogram.above_sql(self.histogram_board, self.base, value)
        end = histogram.bucket_end(value)
        column = "id" if self.is_global else "member_id"
        inside = (self._rows().filter(**{f"{self.base}__gt": value, f"{self.base}__lt": end}).order_by()
                  .values(column).query.sql_with_params())
        hidden = self._hidden().filter(**{f"{self.base}__gt": value}).order_by().values(column).query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT ({buckets[0]}) + (SELECT COUNT(*) FROM ({inside[0]}) i) "
                           f"- (SELECT COUNT(*) FROM ({hidden[0]}) h)", [*buckets[1], *inside[1], *hidden[1]])
            return cursor.fetchone()[0]

    def count_at_least(self, value: int) -> int:
        return self.count_above(value - 1)

    def count_above_by_index(self, value: int) -> int:
        """The same answer by counting the board's index above ``value`` and joining the hidden rows to
        their members (the way before the histogram and the totals' ``listed``; kept for tests and the
        benchmark's comparison, which it checks independently of both)."""
        return self._count_above(value, self._hidden_by_member())

    def _count_above(self, value: int, hidden: QuerySet) -> int:
        """The board's index above ``value``, counted (index-only), minus the ``hidden`` rows above it."""
        condition = {f"{self.base}__gt": value}
        column = "id" if self.is_global else "member_id"
        everybody = self._rows().filter(**condition).order_by().values(column).query.sql_with_params()
        hidden = hidden.filter(**condition).order_by().values(column).query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT (SELECT COUNT(*) FROM ({everybody[0]}) a) - (SELECT COUNT(*) FROM ({hidden[0]}) h)",
                           [*everybody[1], *hidden[1]])
            return cursor.fetchone()[0]
