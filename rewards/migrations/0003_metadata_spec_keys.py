"""Stored reward metadata moves to the club specification's keys: ``colour`` → ``color``,
``licence_key`` → ``license_key``, ``expires_on`` → ``expires_at`` (a date stays a valid value).
Custom rewards are free-form and left alone. Reversible."""

from django.db import migrations

RENAMES = {"colour": "color", "licence_key": "license_key", "expires_on": "expires_at"}
TYPES = ("merch_coupon", "merch_physical", "merch_digital")


def _rename(apps, renames: dict) -> None:
    Reward = apps.get_model("rewards", "Reward")
    for reward in Reward.objects.filter(type__in=TYPES).only("pk", "metadata").iterator():
        metadata = reward.metadata or {}
        if not any(old in metadata for old in renames):
            continue
        reward.metadata = {renames.get(key, key): value for key, value in metadata.items()}
        Reward.objects.filter(pk=reward.pk).update(metadata=reward.metadata)


def forwards(apps, schema_editor):
    _rename(apps, RENAMES)


def backwards(apps, schema_editor):
    _rename(apps, {new: old for old, new in RENAMES.items()})


class Migration(migrations.Migration):
    dependencies = [("rewards", "0002_xp_only_rewards")]

    operations = [migrations.RunPython(forwards, backwards)]
