"""Reward pictures: uploaded files (type sniffed by Pillow, size-limited, stored through Django's
storage API) and the ``image_url`` values a reward may carry (an https URL, or a path on this site
such as the storage URL of an upload, as the club specification shows them)."""

import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from config.images import NotAnImage, UnsupportedImage, image_extension


def max_bytes() -> int:
    return getattr(settings, "REWARDS_IMAGE_MAX_BYTES", 2 * 1024 * 1024)


def validate_image_url(value: str) -> None:
    """An https URL, or a path relative to the site ("/media/rewards/x.png"); empty is allowed."""
    if not value:
        return
    parts = urlsplit(value)
    if any(c.isspace() for c in value) or "\\" in value:
        raise ValidationError("Enter an https URL or a path starting with /.", code="invalid")
    if parts.scheme == "https" and parts.hostname:
        return
    if not parts.scheme and not parts.netloc and value.startswith("/") and ".." not in parts.path:
        return
    raise ValidationError("Enter an https URL or a path starting with /.", code="invalid")


class ImageRefused(ValidationError):
    """The upload is not an image we accept; ``code`` says why."""


def read_image(upload) -> tuple[bytes, str]:
    """The upload's bytes and file extension, or ImageRefused (``image_too_large``, ``image_not_image``,
    ``image_bad_type``)."""
    if upload.size > max_bytes():
        raise ImageRefused(f"The image is larger than {max_bytes() // 1024} KB.", code="image_too_large")
    data = upload.read()
    try:
        return data, image_extension(data)
    except NotAnImage:
        raise ImageRefused("The file is not an image we can read.", code="image_not_image") from None
    except UnsupportedImage:
        raise ImageRefused("Use PNG, JPEG, GIF or WebP.", code="image_bad_type") from None


def store_image(upload) -> str:
    """Validate and store an uploaded reward picture; returns its URL (relative to the site with the
    default file storage). Storage I/O: call it outside transactions."""
    data, extension = read_image(upload)
    path = default_storage.save(f"rewards/{uuid.uuid4().hex}.{extension}", ContentFile(data))
    return default_storage.url(path)
