from django.db import migrations

from engagement.achievement_catalog import seed_achievements


def seed(apps, schema_editor):
    seed_achievements(apps.get_model("engagement", "Achievement"))


class Migration(migrations.Migration):
    dependencies = [("engagement", "0003_achievements_campaigns_leaderboard_totals")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
