"""Domain errors with stable machine codes. Translated to HTTP in config/exceptions.py only."""


class DomainError(Exception):
    status_code = 400
    default_code = "error"

    def __init__(self, message: str, *, code: str | None = None, status_code: int | None = None, **extra):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        if status_code is not None:
            self.status_code = status_code
        self.extra = extra


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


class UnknownReason(LedgerError):
    default_code = "unknown_reason"


class ProfileError(DomainError):
    """Profile edits refused for a rule (code names the rule)."""
