"""What each moderation email says and to whom; rendering and sending is config.emails."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from config.emails import send_templated
from engagement.models import Ban, UnbanRequest

# event → (template, recipient): "member" or "admins"
EVENTS = {
    "banned": ("ban-imposed", "member"),
    "unbanned": ("ban-lifted", "member"),
    "unban_requested": ("unban-request-pending", "admins"),
    "request_approved": ("unban-request-approved", "member"),
    "request_rejected": ("unban-request-rejected", "member"),
}


def admin_recipients() -> list[str]:
    """Active superusers with an address (who can decide unban requests)."""
    users = get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
    return list(dict.fromkeys(users.order_by("pk").values_list("email", flat=True)))


def _context(ban_id: int | None, request_id: int | None) -> dict | None:
    if request_id is not None:
        request = UnbanRequest.objects.select_related("member__user", "ban").filter(pk=request_id).first()
        if request is None:
            return None
        change_path = reverse("admin:engagement_unbanrequest_change", args=[request.pk])
        return {"request": request, "ban": request.ban, "member": request.member, "change_path": change_path}
    ban = Ban.objects.select_related("member__user").filter(pk=ban_id).first()
    return None if ban is None else {"ban": ban, "member": ban.member}


def send(*, event: str, ban_id: int | None = None, request_id: int | None = None) -> int:
    if event not in EVENTS or (context := _context(ban_id, request_id)) is None:
        return 0
    template, recipient = EVENTS[event]
    member = context["member"]
    context["member_name"] = member.user.get_full_name() or member.display_name
    to = admin_recipients() if recipient == "admins" else member.user.email
    return send_templated(template, to=to, context=context)
