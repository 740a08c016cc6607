"""Writes of the rewards app: redeem, and the approval workflow (approve, reject, fulfil).

Points move only through engagement's ledger services. Lock order everywhere: the redemption row
(transitions only, by their conditional UPDATE) → the member row (ledger services) → the reward row
(stock). ``redeem`` never locks an existing redemption, so the two paths cannot deadlock.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from config import outbox
from config.errors import DomainError
from engagement import profiles
from engagement import services as ledger
from engagement.errors import IdempotencyConflict
from engagement.models import Member
from rewards import redeem_sql, tasks
from rewards.errors import (
    AlreadyRedeemed,
    InsufficientXP,
    InvalidTransition,
    MemberLimitReached,
    OutOfStock,
    RedemptionNotFound,
    RewardExpired,
    RewardNotFound,
    RewardNotYetAvailable,
    RewardUnavailable,
)
from rewards.models import (
    ONE_PER_MEMBER_TYPES,
    PENDING_TYPES,
    WINDOW_ENDED,
    WINDOW_UPCOMING,
    CostType,
    Redemption,
    Reward,
)

REDEEM_REASON = "redeem"
REFUND_REASON = "redeem_refund"
Status = Redemption.Status

# action → (statuses it may start from, status it leads to, participle for messages)
TRANSITIONS = {
    "approve": ((Status.PENDING,), Status.APPROVED, "approved"),
    "reject": ((Status.PENDING,), Status.REJECTED, "rejected"),
    "fulfil": ((Status.APPROVED,), Status.FULFILLED, "fulfilled"),
}


# --- Redeem -------------------------------------------------------------------------------------------


def _replayed(*, member_id: int, key: str | None, reward_id: int) -> Redemption | None:
    if not key:
        return None
    found = Redemption.objects.filter(member_id=member_id, idempotency_key=key).first()
    if found is None:
        return None
    if found.reward_id != reward_id:
        raise IdempotencyConflict("This idempotency key was already used to redeem another reward.")
    found.replayed = True
    return found


def _available_reward(reward: Reward | None, at: datetime) -> Reward:
    if reward is None:
        raise RewardNotFound("No such reward.")
    _check_window(reward, at)
    if reward.stock == 0:
        # A cheap early refusal; take_stock's conditional UPDATE is what actually decides.
        raise OutOfStock("This reward is out of stock.")
    return reward


def _check_window(reward: Reward, at: datetime) -> None:
    # Pure arithmetic on the row we already read: a reward without a window costs nothing more.
    if not reward.active:
        raise RewardUnavailable("This reward is not available now.")
    state = reward.window_state(at)
    if state == WINDOW_UPCOMING:
        raise RewardNotYetAvailable("This reward is not on sale yet.",
                                    available_from=reward.available_from.isoformat())
    if state == WINDOW_ENDED:
        raise RewardExpired("This offer has ended.", available_until=reward.available_until.isoformat())


def _check_member_limit(member: Member, reward: Reward) -> None:
    # Runs under the member's row lock, so two redemptions of one member are judged one after the
    # other and the second counts the first. Rejected redemptions were refunded (and restocked) and do
    # not count; pending ones do, or a member could queue past the limit before an admin decides.
    # No query at all for a reward without a limit (the hot path).
    if reward.max_per_member is None:
        return
    held = Redemption.objects.filter(member=member, reward=reward).exclude(status=Status.REJECTED).count()
    if held >= reward.max_per_member:
        raise MemberLimitReached(f"You can redeem this reward {reward.max_per_member} time(s).",
                                 limit=reward.max_per_member)


def _check_one_per_member(member: Member, reward: Reward) -> None:
    # Runs under the member's row lock, so two racing unlocks of one member see each other; the
    # partial unique index on Redemption is the backstop for writers that skip the lock.
    if reward.type not in ONE_PER_MEMBER_TYPES:
        return
    owned = Redemption.objects.filter(member=member, reward_type=reward.type).exclude(status=Status.REJECTED)
    if member.avatar_upload_unlocked or owned.exists():
        raise AlreadyRedeemed("You already own this reward.")


def _check_xp(member: Member, reward: Reward) -> None:
    # Under the member lock, like the one-per-member check: XP only grows, so the threshold check
    # cannot be undone by a concurrent write, and two racing redemptions of one reward see each other.
    if member.xp < reward.cost_points:
        raise InsufficientXP(f"This reward needs {reward.cost_points} XP; you have {member.xp}.",
                             needed=reward.cost_points, xp=member.xp)
    owned = Redemption.objects.filter(member=member, reward=reward).exclude(status=Status.REJECTED)
    if owned.exists():
        raise AlreadyRedeemed("You already own this reward.")


def _pay(*, member: Member, reward: Reward, key: str | None, at: datetime):
    """The ledger entry a redemption spends, or None for an XP-only reward (nothing is deducted)."""
    if reward.cost_type == CostType.XP:
        _check_xp(member, reward)
        return None
    return ledger.spend(
        member=member, points=reward.cost_points, reason=REDEEM_REASON, at=at,
        meta={"reward_id": reward.pk, "reward": reward.name, "type": reward.type},
        idempotency_key=f"redeem:{member.pk}:{key}" if key else None, member_locked=True,
    )


def take_stock(*, reward: Reward) -> bool:
    """Take one unit of a limited reward; True if a unit was counted, False for unlimited ones.

    The UPDATE matches only while a unit is left, so PostgreSQL re-checks ``stock > 0`` on the row
    version it waited for: N units are sold at most N times however many requests race. Unlimited
    rewards take no row lock at all, so a popular unlimited reward does not serialise its buyers; the
    price is that redemptions in flight while an admin switches it to limited are not counted.
    """
    if reward.stock is None:
        return False
    if not redeem_sql.take_stock(reward.pk):
        raise OutOfStock("This reward is out of stock.")
    return True


def _deliver_now(*, member: Member, reward: Reward) -> None:
    """Apply the rewards that need no human: avatars and the upload unlock."""
    meta = reward.metadata or {}
    if reward.type == Reward.Type.AVATAR_STATIC:
        profiles.set_avatars(member=member, avatar_url=_required(meta, "avatar_url"))
    elif reward.type == Reward.Type.AVATAR_ANIMATED:
        profiles.set_avatars(member=member, animated_avatar_url=_required(meta, "animated_avatar_url"))
    elif reward.type == Reward.Type.AVATAR_UPLOAD_UNLOCK:
        profiles.unlock_avatar_upload(member=member)


def _required(meta: dict, key: str) -> str:
    if not meta.get(key):
        raise RewardUnavailable(f"This reward is misconfigured (no {key}); please tell an admin.")
    return meta[key]


def _record(*, member: Member, reward: Reward, entry, took_stock: bool, key: str | None,
            at: datetime) -> Redemption:
    """INSERT the redemption and its emails' outbox rows (one statement each)."""
    pending = reward.type in PENDING_TYPES
    redemption = redeem_sql.insert_redemption(Redemption(
        member=member, reward=reward, reward_type=reward.type, cost_points=reward.cost_points,
        cost_type=reward.cost_type, status=Status.PENDING if pending else Status.APPROVED,
        decided_at=None if pending else at, took_stock=took_stock, spend_entry=entry, idempotency_key=key, created=at,
    ))
    emails = [(tasks.send_redemption_email, {"redemption_id": redemption.pk, "event": "redeemed"})]
    if pending:
        emails.append((tasks.notify_admins_of_pending, {"redemption_id": redemption.pk}))
    outbox.enqueue_many(*emails)
    return redemption


@transaction.atomic
def _redeem(*, member: Member, reward_id: int, key: str | None, at: datetime) -> Redemption:
    # One round trip: the member lock, the reward, and this key's earlier redemption (see
    # redeem_sql.start for what a lock wait hides, and redeem() for how that is caught).
    locked, reward, earlier = redeem_sql.start(member_id=member.pk, reward_id=reward_id, key=key)
    if earlier is not None and (found := _replayed(member_id=member.pk, key=key, reward_id=reward_id)):
        return found
    ledger.refuse_if_banned(locked, at=at)
    reward = _available_reward(reward, at)
    _check_one_per_member(locked, reward)
    _check_member_limit(locked, reward)
    entry = _pay(member=locked, reward=reward, key=key, at=at)
    took_stock = take_stock(reward=reward)
    redemption = _record(member=locked, reward=reward, entry=entry, took_stock=took_stock, key=key, at=at)
    _deliver_now(member=locked, reward=reward)
    for name in ("points", "xp", "level", "avatar_url", "animated_avatar_url", "avatar_upload_unlocked"):
        setattr(member, name, getattr(locked, name))
    redemption.replayed = False
    return redemption


def redeem(*, member: Member, reward_id: int, idempotency_key: str | None = None,
           at: datetime | None = None) -> Redemption:
    """Spend the reward's cost, take one unit of stock and record the redemption, in one transaction.

    An XP-only reward (``cost_type`` xp) deducts nothing: the member needs ``cost_points`` XP
    (InsufficientXP, 409 ``insufficient_xp``) and owns it at most once.
    Avatars and the upload unlock are applied at once (status ``approved``); merch and custom rewards
    wait for an admin (``pending``). The same ``idempotency_key`` (unique per member) returns the first
    redemption with ``replayed`` True; with another reward it is a 409 ``idempotency_conflict``.
    Outside the reward's window: RewardNotYetAvailable / RewardExpired (both RewardUnavailable, codes
    ``reward_not_yet_available`` / ``reward_expired``); over ``max_per_member``: MemberLimitReached.
    Raises RewardNotFound, RewardUnavailable, OutOfStock, AlreadyRedeemed or InsufficientPoints.
    """
    at = at or timezone.now()
    try:
        return _redeem(member=member, reward_id=reward_id, key=idempotency_key or None, at=at)
    except DomainError:
        # A replay whose first request committed while we waited for the member lock (our first
        # statement could not see it) may be refused for what that request did (the stock or the
        # points it took): answer it with the first redemption, as a replay.
        if (found := _replayed(member_id=member.pk, key=idempotency_key, reward_id=reward_id)) is not None:
            return found
        raise
    except IntegrityError:
        # Only the redemption's unique indexes can fail here, and only for a writer that raced us
        # without the member lock: answer with what the winner wrote.
        if (found := _replayed(member_id=member.pk, key=idempotency_key, reward_id=reward_id)) is not None:
            return found
        owned = Redemption.objects.filter(member=member).exclude(status=Status.REJECTED)
        once = Q(reward_type__in=ONE_PER_MEMBER_TYPES) | Q(reward_id=reward_id, cost_type=CostType.XP)
        if owned.filter(once).exists():
            raise AlreadyRedeemed("You already own this reward.") from None
        raise


# --- Workflow -----------------------------------------------------------------------------------------


def _claim(*, redemption_id: int, action: str, actor, note: str, at: datetime) -> Redemption:
    """Move the redemption with one conditional UPDATE and trust its row count: of two admins (or an
    admin and the API) acting at once, exactly one matches the old status."""
    sources, target, participle = TRANSITIONS[action]
    actor = actor if getattr(actor, "pk", None) else None
    stamp = {"fulfilled_by": actor, "fulfilled_at": at} if action == "fulfil" else {"decided_by": actor,
                                                                                    "decided_at": at}
    if note:
        stamp["note"] = note
    if Redemption.objects.filter(pk=redemption_id, status__in=sources).update(status=target, updated=at, **stamp):
        return Redemption.objects.select_related("member", "reward").get(pk=redemption_id)
    current = Redemption.objects.filter(pk=redemption_id).values_list("status", flat=True).first()
    if current is None:
        raise RedemptionNotFound("No such redemption.")
    raise InvalidTransition(f"A {current} redemption cannot be {participle}.", status=current)


@transaction.atomic
def approve(*, redemption_id: int, actor=None, note: str = "", at: datetime | None = None) -> Redemption:
    """pending → approved. InvalidTransition (409) from any other status."""
    redemption = _claim(redemption_id=redemption_id, action="approve", actor=actor, note=note,
                        at=at or timezone.now())
    outbox.enqueue(tasks.send_redemption_email, redemption_id=redemption.pk, event="approved")
    return redemption


@transaction.atomic
def reject(*, redemption_id: int, actor=None, note: str = "", at: datetime | None = None) -> Redemption:
    """pending → rejected: refund the points and give the unit of stock back, exactly once. An XP-only
    redemption spent nothing, so only its unit of stock comes back.

    The conditional UPDATE lets one caller through; the refund's idempotency key (derived from the
    redemption) would stop a second refund even if something bypassed it.
    """
    at = at or timezone.now()
    redemption = _claim(redemption_id=redemption_id, action="reject", actor=actor, note=note, at=at)
    if redemption.took_stock:
        restock(reward_id=redemption.reward_id)
    if redemption.spend_entry_id is None:
        tasks.send_redemption_email.delay_on_commit(redemption_id=redemption.pk, event="rejected")
        return redemption
    entry = ledger.refund(
        member=redemption.member, points=redemption.cost_points, reason=REFUND_REASON, actor=actor, at=at,
        meta={"redemption_id": redemption.pk, "reward_id": redemption.reward_id},
        idempotency_key=f"redeem_refund:{redemption.pk}",
    )
    Redemption.objects.filter(pk=redemption.pk).update(refund_entry=entry)
    redemption.refund_entry = entry
    outbox.enqueue(tasks.send_redemption_email, redemption_id=redemption.pk, event="rejected")
    return redemption


def restock(*, reward_id: int) -> None:
    # NULL + 1 stays NULL: a reward made unlimited since the redemption simply stays unlimited.
    Reward.objects.filter(pk=reward_id).update(stock=F("stock") + 1)


@transaction.atomic
def fulfil(*, redemption_id: int, actor=None, note: str = "", at: datetime | None = None) -> Redemption:
    """approved → fulfilled (the parcel left, the code was sent). InvalidTransition otherwise."""
    redemption = _claim(redemption_id=redemption_id, action="fulfil", actor=actor, note=note,
                        at=at or timezone.now())
    outbox.enqueue(tasks.send_redemption_email, redemption_id=redemption.pk, event="fulfilled")
    return redemption


ACTIONS = {"approve": approve, "reject": reject, "fulfil": fulfil}


@dataclass
class BulkResult:
    changed: int = 0
    refused: dict[str, int] = field(default_factory=dict)  # reason (current status or error code) → count

    def explain(self) -> str:
        return ", ".join(f"{count} {reason}" for reason, count in sorted(self.refused.items()))


def decide_many(*, action: str, redemption_ids, actor, note: str = "",
                on_changed: Callable[[Redemption], object] | None = None) -> BulkResult:
    """Apply ``action`` to each redemption in its own transaction; count what changed and why the rest
    did not (an admin selecting fifty rows should not lose forty-nine decisions to one refusal).

    ``on_changed(redemption)`` runs for each redemption that moved, inside that redemption's
    transaction (the admin writes its LogEntry there): it commits with the transition or not at all.
    """
    result = BulkResult()
    for redemption_id in redemption_ids:
        try:
            with transaction.atomic():
                redemption = ACTIONS[action](redemption_id=redemption_id, actor=actor, note=note)
                if on_changed is not None:
                    on_changed(redemption)
        except InvalidTransition as exc:
            reason = f"already {exc.extra['status']}"
            result.refused[reason] = result.refused.get(reason, 0) + 1
        except DomainError as exc:
            result.refused[exc.code] = result.refused.get(exc.code, 0) + 1
        else:
            result.changed += 1
    return result


# --- Catalogue ----------------------------------------------------------------------------------------


def save_reward(*, reward: Reward | None = None, **fields) -> Reward:
    """Create or update a reward after validating it like the admin form does (full_clean).

    An update writes only ``fields`` (and the metadata, which full_clean normalises): a PATCH that does
    not mention the stock must not put back units sold since the reward was read.
    """
    creating = reward is None
    reward = reward or Reward()
    for name, value in fields.items():
        setattr(reward, name, value)
    reward.full_clean()
    if creating:
        reward.save()
    else:
        reward.save(update_fields=sorted({*fields, "metadata", "updated"}))
    return reward


@transaction.atomic
def delete_reward(*, reward: Reward) -> bool:
    """Delete a reward, or deactivate it when redemptions point at it. Returns True if deleted."""
    if Redemption.objects.filter(reward=reward).exists():
        Reward.objects.filter(pk=reward.pk).update(active=False)
        reward.active = False
        return False
    reward.delete()
    return True


def create_batch(*, name_template: str, url_template: str, count: int, start: int = 1, **fields) -> list[Reward]:
    """Create ``count`` rewards from templates whose ``{i}`` runs from ``start`` (e.g. a set of avatars).

    ``url_template`` fills the image and, for avatar types, the avatar URL in the metadata.
    """
    rewards, base_metadata = [], fields.pop("metadata", None) or {}
    with transaction.atomic():
        for i in range(start, start + count):
            url = url_template.replace("{i}", str(i))
            metadata = dict(base_metadata)
            if fields.get("type") == Reward.Type.AVATAR_STATIC:
                metadata["avatar_url"] = url
            elif fields.get("type") == Reward.Type.AVATAR_ANIMATED:
                metadata["animated_avatar_url"] = url
            rewards.append(save_reward(name=name_template.replace("{i}", str(i)), image_url=url,
                                       metadata=metadata, **fields))
    return rewards
