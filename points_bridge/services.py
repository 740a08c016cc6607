"""Bridge writes: QR claims, staff awards, claim-template rotation and deletion, members' personal codes.

Every point goes through engagement.services.award, so earning-rule caps and idempotency keys apply
to claims exactly as to everything else.
"""

from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from config import sql
from config.errors import DomainError
from engagement import services
from engagement.errors import CapReached, SelfAwardForbidden
from engagement.models import Member
from points_bridge import tokens
from points_bridge.errors import ClaimError, MemberCodeError
from points_bridge.models import Claim, ClaimTemplate, MemberCode

CLAIM_REASON = "claim"
STAFF_AWARD_REASON = "staff_award"
MAX_STAFF_POINTS = 100_000


# --- claim templates --------------------------------------------------------------------------------


def issue_claim_token(*, template: ClaimTemplate, at: datetime | None = None) -> str:
    """A code for the template's current version; it expires if the template sets a token lifetime."""
    expires_at = (at or timezone.now()) + template.token_lifetime if template.token_lifetime else None
    return tokens.claim_token(template_id=template.pk, version=template.version, expires_at=expires_at)


def _change_templates(templates: QuerySet[ClaimTemplate], on_changed, **changes) -> int:
    """Apply ``changes`` to the templates of ``templates`` that are not deleted, and hand exactly those
    (as changed) to ``on_changed`` in the same transaction: the admin logs them there, so its
    LogEntries commit with the change or not at all."""
    ids = list(templates.values_list("pk", flat=True))
    # Locked in pk order, so the rows read here are exactly the rows changed (and logged): a template
    # soft-deleted meanwhile is re-checked after its lock and left out.
    changed = list(ClaimTemplate.objects.select_for_update().filter(pk__in=ids, deleted_at__isnull=True)
                   .order_by("pk").values_list("pk", flat=True))
    if changed:
        ClaimTemplate.objects.filter(pk__in=changed).update(**changes)
        if on_changed is not None:
            on_changed(list(ClaimTemplate.objects.filter(pk__in=changed).order_by("pk")))
    return len(changed)


@transaction.atomic
def rotate_templates(
    *, templates: QuerySet[ClaimTemplate], on_changed: Callable[[list[ClaimTemplate]], object] | None = None
) -> int:
    """Bump the version: every code issued before stops working (claim_rotated). Deleted templates are
    skipped. ``on_changed(rotated)`` runs inside the transaction with the templates it rotated."""
    return _change_templates(templates, on_changed, version=F("version") + 1)


@transaction.atomic
def soft_delete_templates(
    *, templates: QuerySet[ClaimTemplate], at: datetime | None = None,
    on_changed: Callable[[list[ClaimTemplate]], object] | None = None,
) -> int:
    """Hide templates and refuse their codes (claim_deleted); their claims and ledger entries stay.
    Already deleted ones are skipped; ``on_changed(deleted)`` runs inside the transaction with the rest."""
    return _change_templates(templates, on_changed, deleted_at=at or timezone.now(), enabled=False)


def _lock_template(template_id: int) -> ClaimTemplate:
    # The row lock is what makes limits exact: concurrent claims of one template queue here, and each
    # counts the claims only after every earlier claim has committed. Taken before award() locks the
    # member, always in that order, so claims never deadlock with each other.
    template = sql.locked_row(ClaimTemplate, "r.id = %s", [template_id])  # a prepared statement on PostgreSQL
    if template is None:
        raise ClaimError("This is not a valid claim code.", code="claim_invalid", status_code=400)
    return template


def _check_template(template: ClaimTemplate, *, version: int, at: datetime) -> None:
    if template.deleted_at is not None:
        raise ClaimError("This claim code was withdrawn.", code="claim_deleted", status_code=410)
    if version != template.version:
        raise ClaimError("This claim code was replaced by a newer one.", code="claim_rotated", status_code=410)
    if not template.enabled:
        raise ClaimError("This claim code is switched off.", code="claim_disabled")
    if template.valid_from and at < template.valid_from:
        raise ClaimError("This claim code is not valid yet.", code="claim_not_started")
    if template.valid_until and at >= template.valid_until:
        raise ClaimError("This claim code is no longer valid.", code="claim_ended", status_code=410)


def _amount(template: ClaimTemplate, *, points: int | None, via: str) -> int:
    if not template.is_manual:
        return template.points
    if via == Claim.Via.SELF:
        raise ClaimError("Staff award the points for this code.", code="claim_needs_staff", status_code=403)
    ceiling = template.points or MAX_STAFF_POINTS
    if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= ceiling:
        raise ClaimError(f"Type an amount from 1 to {ceiling}.", code="claim_points_invalid", status_code=400)
    return points


def claims_counted(*, template: ClaimTemplate, member: Member) -> int:
    qs = Claim.objects.filter(template=template)
    if template.limit_mode == ClaimTemplate.LimitMode.PER_MEMBER:
        qs = qs.filter(member=member)
    return qs.count()


def _claim(
    *, member: Member, template_id: int, version: int | None, via: str, actor, points: int | None,
    idempotency_key: str | None, at: datetime,
) -> Claim:
    # No lookup of the key up front (most claims are first requests): a retry of a claim that succeeded
    # is answered by award()'s key below, or, when the template now refuses it (a claim limit its first
    # request used up, a code since rotated), by the lookup on the way out.
    try:
        return _claim_once(member=member, template_id=template_id, version=version, via=via, actor=actor,
                           points=points, idempotency_key=idempotency_key, at=at)
    except DomainError:
        if idempotency_key and (earlier := Claim.objects.filter(entry__idempotency_key=idempotency_key).first()):
            earlier.replayed = True  # a retried request that already succeeded: same claim, nothing new
            return earlier
        raise


def _claim_once(
    *, member: Member, template_id: int, version: int | None, via: str, actor, points: int | None,
    idempotency_key: str | None, at: datetime,
) -> Claim:
    template = _lock_template(template_id)
    if via == Claim.Via.SELF and template.created_by_id is not None and template.created_by_id == member.user_id:
        # Whoever set a template up can print its codes at will, so scanning one is awarding oneself.
        raise SelfAwardForbidden("You cannot claim a code of a template you created.")
    _check_template(template, version=template.version if version is None else version, at=at)
    amount = _amount(template, points=points, via=via)
    if template.claim_limit is not None and claims_counted(template=template, member=member) >= template.claim_limit:
        mine = template.limit_mode == ClaimTemplate.LimitMode.PER_MEMBER
        message = "You have already claimed this." if mine else "This code has been claimed as often as it may be."
        raise ClaimError(message, code="claim_limit_reached")
    meta = {"template_id": template.pk, "description": template.description or template.name, "via": via}
    try:
        # No savepoint: every error of award() ends the claim's transaction (claim and award_by_template
        # are atomic and let errors through).
        entry = services.award(
            member=member, reason=CLAIM_REASON, points=amount, activity=template.activity, actor=actor, meta=meta,
            idempotency_key=idempotency_key, at=at, savepoint=False,
        )
    except CapReached as exc:
        raise ClaimError(exc.message, code=exc.code) from None
    if entry.replayed:
        claim = Claim.objects.get(entry=entry)
    else:
        claim = sql.insert([Claim(template=template, member=member, entry=entry, points=amount, via=via,
                                  actor=actor if getattr(actor, "pk", None) else None, created=at)])[0]
    claim.replayed = entry.replayed
    return claim


@transaction.atomic
def claim(
    *, member: Member, code: str, actor=None, idempotency_key: str | None = None, at: datetime | None = None
) -> Claim:
    """A member claims a scanned code. Raises ClaimError with a code for every refusal."""
    at = at or timezone.now()
    parsed = tokens.read_claim_token(code, at=at)
    return _claim(member=member, template_id=parsed.template_id, version=parsed.version, via=Claim.Via.SELF,
                  actor=actor or member.user, points=None, idempotency_key=idempotency_key, at=at)


@transaction.atomic
def award_by_template(
    *, member: Member, template: ClaimTemplate, actor, points: int | None = None,
    idempotency_key: str | None = None, at: datetime | None = None,
) -> Claim:
    """Staff award a template to a member (no code needed); the template's limits and window apply.
    Never to themselves (SelfAwardForbidden)."""
    services.refuse_self_award(actor=actor, member=member)
    return _claim(member=member, template_id=template.pk, version=None, via=Claim.Via.STAFF, actor=actor,
                  points=points, idempotency_key=idempotency_key, at=at or timezone.now())


def award_manual(
    *, member: Member, points: int, description: str, actor, activity=None, idempotency_key: str | None = None,
    at: datetime | None = None,
):
    """Staff award a typed amount with a reason that is kept on the entry; never to themselves."""
    services.refuse_self_award(actor=actor, member=member)
    if not (description or "").strip():
        raise DomainError("Say why the points are awarded.", code="description_required")
    if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= MAX_STAFF_POINTS:
        raise DomainError(f"points must be from 1 to {MAX_STAFF_POINTS}.", code="invalid_amount")
    return services.award(member=member, reason=STAFF_AWARD_REASON, points=points, activity=activity, actor=actor,
                          meta={"description": description.strip(), "via": "staff"},
                          idempotency_key=idempotency_key, at=at)


# --- personal member codes --------------------------------------------------------------------------


def member_code(*, member: Member) -> MemberCode:
    code, _ = MemberCode.objects.get_or_create(member=member)
    return code


def member_token_for(*, member: Member) -> str:
    return tokens.member_token(member_id=member.pk, nonce=member_code(member=member).nonce)


@transaction.atomic
def rotate_member_code(*, member: Member) -> MemberCode:
    code = MemberCode.objects.select_for_update().get(pk=member_code(member=member).pk)
    code.rotate()
    code.save(update_fields=["nonce", "rotated"])
    return code


def member_for_code(text: str) -> Member:
    """The member a scanned personal code names; refused if forged or rotated since it was shown."""
    member_id, nonce = tokens.read_member_token(text)
    code = MemberCode.objects.select_related("member__user").filter(member_id=member_id).first()
    if code is None:
        raise MemberCodeError("This is not a valid member code.", code="member_code_invalid")
    if code.nonce != nonce:
        raise MemberCodeError("This member code was replaced; ask for the current one.", code="member_code_rotated")
    return code.member
