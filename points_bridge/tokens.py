"""Signed codes carried by QR images: claim codes (template id + version, optional expiry) and members'
personal codes (member id + rotating nonce).

Both are ``django.core.signing`` signatures with their own salt, so a member code can never pass as a
claim code or the other way round, and neither can be forged without SECRET_KEY. A QR holds a URL
(``<SITE_URL>/claim/?code=<token>``) so that a phone's own camera app opens the claim page; scanners
accept either the URL or the bare token.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, quote, urlsplit

from django.conf import settings
from django.core import signing
from django.utils import timezone

from points_bridge.errors import ClaimError, MemberCodeError

CLAIM_SALT = "points_bridge.claim-code"
MEMBER_SALT = "points_bridge.member-code"
MAX_TOKEN_LENGTH = 300


@dataclass(frozen=True)
class ClaimCode:
    template_id: int
    version: int
    expires_at: datetime | None


def _bare(text: str) -> str:
    """The token inside a scanned text: the ``code`` (claim) or ``member`` query parameter of one of our
    URLs, or the text itself."""
    text = (text or "").strip()
    if "://" in text or text.startswith("/"):
        query = parse_qs(urlsplit(text).query)
        return (query.get("code") or query.get("member") or [""])[0].strip()
    return text


def _unsign(text: str, *, salt: str) -> list[str] | None:
    token = _bare(text)
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        return signing.Signer(salt=salt).unsign(token).split(".")
    except signing.BadSignature:
        return None


def _ints(parts: list[str]) -> list[int] | None:
    try:
        return [int(p) for p in parts]
    except ValueError:
        return None


def claim_token(*, template_id: int, version: int, expires_at: datetime | None = None) -> str:
    value = f"c.{template_id}.{version}"
    if expires_at is not None:
        value += f".{int(expires_at.timestamp())}"
    return signing.Signer(salt=CLAIM_SALT).sign(value)


def read_claim_token(text: str, *, at: datetime | None = None) -> ClaimCode:
    """Check the signature and the code's own expiry; the template's state is checked by the service."""
    parts = _unsign(text, salt=CLAIM_SALT)
    numbers = _ints(parts[1:]) if parts and parts[0] == "c" and len(parts) in (3, 4) else None
    if not numbers:
        raise ClaimError("This is not a valid claim code.", code="claim_invalid", status_code=400)
    expires_at = datetime.fromtimestamp(numbers[2], tz=UTC) if len(numbers) == 3 else None
    if expires_at is not None and (at or timezone.now()) >= expires_at:
        raise ClaimError("This claim code has expired.", code="claim_expired", status_code=410)
    return ClaimCode(template_id=numbers[0], version=numbers[1], expires_at=expires_at)


def member_token(*, member_id: int, nonce: str) -> str:
    return signing.Signer(salt=MEMBER_SALT).sign(f"m.{member_id}.{nonce}")


def read_member_token(text: str) -> tuple[int, str]:
    """(member id, nonce) of a personal code; the service checks the nonce is still the current one."""
    parts = _unsign(text, salt=MEMBER_SALT)
    numbers = _ints(parts[1:2]) if parts and parts[0] == "m" and len(parts) == 3 else None
    if not numbers:
        raise MemberCodeError("This is not a valid member code.", code="member_code_invalid")
    return numbers[0], parts[2]


def claim_url(token: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/claim/?code={quote(token, safe='')}"


def member_url(token: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/staff/attribution/?member={quote(token, safe='')}"
