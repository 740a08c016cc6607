"""Data every Plaudit site starts with. Used by data migrations and by tests that flush the database."""

# The original engagement service's rules (see the engagement contract). Admins edit them afterwards.
EARNING_RULES = [
    ("comment_create", "Posting a comment", 5, 5, 10, None),
    ("comment_reacted", "A reaction on your comment", 1, 1, 20, None),
    ("poll_vote", "Voting in a poll", 3, 3, 1, None),
    ("newsletter_subscribe", "Subscribing to the newsletter", 12, 12, None, 1),
]


def seed_earning_rules(earning_rule_model) -> None:
    for reason, description, points, xp, daily, lifetime in EARNING_RULES:
        earning_rule_model.objects.get_or_create(
            reason=reason,
            defaults={"description": description, "points": points, "xp": xp, "daily_cap": daily,
                      "lifetime_cap": lifetime},
        )


def seed_all() -> None:
    """Re-create the default rows (after a test flush). Apps with seeded data add theirs here."""
    from engagement.achievement_catalog import seed_achievements
    from engagement.models import Achievement, EarningRule

    seed_earning_rules(EarningRule)
    seed_achievements(Achievement)
