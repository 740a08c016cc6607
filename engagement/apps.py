from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


def _create_member(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        from engagement.models import Member

        Member.objects.get_or_create(user=instance)


class EngagementConfig(AppConfig):
    name = "engagement"
    verbose_name = _("Points and members")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every user gets a member profile as soon as it exists (admin, signup, shell, SSO).
        post_save.connect(_create_member, sender=settings.AUTH_USER_MODEL, dispatch_uid="engagement_create_member")
        _connect_achievements_and_leaderboards()
        _connect_referrals()
        # A ban with an end date stops refusing by itself; this puts the member back on leaderboards.
        settings.CELERY_BEAT_SCHEDULE.setdefault("engagement-end-expired-bans", {
            "task": "engagement.tasks.end_expired_bans", "schedule": 60.0})


def _connect_referrals() -> None:
    from django.contrib.auth.signals import user_logged_in

    from engagement import referrals
    from engagement.referral_pages import attach_from_session
    from engagement.signals import ledger_entry_posted

    # A member's first earning entry qualifies their referral (in its transaction; paid via the outbox).
    ledger_entry_posted.connect(referrals.on_entry_posted, dispatch_uid="engagement_referrals")
    # An invite link followed before logging in waits in the session until the login.
    user_logged_in.connect(attach_from_session, dispatch_uid="engagement_referral_login")


def _connect_achievements_and_leaderboards() -> None:
    from engagement import achievements, challenges
    from engagement.leaderboards import index, seasons
    from engagement.signals import ledger_entry_posted

    # Leaderboard totals are written in the entry's transaction; achievements are evaluated after it.
    ledger_entry_posted.connect(index.on_entry_posted, dispatch_uid="engagement_leaderboard_totals")
    settings.CELERY_BEAT_SCHEDULE.setdefault("engagement-compact-leaderboard-histograms", {
        "task": "engagement.tasks.compact_leaderboard_histograms",
        "schedule": float(getattr(settings, "ENGAGEMENT_LEADERBOARD_COMPACT_SECONDS", 10))})
    ledger_entry_posted.connect(achievements.on_entry_posted, dispatch_uid="engagement_achievements")
    ledger_entry_posted.connect(challenges.on_entry_posted, dispatch_uid="engagement_challenges")
    for signal in (post_save, post_delete):
        signal.connect(achievements.rules_changed, sender="engagement.Achievement", dispatch_uid="engagement_rules")
        signal.connect(challenges.challenges_changed, sender="engagement.Challenge",
                       dispatch_uid="engagement_challenge_rules")
        signal.connect(seasons.forget_seasons, sender="engagement.Season", dispatch_uid="engagement_seasons")
    # Frozen final standings and top-N prizes, shortly after a season's last day (engagement.seasons).
    settings.CELERY_BEAT_SCHEDULE.setdefault("engagement-close-seasons", {
        "task": "engagement.tasks.close_seasons", "schedule": 300.0})
    if getattr(settings, "ENGAGEMENT_LEADERBOARD_REDIS", False):
        settings.CELERY_BEAT_SCHEDULE.setdefault("engagement-repair-leaderboard-index", {
            "task": "engagement.tasks.repair_leaderboard_index", "schedule": 60.0})
