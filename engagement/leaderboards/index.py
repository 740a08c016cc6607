"""Keeping the derived leaderboard data current: SQL totals in the ledger transaction, the Redis index
after commit, and the services that repair or rebuild both from the ledger."""

import logging
from collections import defaultdict
from collections.abc import Callable
from functools import partial

from django.db import DatabaseError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from engagement.leaderboards import histogram, redis_index, seasons, totals
from engagement.leaderboards.periods import PERIOD_OF_WINDOW, entry_periods, local_day, period_start
from engagement.models import LeaderboardDirtyMember, LeaderboardTotal, LedgerEntry, Member, Season
from engagement.models.ledger import listed_q

log = logging.getLogger(__name__)
BATCH = 5000


def on_entry_posted(sender, entry: LedgerEntry, member: Member, **kwargs) -> None:
    """Receiver of ``ledger_entry_posted`` (inside the entry's transaction, under the member lock)."""
    counted = totals.counts_on_boards(entry.reason)
    balances, delta = (member.points, member.xp), (entry.points, entry.xp)
    if counted and histogram.folds_into_upsert():
        # One statement: the totals upsert appends the rank histogram rows from its own RETURNING.
        totals.add_entry(member_id=member.pk, activity_id=entry.activity_id, points=entry.points, xp=entry.xp,
                         created=entry.created, listed=member.listed, balances=balances)
    else:
        changed = []
        if counted:
            changed = totals.add_entry(member_id=member.pk, activity_id=entry.activity_id, points=entry.points,
                                       xp=entry.xp, created=entry.created, listed=member.listed)
        histogram.record(histogram.entry_moves(balances=balances, delta=delta, totals=changed))
    if redis_index.enabled():
        boards = entry_periods(created=entry.created, activity_id=entry.activity_id) if counted else []
        transaction.on_commit(partial(
            _index_entry, member_id=member.pk, entry_id=entry.pk, balances=(member.points, member.xp),
            visible=member.listed, boards=boards, delta=(entry.points, entry.xp),
        ))


def _index_entry(*, member_id: int, **kwargs) -> None:
    try:
        redis_index.apply_entry(member_id=member_id, **kwargs)
    except redis_index.redis.RedisError as exc:
        # The entry is committed; only the derived index missed it. Remember the member so that
        # repair_index() rewrites their entries from SQL once Redis answers again.
        log.error("Leaderboard index missed member %s: %s", member_id, exc)
        _mark_dirty(member_id)


def _mark_dirty(member_id: int) -> None:
    try:
        LeaderboardDirtyMember.objects.get_or_create(member_id=member_id)
    except DatabaseError:
        log.exception("Could not remember member %s for a leaderboard repair", member_id)


def current_boards(at=None) -> Q:
    """The LeaderboardTotal rows the Redis index holds: activities' lifetimes and current windows."""
    day = local_day(at or timezone.now())
    condition = Q(period=LeaderboardTotal.Period.ALL)
    for period in PERIOD_OF_WINDOW.values():
        condition |= Q(period=period, start=period_start(period, day))
    return condition


def reindex_member(member_id: int) -> None:
    """Rewrite one member's index entries from SQL (after an opt-in/out, or to repair a missed write).

    We hold the member's row lock while writing so that no award for this member commits in between
    (its own after-commit increment then lands on top of our absolute values, as it should).
    """
    if not redis_index.enabled():
        return
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member_id)
        version = LedgerEntry.objects.filter(member_id=member_id).aggregate(v=Max("id"))["v"] or 0
        rows = list(LeaderboardTotal.objects.filter(current_boards(), member_id=member_id))
        redis_index.set_member(member_id=member_id, version=version, balances=(member.points, member.xp),
                               visible=member.listed, totals=rows)


@transaction.atomic
def set_visibility(*, member: Member, visible: bool) -> Member:
    """Show or hide a member on every leaderboard (the profile's ``show_on_leaderboard``)."""
    # The UPDATE takes the member's row lock (the one every award takes) before the totals are marked.
    Member.objects.filter(pk=member.pk).update(show_on_leaderboard=visible)
    member.show_on_leaderboard = visible
    listing_changed(member.pk)
    return member


def listing_changed(member_id: int) -> None:
    """After a change of who is listed (visibility, a ban), in the same transaction and under the member's
    row lock (the caller has locked or UPDATEd the member row first): copy the member's ``listed`` onto
    their board totals now, and rewrite their Redis entries on commit.

    Exact under concurrent awards: an award writes its totals under the same lock, copying ``listed``
    from the row it locked, so it runs wholly before this (its rows are then re-marked here: this UPDATE's
    snapshot is taken after the lock was granted) or wholly after (it reads the new flags)."""
    totals.sync_listed(member_id=member_id)
    reindex_on_commit(member_id)


def reindex_on_commit(member_id: int) -> None:
    """After a change of who is listed (visibility, a ban): rewrite the member's Redis entries on commit."""
    if redis_index.enabled():
        transaction.on_commit(partial(_reindex_or_mark, member_id))


def _reindex_or_mark(member_id: int) -> None:
    try:
        reindex_member(member_id)
    except redis_index.redis.RedisError as exc:
        log.error("Leaderboard index could not reindex member %s: %s", member_id, exc)
        _mark_dirty(member_id)


def repair_index() -> int:
    """Reindex the members whose index writes failed; returns how many were repaired."""
    repaired = 0
    for dirty in LeaderboardDirtyMember.objects.order_by("since")[:1000]:
        reindex_member(dirty.member_id)  # a RedisError propagates: the task retries later
        LeaderboardDirtyMember.objects.filter(pk=dirty.pk, since=dirty.since).delete()
        repaired += 1
    return repaired


# --- Full rebuild ------------------------------------------------------------------------------------


def _batches(queryset, fields: tuple[str, ...]):
    """Keyset pagination by primary key: constant cost per batch however large the table."""
    last = 0
    while rows := list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", *fields)[:BATCH]):
        last = rows[-1][0]
        yield rows


def _load_balances(pipe, version: int, tick: Callable[[int], None]) -> None:
    visible = Member.objects.filter(listed_q()).filter(Q(points__gt=0) | Q(xp__gt=0))
    for rows in _batches(visible, ("points", "xp")):
        for base, i in (("points", 1), ("xp", 2)):
            mapping = {redis_index.member_key(r[0]): -r[i] for r in rows if r[i] > 0}
            if mapping:
                pipe.zadd(redis_index.board_key(0, "a", None, base), mapping)
        pipe.hset(redis_index.version_key(), mapping={redis_index.member_key(r[0]): version for r in rows})
        pipe.execute()
        tick(len(rows))


def _load_totals(pipe, tick: Callable[[int], None]) -> None:
    rows_qs = LeaderboardTotal.objects.filter(current_boards(), listed_q("member__"))
    for rows in _batches(rows_qs, ("scope", "period", "start", "member_id", "points", "xp")):
        by_key, expiry = defaultdict(dict), {}
        for _, scope, period, start, member_id, points, xp in rows:
            for base, value in (("points", points), ("xp", xp)):
                key = redis_index.board_key(scope, period, start, base)
                by_key[key][redis_index.member_key(member_id)] = -value
                expiry[key] = redis_index.expires_at(period, start)
        for key, mapping in by_key.items():
            pipe.zadd(key, mapping)
            if expiry[key] is not None:
                pipe.expireat(key, expiry[key])
        pipe.execute()
        tick(len(rows))


def index_size() -> int:
    """Rows a rebuild of the Redis index reads (for a progress bar)."""
    members = Member.objects.filter(listed_q()).filter(Q(points__gt=0) | Q(xp__gt=0)).count()
    return members + LeaderboardTotal.objects.filter(current_boards()).count()


def rebuild_index(*, tick: Callable[[int], None] = lambda n: None) -> int:
    """Rebuild the Redis index from SQL; returns the members reindexed for writes made meanwhile.

    Readers use SQL until it is done (no ready key). Entries committed while we copy may be
    overwritten by older values, so afterwards we reindex every member who got one.
    """
    client = redis_index.client()
    client.delete(redis_index.ready_key())
    for key in client.scan_iter(match=f"{redis_index.prefix()}:*", count=1000):
        client.unlink(key)
    version = LedgerEntry.objects.aggregate(v=Max("id"))["v"] or 0
    pipe = client.pipeline(transaction=False)
    _load_balances(pipe, version, tick)
    _load_totals(pipe, tick)
    late = LedgerEntry.objects.filter(id__gt=version).values_list("member_id", flat=True).distinct()
    late = list(late)
    for member_id in late:
        reindex_member(member_id)
    client.set(redis_index.ready_key(), timezone.now().isoformat())
    return len(late)


def rebuild_totals() -> int:
    """Recompute the SQL totals, then the rank histograms from them, in one transaction; returns the
    total rows written."""
    with transaction.atomic():
        written = totals.rebuild_totals()
        for starts, ends in Season.objects.values_list("starts", "ends"):
            written += rebuild_season_totals(starts=starts, ends=ends)
        totals.sync_listed()  # inserted listed: unmark the few hidden members' rows
        histogram.rebuild()
        return written


def rebuild_season_totals(*, starts, ends) -> int:
    """Recompute one season's rows from the day rows, and their rank histograms, in the caller's
    transaction; returns rows written."""
    LeaderboardTotal.objects.filter(period=LeaderboardTotal.Period.SEASON, start=starts).delete()
    written = totals.insert_select(seasons.season_rows(starts=starts, ends=ends))
    LeaderboardTotal.objects.filter(period=LeaderboardTotal.Period.SEASON, start=starts, listed=True,
                                    member__in=Member.objects.exclude(listed_q())).update(listed=False)
    histogram.rebuild_boards(period=LeaderboardTotal.Period.SEASON, start=starts)
    return written
