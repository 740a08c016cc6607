from django.db import migrations

# The original engagement service's rules (see the engagement contract). Admins edit them afterwards.
RULES = [
    ("comment_create", "Posting a comment", 5, 5, 10, None),
    ("comment_reacted", "A reaction on your comment", 1, 1, 20, None),
    ("poll_vote", "Voting in a poll", 3, 3, 1, None),
    ("newsletter_subscribe", "Subscribing to the newsletter", 12, 12, None, 1),
]


def seed(apps, schema_editor):
    EarningRule = apps.get_model("engagement", "EarningRule")
    for reason, description, points, xp, daily, lifetime in RULES:
        EarningRule.objects.get_or_create(
            reason=reason,
            defaults={"description": description, "points": points, "xp": xp, "daily_cap": daily,
                      "lifetime_cap": lifetime},
        )


class Migration(migrations.Migration):
    dependencies = [("engagement", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
