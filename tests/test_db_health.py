"""The kept-connection health check (config/db/base.py): no SELECT 1 while the socket is quiet, and a
connection the server dropped is still noticed and replaced before the request's first query."""

import time

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connection, connections

from config.db.base import looks_healthy
from tests.concurrency import postgres_only

pytestmark = [postgres_only, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def next_request() -> None:
    """What Django does at the start of a request that reuses the kept connection."""
    connection.close_if_unusable_or_obsolete()


@pytest.fixture
def usable_calls(monkeypatch):
    calls = []
    original = connection.is_usable

    def counted():
        calls.append(original())
        return calls[-1]

    monkeypatch.setattr(connection, "is_usable", counted)
    return calls


def terminate(pid: int) -> None:
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                         dbname=db["NAME"], autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0] is True


def test_the_settings_use_the_cheap_check_with_health_checks_on():
    assert type(connections[DEFAULT_DB_ALIAS]).__module__ == "config.db.base"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_a_quiet_kept_connection_is_reused_without_a_round_trip(usable_calls):
    connection.ensure_connection()
    connection.health_check_enabled = True
    for _ in range(3):
        next_request()
        assert get_user_model().objects.count() == 0
    assert usable_calls == []


def test_a_connection_the_server_dropped_is_replaced_before_the_first_query(usable_calls):
    connection.ensure_connection()
    connection.health_check_enabled = True
    old_pid = connection.connection.info.backend_pid
    terminate(old_pid)
    for _ in range(200):  # the backend exits a moment after the signal; then the socket says so
        if not looks_healthy(connection.connection):
            break
        time.sleep(0.01)
    next_request()
    assert get_user_model().objects.count() == 0  # no error: replaced before the query
    assert usable_calls == [False]  # the socket looked wrong, Django's SELECT 1 confirmed it
    assert connection.connection.info.backend_pid != old_pid


def test_negative_control_without_health_checks_the_dropped_connection_fails_the_query(usable_calls):
    connection.ensure_connection()
    connection.health_check_enabled = False
    terminate(connection.connection.info.backend_pid)
    for _ in range(200):
        if not looks_healthy(connection.connection):
            break
        time.sleep(0.01)
    next_request()
    with pytest.raises((OperationalError, InterfaceError)):
        get_user_model().objects.count()
    connection.close()


def test_a_connection_left_in_a_transaction_gets_the_full_check():
    connection.ensure_connection()
    raw = connection.connection
    assert looks_healthy(raw)
    with raw.cursor() as cursor:
        connection.set_autocommit(False)
        cursor.execute("SELECT 1")
        assert looks_healthy(raw) is False  # INTRANS: not idle
        raw.rollback()
        connection.set_autocommit(True)
    assert looks_healthy(raw)


def test_a_hand_written_first_statement_also_replaces_a_dropped_connection(usable_calls):
    """Token authentication (config/authentication.py) is a request's first statement and goes through
    config/sql.py, not a Django cursor: it must run the health check as Django's cursors do."""
    from config import sql as rawsql

    connection.ensure_connection()
    connection.health_check_enabled = True
    old_pid = connection.connection.info.backend_pid
    terminate(old_pid)
    for _ in range(200):
        if not looks_healthy(connection.connection):
            break
        time.sleep(0.01)
    next_request()
    assert rawsql.fetch("SELECT 1", []) == [(1,)]
    assert usable_calls == [False]
    assert connection.connection.info.backend_pid != old_pid
