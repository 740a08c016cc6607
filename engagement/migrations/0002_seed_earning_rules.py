from django.db import migrations

from engagement.defaults import seed_earning_rules


def seed(apps, schema_editor):
    seed_earning_rules(apps.get_model("engagement", "EarningRule"))


class Migration(migrations.Migration):
    dependencies = [("engagement", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
