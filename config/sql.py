"""Helpers for the few hand-written statements on Plaudit's hot paths (the ledger's award, the door's
redeem), so that they send and get back exactly what the ORM would.

Why not the ORM there: compiling a queryset costs about 0.3 ms of CPU every time, more than PostgreSQL
needs to run a primary-key lookup, and a ledger write or a door scan is a handful of them. Everywhere
else the ORM stays. What these helpers keep from it:

- table and column names from the models (``table``, ``columns``), quoted by the backend;
- values read back through the same converters the ORM's compiler applies (``convert``, ``build``:
  SQLite's text datetimes and 0/1 booleans, JSON);
- Django's cursor wrapper (``execute``): execute wrappers, ``DEBUG`` query logging, test query capture
  and error translation (``IntegrityError``) work as for any query.

What they add: on PostgreSQL the cursor binds parameters on the server, so psycopg prepares these fixed
statements after a few uses on a connection (``prepare_threshold``, the ``DB_PREPARED_STATEMENTS``
setting) and PostgreSQL stops parsing and planning them on every call. Django's own cursors bind on the
client, where nothing can be prepared.
"""

import operator
from asyncio import _get_running_loop
from datetime import datetime
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections, models


# The default database, looked up once per call: every attribute read on ``django.db.connection`` goes
# through a context-local lookup, and on a hot path they add up.
def db():
    return connections[DEFAULT_DB_ALIAS]


def quote(name: str) -> str:
    return db().ops.quote_name(name)


def table(model) -> str:
    return quote(model._meta.db_table)


def column(model, name: str) -> str:
    return quote(model._meta.get_field(name).column)


def _fields(model, names: tuple[str, ...] | None) -> list:
    if names is None:
        return list(model._meta.concrete_fields)
    return [model._meta.get_field(name) for name in names]


def columns(model, alias: str | None = None, names: tuple[str, ...] | None = None) -> str:
    """``[alias.]col, ...`` for the fields ``names`` of ``model`` (default: every concrete field, in
    ``from_db`` order)."""
    prefix = f"{quote(alias)}." if alias else ""
    return ", ".join(f"{prefix}{quote(f.column)}" for f in _fields(model, names))


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def for_update(of: str | None = None) -> str:
    """`` FOR NO KEY UPDATE`` where the backend has row locks; nothing on SQLite, whose IMMEDIATE
    transactions serialise writers instead. NO KEY: our hot paths never change a key, and a plain FOR
    UPDATE would also block the KEY SHARE locks that foreign-key checks take when rows pointing at the
    locked one are inserted (the check-in race tests found a deadlock that way). ``of``: lock only the
    rows of this alias (a join that merely reads another table)."""
    conn = db()
    if not conn.features.has_select_for_update:
        return ""
    return " " + conn.ops.for_update_sql(no_key=True, of=(quote(of),) if of else ())


@cache
def _converters(model, names, vendor: str) -> list[tuple[int, object, list]]:
    """(position, column, converters) of the fields whose raw database value needs converting, found as
    the ORM's compiler finds them (the backend's converters first, then the field's own)."""
    conn, found = db(), []
    for i, field in enumerate(_fields(model, names)):
        col = field.get_col(model._meta.db_table)
        funcs = conn.ops.get_db_converters(col) + col.get_db_converters(conn)
        if funcs:
            found.append((i, col, funcs))
    return found


def convert(model, values, names: tuple[str, ...] | None = None) -> list:
    """One row's values of ``columns(model, ..., names)`` as the ORM would hand them out."""
    conn, values = db(), list(values)
    for i, col, funcs in _converters(model, names, conn.vendor):
        for func in funcs:
            values[i] = func(values[i], col, conn)
    return values


def build(model, values, names: tuple[str, ...] | None = None):
    """A ``model`` instance from one row's values of ``columns(model, ..., names)``; fields left out of
    ``names`` load on first access, as with ``only()``."""
    field_names = None if names is None else [f.attname for f in _fields(model, names)]
    return model.from_db(DEFAULT_DB_ALIAS, field_names, convert(model, values, names))


def split(row, *models) -> list:
    """Instances of ``models`` from one row that selected ``columns`` of each, in that order."""
    found, start = [], 0
    for model in models:
        end = start + len(model._meta.concrete_fields)
        found.append(build(model, row[start:end]))
        start = end
    return found


@cache
def _locked_row_sql(model, where: str) -> str:
    return f"SELECT {columns(model, 'r')} FROM {table(model)} r WHERE {where}{for_update()}"


def locked_row(model, where: str, params):
    """The row of ``model`` that ``where`` selects (over the alias ``r``; a unique key, so at most one),
    locked for the rest of the transaction (``for_update``), as a model instance; None if there is none."""
    found = fetch(_locked_row_sql(model, where), params)
    return build(model, found[0]) if found else None


def prep(model, name: str, value):
    """``value`` of field ``name`` as the ORM would send it in an INSERT or UPDATE."""
    return model._meta.get_field(name).get_db_prep_save(value, db())


def execute(sql: str, params):
    """Run ``sql`` through a Django cursor wrapper and return the wrapper, ready to fetch from.

    On PostgreSQL the psycopg cursor underneath binds on the server (so psycopg can prepare the
    statement); it is kept with its connection and reused, since creating one per statement was a
    measurable part of a ledger write.
    """
    wrapper = _wrapper(db())
    wrapper.execute(sql, params)
    return wrapper


def _wrapper(conn):
    if conn.vendor != "postgresql":
        wrapper = conn.cursor()
    else:
        raw, kept = conn.connection, getattr(conn, "_plaudit_server_cursor", None)
        if (raw is None or kept is None or kept[0] is not raw or not conn.health_check_done
                or _get_running_loop() is not None):
            # As Django's own cursors do: a kept connection the server dropped is replaced before the
            # request's first statement (CONN_HEALTH_CHECKS; a no-op once checked in this request), a
            # missing one is opened, and an event loop in this thread is refused (async_unsafe).
            # Once a request has checked its connection and has its cursor, none of that can change
            # until the next request (which clears ``health_check_done``) or a close (``connection``
            # None): the statements after the first skip straight to the thread check.
            conn.close_if_health_check_failed()
            conn.ensure_connection()
            raw = conn.connection
            kept = getattr(conn, "_plaudit_server_cursor", None)
            if kept is None or kept[0] is not raw:
                import psycopg

                kept = conn._plaudit_server_cursor = (raw, psycopg.Cursor(raw))
        conn.validate_thread_sharing()
        wrapper = conn.make_debug_cursor(kept[1]) if conn.queries_logged else conn.make_cursor(kept[1])
    return wrapper


def fetch(sql: str, params) -> list[tuple]:
    wrapper = execute(sql, params)
    # What ``wrapper.fetchall()`` does (the wrapper hands out fetchall inside its database-error
    # translation), without building that wrapped function for every statement.
    with wrapper.db.wrap_database_errors:
        return wrapper.cursor.fetchall()


@cache
def _insert_names(model) -> tuple[str, ...]:
    return tuple(f.name for f in model._meta.concrete_fields if not f.primary_key)


@cache
def _insert_sql(model, names: tuple[str, ...], count: int) -> str:
    row = f"({placeholders(len(names))})"
    return (f"INSERT INTO {table(model)} ({columns(model, names=names)}) VALUES {', '.join([row] * count)} "
            f"RETURNING {quote(model._meta.pk.column)}")


_INTEGER_FIELDS = (models.IntegerField, models.BigIntegerField, models.SmallIntegerField,
                   models.PositiveIntegerField, models.PositiveBigIntegerField, models.PositiveSmallIntegerField)
_TEXT_FIELDS = (models.CharField, models.TextField)
_AUTO_FIELDS = (models.AutoField, models.BigAutoField, models.SmallAutoField)


def _preparer(field):
    """``field.get_db_prep_save`` for the values the hot paths write, without its chain of calls.

    Only for Django's own field classes (exactly those: a subclass may prepare differently) and only
    for plain values: exact ``int`` for integer fields and foreign keys to an auto primary key, ``str``
    for text, exact ``bool``, aware ``datetime``, ``None``. What it returns is what the field's own
    chain returns for them (the backend's integer and datetime adapters, ``validate_autopk_value``;
    tests/test_sql_prep.py compares both). Anything else, and every other field class (JSON, decimals,
    ...), goes through ``get_db_prep_save`` itself."""
    slow, kind = field.get_db_prep_save, type(field)
    if kind in _TEXT_FIELDS:
        return lambda v, conn: v if v is None or isinstance(v, str) else slow(v, conn)
    if kind in _INTEGER_FIELDS:
        internal = field.get_internal_type()
        return lambda v, conn: (None if v is None else conn.ops.adapt_integerfield_value(v, internal)
                                if type(v) is int else slow(v, conn))
    if kind is models.BooleanField:
        return lambda v, conn: v if v is None or type(v) is bool else slow(v, conn)
    if kind is models.DateTimeField:
        return lambda v, conn: (None if v is None else conn.ops.adapt_datetimefield_value(v)
                                if type(v) is datetime and v.utcoffset() is not None else slow(v, conn))
    if kind in (models.ForeignKey, models.OneToOneField) and type(field.target_field) in _AUTO_FIELDS:
        return lambda v, conn: (None if v is None else conn.ops.validate_autopk_value(v)
                                if type(v) is int else slow(v, conn))
    return slow


def _reader(field):
    """``field.pre_save(obj, True)``: the attribute itself unless the field computes it (``auto_now``)."""
    own = type(field).pre_save
    plain = own is models.Field.pre_save or (
        own in (models.DateField.pre_save, models.DateTimeField.pre_save)
        and not field.auto_now and not field.auto_now_add)
    if plain:
        return operator.attrgetter(field.attname)
    return lambda obj: field.pre_save(obj, True)


@cache
def _writers(model, names: tuple[str, ...]) -> list:
    return [(_reader(f), _preparer(f)) for f in _fields(model, names)]


def prepared(objs: list, names: tuple[str, ...]) -> list:
    """The parameters ``save()`` would send for the fields ``names`` of ``objs`` (one model), in order."""
    conn, writers = db(), _writers(type(objs[0]), names)
    return [prep(read(obj), conn) for obj in objs for read, prep in writers]


def insert(objs: list, names: tuple[str, ...] | None = None) -> list:
    """INSERT unsaved instances of one model in one statement, as ``save()`` would write the fields
    ``names`` (default: every concrete field but the primary key; ``pre_save`` first, so ``auto_now``
    and the like apply), and set their primary keys. No signals, no ``save()`` overrides: only for
    models that have neither."""
    model, conn = type(objs[0]), db()
    names = names or _insert_names(model)
    params = prepared(objs, names)
    rows = fetch(_insert_sql(model, names, len(objs)), params)
    for obj, (pk,) in zip(objs, rows, strict=True):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, conn.alias
    return objs