"""The invite link (/join/<code>/) and what carries its code to the member it invites.

Members are not created by a sign-up form of ours (accounts come from the admin, single sign-on or the
club's site), so the code travels in the session: the link stores it and sends the visitor to log in;
the ``user_logged_in`` receiver attaches it then. Someone already logged in is attached at once. Frontends
with their own sign-up call ``POST /api/v1/engagement/referral`` instead.
"""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from config.errors import DomainError
from engagement import referrals
from engagement.services import member_for_user

SESSION_KEY = "referral_code"

# What the member is told, by the refusal's code; anything else is a quiet "not counted".
REFUSALS = {
    "referral_self": lambda: _("That is your own invite link: share it with your friends."),
    "referral_too_late": lambda: _("Invites count only before your first points, so this one was not counted."),
    "referral_already_recorded": lambda: _("You already joined with another invite."),
}


def _attach(request, user, code: str) -> None:
    try:
        referral = referrals.attach_referral(member=member_for_user(user), code=code)
    except DomainError as exc:
        text = REFUSALS.get(exc.code, lambda: _("This invite link could not be used."))()
        messages.info(request, text, fail_silently=True)  # the test client's logins have no messages
        return
    if not referral.replayed:
        messages.success(request, _("Welcome! Your first points will also reward the friend who invited you."),
                         fail_silently=True)


@require_GET
def join(request, code: str):
    if request.user.is_authenticated:
        _attach(request, request.user, code)
        return redirect("fan-zone")
    request.session[SESSION_KEY] = code[:16]
    return redirect(f"/accounts/login/?{urlencode({'next': '/me/'})}")


def attach_from_session(sender, request, user, **kwargs) -> None:
    """Receiver of ``user_logged_in``: use an invite link followed before logging in."""
    session = getattr(request, "session", None)
    code = session.pop(SESSION_KEY, None) if session is not None else None
    if code:
        _attach(request, user, code)
