"""Email as template triples rendered by one helper; the transport (console, SMTP, anymail) is settings.

``send_templated("reward-redeemed", to=..., context=...)`` renders
``emails/reward-redeemed-subject.txt``, ``-body.txt`` and ``-body.html``. Every template gets
``site_url`` (settings.SITE_URL, without a trailing slash) for absolute links.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def send_templated(name: str, *, to: str | list[str], context: dict) -> int:
    """Render and send one email to ``to`` (an address or a list); returns the number sent (0 or 1)."""
    recipients = [to] if isinstance(to, str) else list(to)
    recipients = [address for address in recipients if address]
    if not recipients:
        return 0
    context = {"site_url": settings.SITE_URL.rstrip("/"), **context}
    # Subjects are one line: a template's trailing newline or wrapped text must not become a header break.
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    message = EmailMultiAlternatives(subject, render_to_string(f"emails/{name}-body.txt", context), to=recipients)
    message.attach_alternative(render_to_string(f"emails/{name}-body.html", context), "text/html")
    return message.send()
