from django.conf import settings
from django.contrib.auth import views as auth_views

from pages.context_processors import can_use_door


class LoginView(auth_views.LoginView):
    """Door staff come to work the door: without a ``next``, they land on the scanner, everybody else on
    their fan zone."""

    def get_default_redirect_url(self):
        return "/door/" if can_use_door(self.request.user) else settings.LOGIN_REDIRECT_URL
