"""The migrations describe the models exactly, and the indexes declared there exist in the database."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection


@pytest.mark.django_db
def test_the_models_need_no_new_migration():
    out = StringIO()
    # --check also exits non-zero (SystemExit) if any model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert out.getvalue().strip() == "No changes detected"


@pytest.mark.django_db
def test_the_hidden_members_index_is_in_the_database_as_the_model_declares_it():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "engagement_member")
    index = constraints["engagement_member_hidden_idx"]
    assert index["index"] and index["columns"] == ["id"]


@pytest.mark.django_db(transaction=True)  # SQLite's schema editor refuses to run inside a test transaction
def test_declaring_the_raw_sql_index_in_the_state_sends_nothing(capsys):
    call_command("sqlmigrate", "engagement", "0005")
    sql = capsys.readouterr().out
    assert "CREATE INDEX" not in sql.upper() and "DROP INDEX" not in sql.upper()
