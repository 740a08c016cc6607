from django import template
from django.urls import reverse

from rewards.models import Redemption

register = template.Library()


@register.simple_tag(takes_context=True)
def pending_redemptions(context) -> dict | None:
    """The admin index's "N waiting for a decision" box, for those who may see the queue."""
    request = context.get("request")
    if request is None or not request.user.has_perm("rewards.view_redemption"):
        return None
    return {"count": Redemption.objects.filter(status=Redemption.Status.PENDING).count(),
            "url": reverse("admin:rewards_redemption_changelist")}  # the queue opens on Pending
