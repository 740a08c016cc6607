"""What each redemption email says and to whom; rendering and sending is config.emails."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from config.emails import send_templated
from rewards import conf
from rewards.metadata import delivery
from rewards.models import Redemption

MEMBER_TEMPLATES = {
    "redeemed": "reward-redeemed",
    "approved": "redemption-approved",
    "fulfilled": "redemption-fulfilled",
    "rejected": "redemption-rejected",
}
DELIVERED = (Redemption.Status.APPROVED, Redemption.Status.FULFILLED)


def _load(redemption_id: int) -> Redemption | None:
    return Redemption.objects.select_related("member__user", "reward").filter(pk=redemption_id).first()


def _context(redemption: Redemption) -> dict:
    shown = delivery(redemption.reward_type, redemption.reward.metadata) if redemption.status in DELIVERED else {}
    return {
        "redemption": redemption,
        "reward": redemption.reward,
        "member_name": redemption.member.user.get_full_name() or redemption.member.display_name,
        "delivery": shown,
    }


def send_member_email(*, redemption_id: int, event: str) -> int:
    redemption = _load(redemption_id)
    if redemption is None or event not in MEMBER_TEMPLATES:
        return 0
    return send_templated(MEMBER_TEMPLATES[event], to=redemption.member.user.email, context=_context(redemption))


def admin_recipients() -> list[str]:
    superusers = get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
    emails = [*conf.admin_notify_emails(), *superusers.order_by("pk").values_list("email", flat=True)]
    return list(dict.fromkeys(address.strip().lower() for address in emails if address.strip()))


def send_pending_notice(*, redemption_id: int) -> int:
    redemption = _load(redemption_id)
    if redemption is None:
        return 0
    context = {
        **_context(redemption),
        "queue_path": reverse("admin:rewards_redemption_changelist") + "?status__exact=pending",
        "change_path": reverse("admin:rewards_redemption_change", args=[redemption.pk]),
    }
    return send_templated("redemption-pending", to=admin_recipients(), context=context)
