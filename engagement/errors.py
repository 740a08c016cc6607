"""The ledger's errors, with stable machine codes. Translated to HTTP in config/exceptions.py only."""

from config.errors import DomainError

__all__ = ["CapReached", "DomainError", "IdempotencyConflict", "InsufficientPoints", "LedgerError", "MemberBanned",
           "ProfileError", "ReferralError", "SelfAwardForbidden", "UnknownReason"]


class LedgerError(DomainError):
    """A ledger write was refused; nothing was written."""


class InsufficientPoints(LedgerError):
    status_code = 409
    default_code = "insufficient_points"


class IdempotencyConflict(LedgerError):
    status_code = 409
    default_code = "idempotency_conflict"


class CapReached(LedgerError):
    """Raised when an earning rule's daily or lifetime cap is used up (code says which)."""

    status_code = 200
    default_code = "daily_cap_reached"


class SelfAwardForbidden(LedgerError):
    """Staff (and admins, and a claim template's creator) moved points towards their own account."""

    status_code = 403
    default_code = "self_award_forbidden"


class UnknownReason(LedgerError):
    default_code = "unknown_reason"


class ProfileError(DomainError):
    """Profile edits refused for a rule (code names the rule)."""


class MemberBanned(DomainError):
    """The member is banned: no earning, redeeming, claiming or profile edits. ``until`` (ISO 8601, or
    None for a ban until lifted) travels in the JSON body next to the code."""

    status_code = 403
    default_code = "member_banned"

    def __init__(self, *, until):
        when = f"until {until.isoformat()}" if until is not None else "until an admin lifts the ban"
        super().__init__(f"Your account is banned {when}.", until=until.isoformat() if until else None)


class ReferralError(DomainError):
    """An invite code was refused (the code names why: unknown, self, too late, already recorded, …)."""

    status_code = 409
    default_code = "referral_refused"
