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

from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections


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
    conn = db()
    if conn.vendor != "postgresql":
        wrapper = conn.cursor()
    else:
        # As Django's own cursors do: a kept connection the server dropped is replaced before the
        # request's first statement (CONN_HEALTH_CHECKS; a no-op once checked in this request).
        conn.close_if_health_check_failed()
        conn.ensure_connection()
        conn.validate_thread_sharing()
        raw = conn.connection
        kept = getattr(conn, "_plaudit_server_cursor", None)
        if kept is None or kept[0] is not raw:
            import psycopg

            kept = conn._plaudit_server_cursor = (raw, psycopg.Cursor(raw))
        wrapper = conn.make_debug_cursor(kept[1]) if conn.queries_logged else conn.make_cursor(kept[1])
    wrapper.execute(sql, params)
    return wrapper


def fetch(sql: str, params) -> list[tuple]:
    return execute(sql, params).fetchall()


@cache
def _insert_sql(model, names: tuple[str, ...], count: int) -> str:
    row = f"({placeholders(len(names))})"
    return (f"INSERT INTO {table(model)} ({columns(model, names=names)}) VALUES {', '.join([row] * count)} "
            f"RETURNING {quote(model._meta.pk.column)}")


def insert(objs: list, names: tuple[str, ...] | None = None) -> list:
    """INSERT unsaved instances of one model in one statement, as ``save()`` would write the fields
    ``names`` (default: every concrete field but the primary key; ``pre_save`` first, so ``auto_now``
    and the like apply), and set their primary keys. No signals, no ``save()`` overrides: only for
    models that have neither."""
    model, conn = type(objs[0]), db()
    names = names or tuple(f.name for f in model._meta.concrete_fields if not f.primary_key)
    fields = _fields(model, names)
    params = [f.get_db_prep_save(f.pre_save(obj, True), conn) for obj in objs for f in fields]
    rows = fetch(_insert_sql(model, names, len(objs)), params)
    for obj, (pk,) in zip(objs, rows, strict=True):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, conn.alias
    return objs