"""Store pieces other apps' pages render (the fan zone lives in engagement; it knows rewards only here)."""

from dataclasses import dataclass

from django import template
from django.db.models import Q
from django.utils import timezone

from rewards import selectors
from rewards.models import WINDOW_OPEN, Reward

register = template.Library()
OFFERS_SHOWN = 5


@dataclass
class Offer:
    reward: Reward
    open: bool
    boundary: object  # the end of an open offer, the start of an upcoming one
    seconds: int


@register.simple_tag
def limited_offers() -> list[Offer]:
    """Open offers that end, and upcoming ones, soonest boundary first: the end time is rendered by the
    server (``<time datetime>`` plus the seconds left), countdown.js only ticks it."""
    at = timezone.now()
    windowed = Q(available_until__isnull=False) | Q(available_from__gt=at)
    offers = []
    for reward in selectors.rewards_on_sale(at=at, upcoming=True).filter(windowed):
        is_open = reward.window_state(at) == WINDOW_OPEN
        boundary = reward.available_until if is_open else reward.available_from
        offers.append(Offer(reward=reward, open=is_open, boundary=boundary,
                            seconds=max(0, int((boundary - at).total_seconds()))))
    return sorted(offers, key=lambda offer: offer.seconds)[:OFFERS_SHOWN]
