"""``Authorization: Device <token>``: pretix's device authentication for scanner apps.

A device is not a Django user. The views read ``request.user`` for rights, so an authenticated device is a
``DevicePrincipal``: authenticated, never staff, with the device on it; ``checkin.selectors`` gives it the
rights of its organizer, limited to its events. ``request.auth`` is the device itself.
"""

from rest_framework import authentication, exceptions

from checkin import devices
from checkin.models import Device


class DevicePrincipal:
    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_superuser = False
    is_staff = False
    pk = id = None

    def __init__(self, device: Device) -> None:
        self.device = device
        self._event_ids: set[int] | None = None

    @property
    def event_ids(self) -> set[int]:
        """The device's events (read once per request, only when a view needs them)."""
        if self._event_ids is None:
            self._event_ids = set(self.device.limit_events.values_list("pk", flat=True))
        return self._event_ids

    def allows(self, event_id: int) -> bool:
        return self.device.all_events or event_id in self.event_ids

    def __str__(self) -> str:
        return f"device {self.device.device_id} of {self.device.organizer.slug}"


def device_of(user) -> Device | None:
    return getattr(user, "device", None) if isinstance(user, DevicePrincipal) else None


class DeviceAuthentication(authentication.BaseAuthentication):
    keyword = "Device"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid device token header.")
        try:
            token = parts[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid device token header.") from exc
        device = devices.by_api_token(token)
        if device is None:
            # Unknown, rolled and revoked tokens alike: the app then asks to be set up again.
            raise exceptions.AuthenticationFailed("Unknown or revoked device token.")
        return DevicePrincipal(device), device

    def authenticate_header(self, request) -> str:
        return self.keyword
