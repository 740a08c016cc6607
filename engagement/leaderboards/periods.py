"""Calendar periods of windowed boards, in the project time zone (the same days as earning caps)."""

import datetime as dt

from django.utils import timezone

from engagement.models.leaderboard import EPOCH, LeaderboardTotal

WINDOWS = ("all", "day", "week", "month")
PERIOD_OF_WINDOW = {"day": LeaderboardTotal.Period.DAY, "week": LeaderboardTotal.Period.WEEK,
                    "month": LeaderboardTotal.Period.MONTH}


def local_day(at: dt.datetime) -> dt.date:
    return timezone.localtime(at, timezone.get_current_timezone()).date()


def period_start(period: str, day: dt.date) -> dt.date:
    """First day of the day / ISO week (Monday) / month containing ``day``; EPOCH for all-time."""
    if period == LeaderboardTotal.Period.DAY:
        return day
    if period == LeaderboardTotal.Period.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if period == LeaderboardTotal.Period.MONTH:
        return day.replace(day=1)
    return EPOCH


def period_end(period: str, start: dt.date) -> dt.date:
    """First day after the period that starts on ``start`` (windows only)."""
    if period == LeaderboardTotal.Period.DAY:
        return start + dt.timedelta(days=1)
    if period == LeaderboardTotal.Period.WEEK:
        return start + dt.timedelta(days=7)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def aware_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def window_start(window: str, at: dt.datetime | None = None) -> dt.datetime | None:
    """Start of the calendar day, ISO week or month containing ``at``, in the project time zone."""
    if window == "all":
        return None
    return aware_midnight(period_start(PERIOD_OF_WINDOW[window], local_day(at or timezone.now())))


def entry_periods(*, created: dt.datetime, activity_id: int | None) -> list[tuple[int, str, dt.date]]:
    """The (scope, period, start) boards that one ledger entry counts towards (besides global all-time)."""
    day = local_day(created)
    windows = [(p, period_start(p, day)) for p in PERIOD_OF_WINDOW.values()]
    boards = [(0, period, start) for period, start in windows]
    if activity_id is not None:
        boards += [(activity_id, LeaderboardTotal.Period.ALL, EPOCH)]
        boards += [(activity_id, period, start) for period, start in windows]
    return boards
