"""Referral rewards: each member's invite code, recording who joined with whose code, and crediting
both sides once, when the invitee's first earning action lands (docs/referrals.md).

"First earning action" is the invitee's first ledger entry that earns XP: XP only ever grows and only
earning gives it (spends, refunds and admin adjustments move points only), so an entry whose XP equals
the member's whole XP right after it is the first. That test costs no query, so every other entry of
every member pays nothing for referrals.

Locking: ``attach_referral`` locks the invitee's member row, the lock every award of theirs takes, so
a referral and the first earning action cannot pass each other. Qualifying happens inside that award's
transaction (``on_entry_posted``) by a conditional UPDATE (pending → qualified); the credit runs from
the outbox after commit: it locks both members in primary-key order, then claims the referral with a
second conditional UPDATE (qualified → credited) and writes two ordinary awards with idempotency keys
derived from the referral. Lock order on every path: member rows, then the referral row.
"""

import re
import secrets
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from config import outbox
from engagement import services
from engagement.errors import CapReached, ReferralError
from engagement.models import LedgerEntry, Member, Referral, ReferralCode

REASON = "referral"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes are read aloud and typed
CODE_LENGTH = 8
_CODE = re.compile(r"^[A-Z0-9]{4,16}$")
Status = Referral.Status


def inviter_points() -> int:
    return getattr(settings, "ENGAGEMENT_REFERRAL_INVITER_POINTS", 50)


def invitee_points() -> int:
    return getattr(settings, "ENGAGEMENT_REFERRAL_INVITEE_POINTS", 25)


# --- Codes --------------------------------------------------------------------------------------------


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_for(*, member: Member) -> ReferralCode:
    """The member's invite code, made on first use. 32**8 codes: a collision is retried, not feared."""
    if (found := ReferralCode.objects.filter(member=member).first()) is not None:
        return found
    for _ in range(5):
        try:
            with transaction.atomic():
                return ReferralCode.objects.create(member=member, code=_new_code())
        except IntegrityError:
            # Either another request made this member's code first, or the code was taken.
            if (found := ReferralCode.objects.filter(member=member).first()) is not None:
                return found
    raise ReferralError("No invite code could be made; try again.", code="referral_code_busy", status_code=503)


def normalise_code(raw) -> str:
    code = raw.strip().upper() if isinstance(raw, str) else ""
    if not _CODE.match(code):
        raise ReferralError("That is not an invite code.", code="referral_code_invalid", status_code=400)
    return code


# --- Joining with a code ------------------------------------------------------------------------------


@transaction.atomic
def attach_referral(*, member: Member, code: str, at: datetime | None = None) -> Referral:
    """Record that ``member`` joined with ``code``. Allowed only before the member's first earning action
    and once per member; the same code again is answered with the existing referral (``replayed``).

    ReferralError codes: ``referral_code_invalid`` (400), ``referral_code_unknown`` (404),
    ``referral_self``, ``referral_circular``, ``referral_already_recorded``, ``referral_too_late`` (409);
    MemberBanned (403) for a banned invitee.
    """
    at = at or timezone.now()
    owner = ReferralCode.objects.filter(code=normalise_code(code)).first()
    if owner is None:
        raise ReferralError("No member has this invite code.", code="referral_code_unknown", status_code=404)
    if owner.member_id == member.pk:
        raise ReferralError("You cannot use your own invite code.", code="referral_self")
    locked = services.lock_member(member.pk)
    services.refuse_if_banned(locked, at=at)
    if (existing := Referral.objects.filter(invitee=locked).first()) is not None:
        if existing.inviter_id != owner.member_id:
            raise ReferralError("You already joined with another invite.", code="referral_already_recorded")
        existing.replayed = True
        return existing
    if locked.xp > 0:
        raise ReferralError("An invite counts only before your first points.", code="referral_too_late")
    if Referral.objects.filter(inviter=locked, invitee_id=owner.member_id).exists():
        # Two members naming each other would each be paid twice over; the first invite stands.
        raise ReferralError("You invited this member yourself.", code="referral_circular")
    referral = Referral.objects.create(inviter_id=owner.member_id, invitee=locked, code=owner.code, created=at)
    referral.replayed = False
    return referral


# --- Qualifying (inside the first earning action's transaction) ----------------------------------------


def is_first_earning(entry: LedgerEntry, member: Member) -> bool:
    """The member's first XP-earning entry (``member`` carries the balances right after it), never a
    referral credit itself, so crediting can never trigger crediting."""
    return entry.xp > 0 and member.xp == entry.xp and entry.reason != REASON


def on_entry_posted(sender, entry: LedgerEntry, member: Member, **kwargs) -> None:
    """Receiver of ``ledger_entry_posted``: on a member's first earning entry, qualify their referral."""
    if is_first_earning(entry, member):
        qualify(member_id=member.pk, entry=entry)


def _claim_pending(*, member_id: int, entry: LedgerEntry) -> int:
    # The row count decides: of two first actions that both believed they were first (only possible
    # for a writer that skipped the member lock), one moves the referral and the other matches nothing.
    return Referral.objects.filter(invitee_id=member_id, status=Status.PENDING).update(
        status=Status.QUALIFIED, qualified_at=entry.created, trigger_entry=entry)


def qualify(*, member_id: int, entry: LedgerEntry) -> None:
    if _claim_pending(member_id=member_id, entry=entry):
        from engagement.tasks import credit_referral

        referral_id = Referral.objects.filter(invitee_id=member_id).values_list("pk", flat=True).get()
        outbox.enqueue(credit_referral, referral_id=referral_id)


# --- Crediting (from the outbox, after the first action committed) ------------------------------------


def _claim_qualified(*, referral_id: int, at: datetime) -> bool:
    return Referral.objects.filter(pk=referral_id, status=Status.QUALIFIED).update(
        status=Status.CREDITED, credited_at=at) == 1


def _credit_key(referral_id: int, role: str) -> str | None:
    return f"referral:{referral_id}:{role}"


def _pay(*, member: Member, points: int, referral_id: int, role: str, other: Member, at: datetime):
    if points <= 0:
        return None
    try:
        with transaction.atomic():
            return services.award(
                member=member, reason=REASON, points=points, xp=0, at=at,
                meta={"referral_id": referral_id, "role": role, "other": other.display_name},
                idempotency_key=_credit_key(referral_id, role),
            )
    except CapReached:
        # An admin capped referral income with an earning rule for "referral": that side gets nothing.
        return None


@transaction.atomic
def credit_referral(*, referral_id: int, at: datetime | None = None) -> Referral | None:
    """Pay both sides of a qualified referral once. A banned inviter or invitee (at this moment) means
    nobody is paid and the referral is ``refused`` for good. Safe to run twice: the second run finds
    the referral no longer ``qualified`` and does nothing (and the keys would refuse a second entry)."""
    at = at or timezone.now()
    pair = Referral.objects.filter(pk=referral_id).values_list("inviter_id", "invitee_id").first()
    if pair is None:
        return None
    locked = {member_id: services.lock_member(member_id) for member_id in sorted(pair)}
    inviter, invitee = locked[pair[0]], locked[pair[1]]
    refusal = ("inviter_banned" if inviter.ban_in_force(at) else "invitee_banned" if invitee.ban_in_force(at)
               else "")
    if refusal:
        if not Referral.objects.filter(pk=referral_id, status=Status.QUALIFIED).update(status=Status.REFUSED,
                                                                                     refusal=refusal):
            return None  # already credited or refused
        return Referral.objects.get(pk=referral_id)
    if not _claim_qualified(referral_id=referral_id, at=at):
        return None  # already credited or refused
    inviter_entry = _pay(member=inviter, points=inviter_points(), referral_id=referral_id, role="inviter",
                         other=invitee, at=at)
    invitee_entry = _pay(member=invitee, points=invitee_points(), referral_id=referral_id, role="invitee",
                         other=inviter, at=at)
    Referral.objects.filter(pk=referral_id).update(inviter_entry=inviter_entry, invitee_entry=invitee_entry)
    return Referral.objects.get(pk=referral_id)


# --- Reads --------------------------------------------------------------------------------------------


def invitation_counts(*, member: Member) -> dict[str, int]:
    """How many members joined with this member's code, and how many of them have been credited."""
    rows = dict(Referral.objects.filter(inviter=member).values("status").annotate(n=Count("id"))
                .values_list("status", "n"))
    return {"invited": sum(rows.values()), "credited": rows.get(Status.CREDITED, 0)}


def referred_by(*, member: Member) -> Member | None:
    referral = Referral.objects.filter(invitee=member).select_related("inviter").first()
    return referral.inviter if referral else None


def invite_link(code: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/join/{code}/"
