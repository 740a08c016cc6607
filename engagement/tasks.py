"""Celery tasks of the engagement app: thin adapters that load by id and call a service."""

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils import translation
from redis import RedisError


@shared_task(acks_late=True, max_retries=5, default_retry_delay=30, autoretry_for=(OperationalError,),
             retry_backoff=True)
def evaluate_achievements(*, member_id: int) -> int:
    """Unlock whatever the member has met. Safe to run twice: an unlock happens at most once."""
    from engagement.achievements import evaluate_member

    return len(evaluate_member(member_id=member_id))


@shared_task(acks_late=True, max_retries=5, default_retry_delay=60, outbox_effect_outside_database=True)
def send_achievement_email(*, member_achievement_id: int) -> int:
    from config.emails import send_templated
    from engagement.models import MemberAchievement

    unlock = (
        MemberAchievement.objects.select_related("member__user", "achievement")
        .filter(pk=member_achievement_id).first()
    )
    if unlock is None or not unlock.member.user.email:
        return 0
    # Titles are translated at render time; a worker has no request, so we use the site language.
    with translation.override(settings.LANGUAGE_CODE):
        return send_templated("achievement_unlocked", to=unlock.member.user.email,
                              context={"member": unlock.member, "achievement": unlock.achievement, "unlock": unlock})


@shared_task(acks_late=True, max_retries=3, default_retry_delay=60, autoretry_for=(RedisError,))
def repair_leaderboard_index() -> int:
    """Rewrite the Redis index entries of members whose after-commit writes failed."""
    from engagement.leaderboards.index import repair_index

    return repair_index()


@shared_task(ignore_result=True, autoretry_for=(OperationalError,), max_retries=2)
def compact_leaderboard_histograms() -> int:
    """Beat, every few seconds: fold the rank histograms' appended rows into one row per bucket, which
    keeps an own rank without Redis a short sum however many awards came in."""
    from engagement.leaderboards.histogram import compact

    return compact()


@shared_task(ignore_result=True)
def end_expired_bans() -> int:
    """Beat, every minute: end the bans whose end date has passed (they already stopped refusing)."""
    from engagement.moderation import end_expired_bans as end

    return end()


@shared_task(acks_late=True, max_retries=5, default_retry_delay=60)
def send_moderation_email(*, event: str, ban_id: int | None = None, request_id: int | None = None) -> int:
    """Tell the member of a ban, its lifting or the decision on their unban request; tell the admins of
    a new unban request. ``event`` picks the email (engagement.moderation_emails)."""
    from engagement.moderation_emails import send

    with translation.override(settings.LANGUAGE_CODE):
        return send(event=event, ban_id=ban_id, request_id=request_id)


@shared_task(acks_late=True, max_retries=5, default_retry_delay=30, autoretry_for=(OperationalError,),
             retry_backoff=True)
def evaluate_challenges(*, member_id: int) -> int:
    """Complete whatever challenges the member has met. Safe to run twice: a completion pays once."""
    from engagement.challenges import evaluate_member

    return len(evaluate_member(member_id=member_id))


@shared_task(acks_late=True, max_retries=5, default_retry_delay=30, autoretry_for=(OperationalError,),
             retry_backoff=True)
def evaluate_challenge(*, challenge_id: int) -> int:
    """Complete one challenge for every member who has met it (the admin's re-evaluate action)."""
    from engagement.challenges import evaluate_challenge as evaluate

    return evaluate(challenge_id=challenge_id)


@shared_task(acks_late=True, max_retries=5, default_retry_delay=30, autoretry_for=(OperationalError,),
             retry_backoff=True)
def credit_referral(*, referral_id: int) -> bool:
    """Pay both sides of a qualified referral. Safe to run twice: it credits at most once."""
    from engagement.referrals import credit_referral as credit

    return credit(referral_id=referral_id) is not None


@shared_task(ignore_result=True, acks_late=True)
def close_seasons() -> int:
    """Beat, every five minutes: freeze the seasons that are over and pay their prizes (idempotent:
    a close claims its season; prizes are keyed ledger entries whose side effects use the outbox)."""
    from engagement.seasons import close_due_seasons

    return sum(result.closed for result in close_due_seasons())
