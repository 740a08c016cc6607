"""Scanner devices (pretix's device authentication): provisioning with a single-use, expiring
initialization token, then an API token the app sends as ``Authorization: Device <token>``.

Tokens are random, shown once, and stored only as SHA-256 hashes: a leaked database does not let anyone
scan. Each write is one conditional UPDATE on the device row, so two apps racing to initialize with one
token cannot both get an API token (the loser's UPDATE matches no row).
"""

import hashlib
import secrets
import string
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from checkin.conf import DEVICE_INIT_TOKEN_TTL
from checkin.errors import DeviceTokenInvalid
from checkin.models import Device, Event, Organizer

SERIAL_ALPHABET = string.ascii_uppercase + string.digits


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Issued:
    device: Device
    token: str  # the raw token: shown once, never stored


def _new_init_token() -> str:
    # 16 lowercase letters and digits, as pretix's (easy to type on a phone when the QR code fails).
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(16))


@transaction.atomic
def create_device(*, organizer: Organizer, name: str, events: list[Event] | None = None, all_events: bool = False,
                  gate: str = "", at: datetime | None = None) -> Issued:
    """A new device with a fresh initialization token (``DEVICE_INIT_TOKEN_TTL``)."""
    device = Device(organizer=organizer, name=name, all_events=all_events, gate=gate)
    save_new(device)
    if events:
        device.limit_events.set(events)
    return issue_init_token(device=device, at=at)


@transaction.atomic
def save_new(device: Device) -> Device:
    """Insert a device with the next organizer-internal number and a random serial (the admin's add form)."""
    # Lock the organizer so two admins creating devices at once get 1 and 2, not 1 and 1.
    Organizer.objects.select_for_update(no_key=True).filter(pk=device.organizer_id).values_list("pk").get()
    found = Device.objects.filter(organizer_id=device.organizer_id).aggregate(n=Max("device_id"))["n"]
    device.device_id = (found or 0) + 1
    device.unique_serial = "".join(secrets.choice(SERIAL_ALPHABET) for _ in range(16))
    device.save(force_insert=True)
    return device


def issue_init_token(*, device: Device, at: datetime | None = None) -> Issued:
    """A new initialization token for a device not yet initialized (or to provision it again on a new phone:
    the old API token stops working when the new one is issued by ``initialize``)."""
    if device.revoked is not None:
        raise DeviceTokenInvalid("This device has been revoked.")
    token = _new_init_token()
    at = at or timezone.now()
    device.init_token_hash, device.init_token_expires = digest(token), at + DEVICE_INIT_TOKEN_TTL
    Device.objects.filter(pk=device.pk).update(init_token_hash=device.init_token_hash,
                                               init_token_expires=device.init_token_expires)
    return Issued(device=device, token=token)


def _software(info: dict) -> dict:
    return {k: str(info.get(k) or "")[:190] for k in ("hardware_brand", "hardware_model", "software_brand",
                                                     "software_version")}


def _new_api_token() -> str:
    return secrets.token_urlsafe(48)


# --- Seams the concurrency tests' negative control swaps out ---------------------------------------


def find_by_init_token(token: str) -> Device | None:
    return Device.objects.select_related("organizer").filter(init_token_hash=digest(token)).first()


def claim_init_token(device_pk: int, token_hash: str, **fields) -> int:
    """The conditional UPDATE that claims an initialization token: a second use, or a racing first, finds
    the hash gone and matches no row. Returns the row count."""
    return Device.objects.filter(pk=device_pk, init_token_hash=token_hash).update(**fields)


def _refuse(message: str) -> DeviceTokenInvalid:
    # pretix's apps show ``{"token": [message]}``; our clients read ``detail`` and ``code``: both are sent.
    return DeviceTokenInvalid(message, token=[message])


def initialize(*, token: str, info: dict, at: datetime | None = None) -> Issued:
    """Exchange an initialization token for an API token, once. Unknown, used and expired tokens are all
    the same 400 to the caller, except that pretix's apps show the reason, so we say which."""
    at = at or timezone.now()
    device = find_by_init_token(token)
    if device is None:
        raise _refuse("This initialization token is not known.")
    if device.revoked is not None:
        raise _refuse("This device has been revoked.")
    if device.init_token_expires is None or device.init_token_expires < at:
        raise _refuse("This initialization token has expired.")
    api_token = _new_api_token()
    claimed = claim_init_token(device.pk, digest(token), init_token_hash=None, init_token_expires=None,
                               api_token_hash=digest(api_token), initialized=at, **_software(info))
    if claimed != 1:
        raise _refuse("This initialization token has already been used.")
    device.refresh_from_db()
    return Issued(device=device, token=api_token)


def update_info(*, device: Device, info: dict) -> Device:
    fields = _software(info)
    Device.objects.filter(pk=device.pk).update(**fields)
    for key, value in fields.items():
        setattr(device, key, value)
    return device


def roll(*, device: Device) -> Issued:
    """A new API token; the old one stops working at once."""
    api_token = _new_api_token()
    try:
        Device.objects.filter(pk=device.pk, revoked__isnull=True).update(api_token_hash=digest(api_token))
    except IntegrityError as exc:  # a 48-byte random collision: never in practice, but never a 500 either
        raise DeviceTokenInvalid("Could not create a new token, try again.") from exc
    return Issued(device=device, token=api_token)


def revoke(*, device: Device, at: datetime | None = None) -> None:
    """Irreversible: the API token stops working and the device can never be initialized again. Its scans
    stay in the log with the device on them."""
    Device.objects.filter(pk=device.pk).update(revoked=at or timezone.now(), api_token_hash=None,
                                               init_token_hash=None, init_token_expires=None)


def by_api_token(token: str) -> Device | None:
    return Device.objects.select_related("organizer").filter(api_token_hash=digest(token),
                                                             revoked__isnull=True).first()
