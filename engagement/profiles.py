"""Profile edits: the public username and avatars. Each raises ProfileError with the rule's code, and
MemberBanned (403) while a ban is in force."""

import re
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from config.images import NotAnImage, UnsupportedImage, image_extension
from engagement.errors import ProfileError
from engagement.models import Member
from engagement.models.ledger import default_handle
from engagement.services import refuse_if_banned

RESERVED_USERNAMES = frozenset(
    "admin administrator staff support system root null none undefined moderator mod owner "
    "plaudit api www help info security anonymous everyone me".split()
)
_ALLOWED = re.compile(r"^[a-z0-9._-]+$")
_SPECIAL = set("._-")
_DEFAULT_HANDLE = re.compile(r"^fan-[0-9]+$")


def validate_username(value: str, *, member: Member | None = None) -> str:
    """Return the normalised username or raise ProfileError naming the rule broken."""
    if not isinstance(value, str):
        raise ProfileError("The username must be text.", code="username_invalid")
    name = value.strip().lower()
    if not 3 <= len(name) <= 32:
        raise ProfileError("The username must be 3 to 32 characters long.", code="username_length")
    if not _ALLOWED.match(name):
        raise ProfileError("Use only a-z, 0-9, '-', '_' and '.'.", code="username_characters")
    if name[0] in _SPECIAL or name[-1] in _SPECIAL:
        raise ProfileError("The username cannot start or end with '-', '_' or '.'.", code="username_edge_special")
    if any(a in _SPECIAL and b in _SPECIAL for a, b in zip(name, name[1:], strict=False)):
        raise ProfileError("Two of '-', '_' and '.' cannot stand together.", code="username_consecutive_special")
    if name in RESERVED_USERNAMES:
        raise ProfileError("That username is reserved.", code="username_reserved")
    _check_default_handle(name, member)
    taken = Member.objects.filter(username__iexact=name)
    if member is not None:
        taken = taken.exclude(pk=member.pk)
    if taken.exists():
        raise ProfileError("That username is taken.", code="username_taken", status_code=409)
    _refuse_other_login_names(name, member=member)
    return name


def _refuse_other_login_names(name: str, *, member: Member | None) -> None:
    """A member without a handle is shown by their login name, so a handle equal to somebody else's
    login name would put two "bob"s on the board. One's own login name is fine."""
    logins = get_user_model().objects.filter(**{f"{get_user_model().USERNAME_FIELD}__iexact": name})
    if member is not None:
        logins = logins.exclude(pk=member.user_id)
    if logins.exists():
        raise ProfileError("That name belongs to another account.", code="handle_taken", status_code=409)


def _check_default_handle(name: str, member: Member | None) -> None:
    # ``fan-<id>`` is every member's handle until they choose one: only the member it names may keep
    # (or return to) it, so no one can take a default that is, or will be, someone else's.
    if _DEFAULT_HANDLE.match(name) and (member is None or name != default_handle(member.user_id)):
        raise ProfileError("Handles like fan-123 are given by the club, not chosen.", code="username_reserved")


def set_username(*, member: Member, username: str) -> Member:
    refuse_if_banned(member)
    name = validate_username(username, member=member)
    try:
        with transaction.atomic():
            Member.objects.filter(pk=member.pk).update(username=name)
    except IntegrityError:
        # The check above raced with another member taking the same name; the unique index decided.
        raise ProfileError("That username is taken.", code="username_taken", status_code=409) from None
    member.username = name
    return member


def _is_local_upload(url: str) -> bool:
    path = urlsplit(url).path if "://" in url else url
    return path.startswith("/uploads/") or path.startswith(settings.MEDIA_URL)


def _check_avatar_url(url: str, *, member: Member) -> str:
    if not isinstance(url, str) or len(url) > 500:
        raise ProfileError("The avatar URL is not valid.", code="avatar_url_invalid")
    if url == "":
        return url
    if _is_local_upload(url):
        if not member.avatar_upload_unlocked:
            raise ProfileError("Uploaded avatars are locked; unlock them in the rewards store.",
                               code="avatar_upload_locked", status_code=403)
        if "://" in url or ".." in url:
            raise ProfileError("Point to your own upload by its path.", code="avatar_url_invalid")
        return url
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ProfileError("Avatars must be https URLs.", code="avatar_url_invalid")
    if parts.hostname.lower() not in settings.ENGAGEMENT_AVATAR_HOSTS:
        raise ProfileError(f"Avatars may come from: {', '.join(settings.ENGAGEMENT_AVATAR_HOSTS)}.",
                           code="avatar_host_not_allowed")
    return url


def set_avatars(*, member: Member, avatar_url: str | None = None, animated_avatar_url: str | None = None) -> Member:
    refuse_if_banned(member)
    updates = {}
    if avatar_url is not None:
        updates["avatar_url"] = _check_avatar_url(avatar_url, member=member)
    if animated_avatar_url is not None:
        updates["animated_avatar_url"] = _check_avatar_url(animated_avatar_url, member=member)
    if updates:
        Member.objects.filter(pk=member.pk).update(**updates)
        for field, value in updates.items():
            setattr(member, field, value)
    return member


def unlock_avatar_upload(*, member: Member) -> Member:
    """Let the member upload their own avatar (sold by the rewards store as ``avatar_upload_unlock``)."""
    Member.objects.filter(pk=member.pk).update(avatar_upload_unlocked=True)
    member.avatar_upload_unlocked = True
    return member


def upload_avatar(*, member: Member, upload) -> Member:
    """Store an uploaded image (type sniffed by Pillow, not trusted from the name) as the avatar."""
    refuse_if_banned(member)
    if not member.avatar_upload_unlocked:
        raise ProfileError("Uploaded avatars are locked; unlock them in the rewards store.",
                           code="avatar_upload_locked", status_code=403)
    if upload.size > settings.ENGAGEMENT_AVATAR_MAX_BYTES:
        raise ProfileError("The image is too large.", code="avatar_too_large", status_code=413)
    data = upload.read()
    try:
        extension = image_extension(data)
    except NotAnImage:
        raise ProfileError("The file is not an image we can read.", code="avatar_not_image") from None
    except UnsupportedImage:
        raise ProfileError("Use PNG, JPEG, GIF or WebP.", code="avatar_bad_type", status_code=415) from None
    # Storage I/O happens outside any transaction; only the pointer write below is transactional.
    path = default_storage.save(f"avatars/{member.pk}/{uuid.uuid4().hex}.{extension}", ContentFile(data))
    Member.objects.filter(pk=member.pk).update(avatar_url=default_storage.url(path))
    member.avatar_url = default_storage.url(path)
    return member
