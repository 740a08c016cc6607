from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_save


def _create_member(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        from engagement.models import Member

        Member.objects.get_or_create(user=instance)


class EngagementConfig(AppConfig):
    name = "engagement"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every user gets a member profile as soon as it exists (admin, signup, shell, SSO).
        post_save.connect(_create_member, sender=settings.AUTH_USER_MODEL, dispatch_uid="engagement_create_member")
