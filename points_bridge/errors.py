"""Bridge domain errors. They reuse engagement's DomainError so config/exceptions.py translates them."""

from config.errors import DomainError


class ClaimError(DomainError):
    """A claim (or a staff award by template) was refused; ``code`` says why, nothing was written.

    Codes: claim_invalid (forged, tampered or not a claim code), claim_expired (the code's own expiry),
    claim_rotated (the template was rotated after printing), claim_disabled, claim_deleted,
    claim_not_started, claim_ended (outside the template's validity window), claim_limit_reached,
    claim_needs_staff (manual-points templates are awarded by staff), claim_points_invalid."""

    status_code = 409
    default_code = "claim_invalid"


class MemberCodeError(DomainError):
    """A personal member QR was refused: member_code_invalid (forged/unknown) or member_code_rotated."""

    status_code = 400
    default_code = "member_code_invalid"
