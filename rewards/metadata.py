"""Per-type reward metadata: what each type needs to be delivered, validated in one place.

| type | keys (required*) |
|---|---|
| avatar_static | avatar_url* |
| avatar_animated | animated_avatar_url* |
| avatar_upload_unlock | — |
| merch_coupon | coupon_code*, expires_on (YYYY-MM-DD) |
| merch_physical | sku*, size, colour |
| merch_digital | download_url and/or licence_key (one of them*) |
| custom | any JSON object |

Unknown keys are refused for every type but ``custom`` so that a typo ("colour" vs "color") is caught
when the reward is saved, not when a member is waiting for their parcel.
"""

from datetime import date
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

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


def _date(value, key: str) -> str:
    try:
        return date.fromisoformat(_text(value, key, max_length=10)).isoformat()
    except ValueError:
        raise ValidationError({"metadata": f"'{key}' must be a date (YYYY-MM-DD)."}, code="invalid_metadata") from None


def _avatar_url(value, key: str) -> str:
    # The profile service only accepts avatars from the allow-listed hosts; check it here as well so
    # a reward that could never be applied cannot be saved.
    return _https(value, key, hosts=settings.ENGAGEMENT_AVATAR_HOSTS)


SCHEMAS: dict[str, tuple[dict, set[str]]] = {
    # type: ({key: parser}, required keys)
    "avatar_static": ({"avatar_url": _avatar_url}, {"avatar_url"}),
    "avatar_animated": ({"animated_avatar_url": _avatar_url}, {"animated_avatar_url"}),
    "avatar_upload_unlock": ({}, set()),
    "merch_coupon": ({"coupon_code": _text, "expires_on": _date}, {"coupon_code"}),
    "merch_physical": ({"sku": _text, "size": _text, "colour": _text}, {"sku"}),
    "merch_digital": ({"download_url": _https, "licence_key": _text}, set()),
}


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
    unknown = sorted(set(metadata) - set(parsers))
    if unknown:
        raise ValidationError({"metadata": f"Unknown key(s) for {reward_type}: {', '.join(unknown)}."},
                              code="invalid_metadata")
    missing = sorted(required - set(metadata))
    if missing:
        raise ValidationError({"metadata": f"{reward_type} needs: {', '.join(missing)}."}, code="invalid_metadata")
    if reward_type == "merch_digital" and not metadata:
        raise ValidationError({"metadata": "merch_digital needs download_url or licence_key."},
                              code="invalid_metadata")
    return {key: parsers[key](value, key) for key, value in metadata.items()}


def delivery(reward_type: str, metadata: dict) -> dict:
    """What a member may see once their redemption is approved (coupon codes stay hidden until then)."""
    if reward_type in ("merch_coupon", "merch_digital"):
        return dict(metadata)
    return {}
