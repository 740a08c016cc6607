"""Rewards' domain errors. Each carries a stable ``code``; config/exceptions.py turns them into JSON."""

from config.errors import DomainError


class RewardsError(DomainError):
    status_code = 409


class RewardNotFound(RewardsError):
    status_code = 404
    default_code = "reward_not_found"


class RewardUnavailable(RewardsError):
    """Inactive, or outside its available_from/available_until window."""

    default_code = "reward_unavailable"


class RewardNotYetAvailable(RewardUnavailable):
    """Before ``available_from``; the body carries ``available_from`` so a client can count down."""

    default_code = "reward_not_yet_available"


class RewardExpired(RewardUnavailable):
    """From ``available_until`` on; the body carries ``available_until``."""

    default_code = "reward_expired"


class MemberLimitReached(RewardsError):
    """The member already holds ``limit`` non-rejected redemptions of a reward with ``max_per_member``."""

    default_code = "reward_member_limit"


class OutOfStock(RewardsError):
    default_code = "out_of_stock"


class AlreadyRedeemed(RewardsError):
    default_code = "already_redeemed"


class RedemptionNotFound(RewardsError):
    status_code = 404
    default_code = "redemption_not_found"


class InvalidTransition(RewardsError):
    default_code = "invalid_transition"


class InsufficientXP(RewardsError):
    """An XP-only reward needs more XP than the member has (nothing is ever deducted for it)."""

    default_code = "insufficient_xp"
