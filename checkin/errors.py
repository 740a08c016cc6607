"""Check-in domain errors. Refused scans are not errors (they are stored and returned as results);
these are for requests that cannot be judged at all."""

from config.errors import DomainError


class CheckinError(DomainError):
    default_code = "checkin_error"


class InvalidPosition(CheckinError):
    status_code = 404
    default_code = "invalid_position"


class NoCheckinRights(CheckinError):
    status_code = 403
    default_code = "permission_denied"


class SearchTooShort(CheckinError):
    default_code = "search_too_short"


class DeviceTokenInvalid(CheckinError):
    default_code = "device_token_invalid"


class AnnulRefused(CheckinError):
    default_code = "annul_refused"
