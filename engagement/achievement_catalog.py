"""The achievements every Plaudit site starts with (the engagement contract), seeded by a migration.

Titles and descriptions are stored in English and shown through gettext, so these eight read in
Czech (locale/cs) while titles that admins write themselves are shown as written.
"""

from django.utils.translation import gettext_noop as _

# code, title, description, points (= XP), icon, rule
SEEDED = [
    ("first_comment", _("First comment"), _("Post your first comment."), 10, "💬",
     {"type": "reason_count", "reason": "comment_create", "min": 1}),
    ("first_vote", _("First vote"), _("Vote in a poll for the first time."), 8, "🗳️",
     {"type": "reason_count", "reason": "poll_vote", "min": 1}),
    ("newsletter_sub", _("Newsletter subscriber"), _("Subscribe to the newsletter."), 12, "📬",
     {"type": "reason_count", "reason": "newsletter_subscribe", "min": 1}),
    ("comments_10", _("Commenter"), _("Post 10 comments."), 20, "🗨️",
     {"type": "reason_count", "reason": "comment_create", "min": 10}),
    ("votes_10", _("Voter"), _("Vote in 10 polls."), 20, "✅",
     {"type": "reason_count", "reason": "poll_vote", "min": 10}),
    ("comments_50", _("Active member"), _("Post 50 comments."), 50, "🔥",
     {"type": "reason_count", "reason": "comment_create", "min": 50}),
    ("votes_50", _("Loyal fan"), _("Vote in 50 polls."), 50, "⭐",
     {"type": "reason_count", "reason": "poll_vote", "min": 50}),
    ("comments_100", _("Discussion veteran"), _("Post 100 comments."), 100, "🏆",
     {"type": "reason_count", "reason": "comment_create", "min": 100}),
]


def seed_achievements(achievement_model) -> None:
    """Create the seeded achievements that do not exist yet (admins' edits are left alone)."""
    for position, (code, title, description, points, icon, rule) in enumerate(SEEDED):
        achievement_model.objects.get_or_create(
            code=code,
            defaults={"title": title, "description": description, "points": points, "xp": points, "icon": icon,
                      "rule": rule, "position": position},
        )
