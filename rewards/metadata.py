"""Per-type reward metadata: what each type needs to be delivered, validated in one place.

| type | keys (required*) |
|---|---|
| avatar_static | avatar_url* |
| avatar_animated | animated_avatar_url* |
| avatar_upload_unlock | — |
| merch_coupon | coupon_code*, expires_at (date or date-time), discount (text or number), note |
| merch_physical | sku*, size, color |
| merch_digital | download_url and/or license_key (one of them*) |
| custom | any JSON object |

The keys are the club specification's own. Plaudit's earlier spellings (``colour``, ``licence_key``,
``expires_on``) are still accepted and stored under the specification's key (migration 0003 renamed
the stored ones). Unknown keys are refused for every type but ``custom`` so that a typo is caught when
the reward is saved, not when a member is waiting for their parcel.
"""

from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from config.parsers import InputRefused, check_json


def _text(value, key: str, *, max_length: int = 200) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise ValidationError({"metadata": f"'{key}' must be non-empty text of at most {max_length} characters."},
                              code="invalid_metadata")
    return value.strip()


def _https(value, key: str, *, hosts: list[str] | None = None) -> str:
    url = _text(value, key, max_length=500)
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValidationError({"metadata": f"'{key}' must be an https URL."}, code="invalid_metadata")
    if hosts is not None and parts.hostname.lower() not in hosts:
        raise ValidationError({"metadata": f"'{key}' must be on one of: {', '.join(hosts)}."},
                              code="invalid_metadata")
    return url


def _date_or_datetime(value, key: str) -> str:
    """An ISO date ("2027-12-31") or date-time ("2027-12-31T23:59:00Z"), kept as given once parsed."""
    text = _text(value, key, max_length=40)
    try:
        valid = parse_datetime(text) is not None or _is_date(text)
    except ValueError:  # well formed but impossible, e.g. month 13
        valid = False
    if valid:
        return text
    raise ValidationError({"metadata": f"'{key}' must be a date or date-time (ISO 8601)."}, code="invalid_metadata")


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _discount(value, key: str):
    """Text ("10 %", "5 EUR") or a positive number (10, 12.5)."""
    if isinstance(value, bool):
        raise ValidationError({"metadata": f"'{key}' must be text or a positive number."}, code="invalid_metadata")
    if isinstance(value, int | float):
        try:
            ok = Decimal(str(value)) > 0 and Decimal(str(value)).is_finite()
        except InvalidOperation:
            ok = False
        if not ok:
            raise ValidationError({"metadata": f"'{key}' must be a positive number."}, code="invalid_metadata")
        return value
    return _text(value, key, max_length=50)


def _note(value, key: str) -> str:
    return _text(value, key, max_length=500)


def _avatar_url(value, key: str) -> str:
    # The profile service only accepts avatars from the allow-listed hosts; check it here as well so
    # a reward that could never be applied cannot be saved.
    return _https(value, key, hosts=settings.ENGAGEMENT_AVATAR_HOSTS)


SCHEMAS: dict[str, tuple[dict, set[str]]] = {
    # type: ({key: parser}, required keys)
    "avatar_static": ({"avatar_url": _avatar_url}, {"avatar_url"}),
    "avatar_animated": ({"animated_avatar_url": _avatar_url}, {"animated_avatar_url"}),
    "avatar_upload_unlock": ({}, set()),
    "merch_coupon": ({"coupon_code": _text, "expires_at": _date_or_datetime, "discount": _discount, "note": _note},
                     {"coupon_code"}),
    "merch_physical": ({"sku": _text, "size": _text, "color": _text}, {"sku"}),
    "merch_digital": ({"download_url": _https, "license_key": _text}, set()),
}
# Plaudit's earlier spelling → the specification's key (accepted on input, stored under the latter).
ALIASES = {"colour": "color", "licence_key": "license_key", "expires_on": "expires_at"}


def _canonical(metadata: dict) -> dict:
    result = {}
    for key, value in metadata.items():
        name = ALIASES.get(key, key)
        if name in result:
            raise ValidationError({"metadata": f"'{key}' and '{name}' are the same key; give one."},
                                  code="invalid_metadata")
        result[name] = value
    return result


def validate_metadata(reward_type: str, metadata) -> dict:
    """Return the cleaned metadata for ``reward_type`` or raise ValidationError (code invalid_metadata)."""
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise ValidationError({"metadata": "metadata must be a JSON object."}, code="invalid_metadata")
    try:
        # The API's body parser already refused these; the admin form's JSON reaches us unchecked, and
        # PostgreSQL would refuse a NUL or a lone surrogate in jsonb with a 500.
        check_json(metadata)
    except InputRefused as exc:
        raise ValidationError({"metadata": exc.message}, code=exc.code) from None
    if reward_type == "custom":
        return metadata
    if reward_type not in SCHEMAS:
        raise ValidationError({"type": f"Unknown reward type '{reward_type}'."}, code="invalid_type")
    parsers, required = SCHEMAS[reward_type]
    metadata = _canonical(metadata)
    unknown = sorted(set(metadata) - set(parsers))
    if unknown:
        raise ValidationError({"metadata": f"Unknown key(s) for {reward_type}: {', '.join(unknown)}."},
                              code="invalid_metadata")
    missing = sorted(required - set(metadata))
    if missing:
        raise ValidationError({"metadata": f"{reward_type} needs: {', '.join(missing)}."}, code="invalid_metadata")
    if reward_type == "merch_digital" and not metadata:
        raise ValidationError({"metadata": "merch_digital needs download_url or license_key."},
                              code="invalid_metadata")
    return {key: parsers[key](value, key) for key, value in metadata.items()}


def delivery(reward_type: str, metadata: dict) -> dict:
    """What a member may see once their redemption is approved (coupon codes stay hidden until then)."""
    if reward_type in ("merch_coupon", "merch_digital"):
        return dict(metadata)
    return {}
