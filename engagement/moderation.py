"""Moderation: bans and unban requests.

A ban is a ``Ban`` row (the history) plus two columns on the member row (the ban in force), written
together under the member's row lock. The ledger refuses every award while a ban is in force
(engagement.services), rewards refuses redemptions and profiles refuses edits, all by reading those
columns. Leaderboards hide a member while ``Member.banned`` is set; a ban with an end date stops
refusing at that date and the beat sweep ``end_expired_bans`` then clears the flag.

Lock order: the member row (lock_member), then the member's Ban and UnbanRequest rows.
"""

from datetime import datetime

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.utils import timezone

from config.errors import DomainError
from engagement import tasks
from engagement.leaderboards.index import listing_changed
from engagement.models import Ban, Member, UnbanRequest
from engagement.services import lock_member

RequestStatus = UnbanRequest.Status
MAX_REASON = 500


class ModerationError(DomainError):
    """A ban, unban or unban request was refused (code names why)."""


def _log(actor, obj, message: str) -> None:
    # The audit trail admins already read (object history, recent actions); an actor-less change (the
    # expiry sweep) has no user to log under and is kept on the Ban row only.
    if getattr(actor, "pk", None):
        LogEntry.objects.log_actions(user_id=actor.pk, queryset=[obj], action_flag=CHANGE,
                                     change_message=message, single_object=True)


def open_ban(member_id: int) -> Ban | None:
    return Ban.objects.filter(member_id=member_id, ended_at__isnull=True).first()


def _close(ban: Ban, *, end: str, actor, at: datetime, note: str) -> None:
    Ban.objects.filter(pk=ban.pk).update(ended_at=at, ended_by=actor if getattr(actor, "pk", None) else None, end=end)
    # A request for a ban that is over has nothing left to decide; the member hears of the end itself.
    UnbanRequest.objects.filter(ban=ban, status=RequestStatus.PENDING).update(
        status=RequestStatus.APPROVED if end != Ban.End.REPLACED else RequestStatus.REJECTED,
        decided_at=at, note=note)


def _validate_ban(reason: str, until: datetime | None, at: datetime) -> str:
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise ModerationError(f"Say why, in 1 to {MAX_REASON} characters.", code="ban_reason_required")
    if until is not None and until <= at:
        raise ModerationError("The ban must end in the future.", code="ban_until_past")
    return reason


@transaction.atomic
def ban_member(*, member: Member, reason: str, actor, until: datetime | None = None,
               at: datetime | None = None) -> Ban:
    """Ban ``member`` until ``until`` (None: until lifted). Banning a banned member replaces the ban
    (an admin extends or shortens it this way). Logged, and emailed to the member after commit."""
    at = at or timezone.now()
    reason = _validate_ban(reason, until, at)
    lock_member(member.pk)
    if (current := open_ban(member.pk)) is not None:
        _close(current, end=Ban.End.REPLACED, actor=actor, at=at, note="Replaced by a newer ban.")
    ban = Ban.objects.create(member=member, reason=reason, until=until, created=at,
                             created_by=actor if getattr(actor, "pk", None) else None)
    Member.objects.filter(pk=member.pk).update(banned=True, banned_until=until)
    member.banned, member.banned_until = True, until
    listing_changed(member.pk)
    _log(actor, member, f"Banned {'until ' + until.isoformat() if until else 'until lifted'}: {reason}")
    tasks.send_moderation_email.delay_on_commit(event="banned", ban_id=ban.pk)
    return ban


def _end_ban(*, member: Member, end: str, actor, at: datetime, note: str = "") -> Ban:
    """End the member's open ban (the caller holds the member lock and its transaction)."""
    ban = open_ban(member.pk)
    if ban is None:
        raise ModerationError("This member is not banned.", code="not_banned", status_code=409)
    _close(ban, end=end, actor=actor, at=at, note=note or "The ban was lifted.")
    Member.objects.filter(pk=member.pk).update(banned=False, banned_until=None)
    member.banned, member.banned_until = False, None
    listing_changed(member.pk)
    return ban


@transaction.atomic
def unban_member(*, member: Member, actor, at: datetime | None = None) -> Ban:
    """Lift the member's ban now (409 ``not_banned`` if there is none). Logged and emailed."""
    at = at or timezone.now()
    lock_member(member.pk)
    ban = _end_ban(member=member, end=Ban.End.LIFTED, actor=actor, at=at)
    _log(actor, member, "Ban lifted.")
    tasks.send_moderation_email.delay_on_commit(event="unbanned", ban_id=ban.pk)
    return ban


def end_expired_bans(*, at: datetime | None = None) -> int:
    """End the bans whose end date has passed (beat, every minute); returns how many. Each in its own
    transaction, re-checked under the member lock: an admin may have replaced the ban meanwhile."""
    at = at or timezone.now()
    ended = 0
    for member_id in Ban.objects.filter(ended_at__isnull=True, until__lte=at).values_list("member_id", flat=True):
        with transaction.atomic():
            member = lock_member(member_id)
            ban = open_ban(member_id)
            if ban is None or ban.until is None or ban.until > at:
                continue
            _end_ban(member=member, end=Ban.End.EXPIRED, actor=None, at=at, note="The ban expired.")
            ended += 1
    return ended


# --- Unban requests -----------------------------------------------------------------------------------


@transaction.atomic
def request_unban(*, member: Member, message: str, at: datetime | None = None) -> UnbanRequest:
    """A banned member asks to be unbanned. 409 ``not_banned`` without a ban in force,
    409 ``unban_request_pending`` while an earlier request waits. Admins are emailed."""
    at = at or timezone.now()
    locked = lock_member(member.pk)
    ban = open_ban(member.pk)
    if ban is None or not locked.ban_in_force(at):
        raise ModerationError("Your account is not banned.", code="not_banned", status_code=409)
    if UnbanRequest.objects.filter(member=member, status=RequestStatus.PENDING).exists():
        raise ModerationError("Your earlier request is still waiting for a decision.",
                              code="unban_request_pending", status_code=409)
    request = UnbanRequest.objects.create(member=member, ban=ban, message=message.strip(), created=at)
    tasks.send_moderation_email.delay_on_commit(event="unban_requested", request_id=request.pk)
    return request


def _claim_request(*, request_id: int, target: str, actor, note: str, at: datetime) -> UnbanRequest:
    # One conditional UPDATE decides: of two admins deciding at once, exactly one matches "pending".
    changes = {"status": target, "decided_at": at, "decided_by": actor if getattr(actor, "pk", None) else None}
    if note:
        changes["note"] = note
    if not UnbanRequest.objects.filter(pk=request_id, status=RequestStatus.PENDING).update(**changes):
        current = UnbanRequest.objects.filter(pk=request_id).values_list("status", flat=True).first()
        if current is None:
            raise ModerationError("No such unban request.", code="not_found", status_code=404)
        raise ModerationError(f"This request was already {current}.", code="invalid_transition", status_code=409,
                              status=current)
    return UnbanRequest.objects.select_related("member", "ban").get(pk=request_id)


@transaction.atomic
def approve_unban_request(*, request_id: int, actor, note: str = "", at: datetime | None = None) -> UnbanRequest:
    """pending → approved, and the ban is lifted (if it is still open). Logged and emailed."""
    at = at or timezone.now()
    member_id = UnbanRequest.objects.filter(pk=request_id).values_list("member_id", flat=True).first()
    if member_id is None:
        raise ModerationError("No such unban request.", code="not_found", status_code=404)
    # The member first, as ban_member does (it closes pending requests under that lock): taking the
    # request row first could deadlock with an admin banning the same member at that moment.
    member = lock_member(member_id)
    request = _claim_request(request_id=request_id, target=RequestStatus.APPROVED, actor=actor, note=note, at=at)
    if open_ban(member.pk) is not None:
        _end_ban(member=member, end=Ban.End.APPEAL, actor=actor, at=at)
    _log(actor, request.member, f"Unban request #{request.pk} approved; ban lifted.")
    tasks.send_moderation_email.delay_on_commit(event="request_approved", request_id=request.pk)
    return request


@transaction.atomic
def reject_unban_request(*, request_id: int, actor, note: str = "", at: datetime | None = None) -> UnbanRequest:
    """pending → rejected; the ban stays. Logged and emailed."""
    request = _claim_request(request_id=request_id, target=RequestStatus.REJECTED, actor=actor, note=note,
                             at=at or timezone.now())
    _log(actor, request.member, f"Unban request #{request.pk} rejected; the ban stays.")
    tasks.send_moderation_email.delay_on_commit(event="request_rejected", request_id=request.pk)
    return request
