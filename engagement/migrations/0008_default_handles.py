"""Every member gets a handle from the start: members without one get ``fan-<user id>``. A member
who had chosen exactly that (before it was reserved) keeps it; one whose default another member had
already chosen gets ``fan-<user id>-<member id>`` instead (the handle is unique case-insensitively).
Not reversed: a handle is an ordinary handle once given."""

from django.db import migrations


def forwards(apps, schema_editor):
    Member = apps.get_model("engagement", "Member")
    taken = {name.lower() for name in Member.objects.exclude(username="").values_list("username", flat=True)}
    for member_id, user_id in Member.objects.filter(username="").values_list("id", "user_id").iterator():
        handle = f"fan-{user_id}"
        if handle in taken:
            handle = f"fan-{user_id}-{member_id}"
        taken.add(handle)
        Member.objects.filter(pk=member_id, username="").update(username=handle)


class Migration(migrations.Migration):
    dependencies = [("engagement", "0007_spam_reports")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
