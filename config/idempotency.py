"""The ``Idempotency-Key`` a client sends with a write, shared by every app's API."""

from config.errors import DomainError

IDEMPOTENCY_HEADER = "Idempotency-Key"


def idempotency_key(request, *, scope: str, body_key: str | None = None) -> str | None:
    """The client's key (header or body), namespaced per caller so two clients never collide."""
    key = (request.headers.get(IDEMPOTENCY_HEADER) or body_key or "").strip()
    if not key:
        return None
    if len(key) > 120:
        raise DomainError("Idempotency keys are at most 120 characters.", code="validation_error")
    return f"{scope}:{request.user.pk}:{key}"
