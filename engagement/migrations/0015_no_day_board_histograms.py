from django.db import migrations


def drop_day_histograms(apps, schema_editor):
    # Day boards rank by their index COUNT now (engagement.leaderboards.histogram.WITHOUT): their rows
    # would only be summed by nobody.
    apps.get_model("engagement", "LeaderboardBucket").objects.filter(period="d").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("engagement", "0014_leaderboard_total_listed"),
    ]

    operations = [
        migrations.RunPython(drop_day_histograms, migrations.RunPython.noop, elidable=True),
    ]
