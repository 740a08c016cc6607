"""Human words for ledger entries on "my points": members read "Posting a comment", not
``comment_create``, and "Achievement: First comment", not ``achievement:first_comment``."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from engagement.models import Achievement

ACHIEVEMENT_PREFIX = "achievement:"

# Reasons the project writes itself. A reason nobody named here falls back to its slug made readable.
REASONS = {
    "comment_create": gettext_lazy("Posting a comment"),
    "comment_reacted": gettext_lazy("A reaction on your comment"),
    "poll_vote": gettext_lazy("Voting in a poll"),
    "newsletter_subscribe": gettext_lazy("Subscribing to the newsletter"),
    "checkin": gettext_lazy("Checked in at the door"),
    "claim": gettext_lazy("Scanned a code"),
    "staff_award": gettext_lazy("Awarded by staff"),
    "redeem": gettext_lazy("Redeemed a reward"),
    "redeem_refund": gettext_lazy("Refund of a rejected redemption"),
    "spend": gettext_lazy("Spent"),
    "refund": gettext_lazy("Refund"),
    "admin_adjust": gettext_lazy("Correction by an admin"),
    "demo_welcome": gettext_lazy("Welcome bonus"),
}


def describe(entry, achievements: dict[str, Achievement]) -> str:
    """One line for one entry: the description written on it when there is one (a staff award's reason,
    a claim template's text), else the reward redeemed, the achievement unlocked, or the reason's name."""
    meta = entry.meta or {}
    if meta.get("description"):
        return str(meta["description"])
    if entry.reason in ("redeem", "redeem_refund") and meta.get("reward"):
        return f"{REASONS[entry.reason]}: {meta['reward']}"
    if entry.reason.startswith(ACHIEVEMENT_PREFIX):
        found = achievements.get(entry.reason.removeprefix(ACHIEVEMENT_PREFIX))
        title = found.display_title if found else entry.reason.removeprefix(ACHIEVEMENT_PREFIX).replace("_", " ")
        return _("Achievement: %(title)s") % {"title": title}
    if entry.reason in REASONS:
        return str(REASONS[entry.reason])
    return entry.reason.replace("_", " ").replace(":", ": ").capitalize()


def described(entries) -> list[tuple[object, str]]:
    """(entry, description) pairs, with the achievements they name read in one query."""
    entries = list(entries)
    codes = {e.reason.removeprefix(ACHIEVEMENT_PREFIX) for e in entries if e.reason.startswith(ACHIEVEMENT_PREFIX)}
    achievements = {a.code: a for a in Achievement.objects.filter(code__in=codes)} if codes else {}
    return [(entry, describe(entry, achievements)) for entry in entries]
