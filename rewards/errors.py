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
