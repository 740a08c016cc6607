"""Uploaded pictures (avatars, reward images): the type is sniffed by Pillow from the bytes, never
trusted from the file name or the browser's content type."""

from django.core.files.base import ContentFile
from PIL import Image, UnidentifiedImageError

EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}


class NotAnImage(ValueError):
    """Pillow cannot read the bytes as an image (or they would decompress into a bomb)."""


class UnsupportedImage(ValueError):
    """An image, but not PNG, JPEG, GIF or WebP."""


def image_extension(data: bytes) -> str:
    """The file extension for ``data``; raises NotAnImage or UnsupportedImage."""
    try:
        with Image.open(ContentFile(data)) as image:
            image.verify()
            kind = image.format
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise NotAnImage from None
    if kind not in EXTENSIONS:
        raise UnsupportedImage(kind)
    return EXTENSIONS[kind]
