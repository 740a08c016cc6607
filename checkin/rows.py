"""Hand-written SELECTs for the door's hot path, with their rows converted as the ORM would.

Why not the ORM: on a door scan, compiling each queryset (filters, joins, select_related) cost more
Python time than running it; a profile of one redeem put about 40 % of its CPU in Django's query
compiler. These helpers keep the SQL in plain view and portable (PostgreSQL and SQLite), and give back
what the ORM would: each value passed through the same database converters (SQLite's datetimes and
booleans, JSON), and whole rows built with ``Model.from_db``. Only the scan path (redeem, single
checkout) uses them; everything else stays on the ORM.
"""

from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections


# The default database, looked up once per call: every attribute read on ``django.db.connection`` goes
# through a context-local lookup, and on a path this hot they add up.
def db():
    return connections[DEFAULT_DB_ALIAS]


def _fields(model, names: tuple[str, ...] | None) -> list:
    if names is None:
        return list(model._meta.concrete_fields)
    return [model._meta.get_field(name) for name in names]


def columns(model, alias: str, names: tuple[str, ...] | None = None) -> str:
    """``alias.col, ...`` for the fields ``names`` of ``model`` (default: every concrete field, in
    ``from_db`` order)."""
    qn = db().ops.quote_name
    return ", ".join(f"{qn(alias)}.{qn(f.column)}" for f in _fields(model, names))


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


def build(model, values):
    """A ``model`` instance from one row's values of ``columns(model, ...)`` (every concrete field)."""
    return model.from_db(DEFAULT_DB_ALIAS, None, convert(model, values))


def split(row, *models) -> list:
    """Instances of ``models`` from one row that selected ``columns`` of each, in that order."""
    found, start = [], 0
    for model in models:
        end = start + len(model._meta.concrete_fields)
        found.append(build(model, row[start:end]))
        start = end
    return found


def table(model) -> str:
    return db().ops.quote_name(model._meta.db_table)


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def for_update() -> str:
    """The row lock the redeem path takes (NO KEY, see ``checkin.services``); nothing where the backend
    has no row locks (SQLite serialises writers with its IMMEDIATE transactions instead)."""
    conn = db()
    return " " + conn.ops.for_update_sql(no_key=True) if conn.features.has_select_for_update else ""


def execute(sql: str, params):
    """Run ``sql`` through a Django cursor wrapper (execute wrappers, query logging and error
    translation as usual) and return the wrapper, ready to fetch from.

    On PostgreSQL the psycopg cursor underneath binds parameters on the server, so psycopg prepares
    these fixed statements after a few uses on a connection (``prepare_threshold``, the
    DB_PREPARED_STATEMENTS setting) and PostgreSQL stops parsing and planning them on every scan: that
    halved the database's CPU per scan. Django's own cursors bind on the client, where nothing can be
    prepared. The cursor is kept with its connection and reused (as ``engagement.ledger_sql`` does).
    """
    conn = db()
    if conn.vendor != "postgresql":
        wrapper = conn.cursor()
    else:
        conn.ensure_connection()
        conn.validate_thread_sharing()
        raw = conn.connection
        kept = getattr(conn, "_checkin_cursor", None)
        if kept is None or kept[0] is not raw:
            import psycopg

            kept = conn._checkin_cursor = (raw, psycopg.Cursor(raw))
        wrapper = conn.make_debug_cursor(kept[1]) if conn.queries_logged else conn.make_cursor(kept[1])
    wrapper.execute(sql, params)
    return wrapper


def fetch(sql: str, params) -> list[tuple]:
    return execute(sql, params).fetchall()
