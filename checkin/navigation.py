"""Site chrome for every server-rendered page: the header's staff links and where a login lands.

It lives in checkin because the one question it asks the database is the door's (does this user have
check-in rights?); the other links are permission names. config/ imports no app, so it cannot live there.
"""

from django.conf import settings
from django.contrib.auth import views as auth_views

from checkin.selectors import door_memberships


def navigation(request) -> dict:
    """The header's staff links. Each link shows only to those whose page would not answer 403.

    Lazy: pages that never render the header (JSON, the error page of a failed request) run no query.
    """
    user = getattr(request, "user", None)

    def links() -> list[dict]:
        if user is None or not user.is_authenticated:
            return []
        found = []
        if can_use_door(user):
            found.append({"name": "door", "url": "/door/"})
        if user.has_perm("engagement.award_points"):
            found.append({"name": "award", "url": "/staff/attribution/"})
        if user.is_staff:
            found.append({"name": "admin", "url": "/admin/"})
        return found

    return {"staff_links": links, "languages": settings.LANGUAGES}


def can_use_door(user) -> bool:
    """Check-in rights with some organizer (the rule checkin.selectors.events_for_user applies)."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or door_memberships(user).exists()


class LoginView(auth_views.LoginView):
    """Door staff come to work the door: without a ``next``, they land on the scanner, everybody else on
    their fan zone."""

    def get_default_redirect_url(self):
        return "/door/" if can_use_door(self.request.user) else settings.LOGIN_REDIRECT_URL
