"""Migration 0003 created ``engagement_member_hidden_idx`` with raw SQL, so the migration state never
knew about it. This declares it in the state only: the index already exists in every database that ran
0003 (same table, column and condition), so nothing is sent to the database."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("engagement", "0004_seed_achievements")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="member",
                    index=models.Index(condition=models.Q(show_on_leaderboard=False), fields=["id"],
                                       name="engagement_member_hidden_idx"),
                ),
            ],
            database_operations=[],
        ),
    ]
