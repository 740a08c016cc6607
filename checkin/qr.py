"""QR codes of ticket secrets (segno, pure CPU: call it outside transactions and locks)."""

from io import BytesIO

import segno

CONTENT_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def render(secret: str, *, kind: str) -> bytes:
    out = BytesIO()
    segno.make(secret, error="m").save(out, kind=kind, scale=8, border=2)
    return out.getvalue()
