"""Django's PostgreSQL backend with a health check that costs no round trip while the connection is fine.

``CONN_HEALTH_CHECKS`` makes Django run ``SELECT 1`` at the start of every request that reuses a kept
connection, so that one PostgreSQL dropped (a restart, a failover, ``pg_terminate_backend``) is replaced
instead of failing the request. That is one more round trip on every request: on the door's bare floor
(a token lookup and nothing else) it doubled the statements and cost about 0.2–0.4 ms of the request's
2–3 ms (BENCHMARKS.md, "The common request path").

A connection that the server dropped while it sat idle between two requests tells us so on its socket:
PostgreSQL sends an ErrorResponse ("terminating connection due to administrator command") and closes it,
and a network cut seen by the kernel shows as an error or hang-up. So an idle, kept connection whose
socket has nothing to read and no error is used as it is; anything else (something to read, an error, a
connection psycopg already knows is closed or broken, one left in a transaction) still gets Django's
``SELECT 1``, and is replaced if that fails. A connection lost silently (a cable cut the kernel has not
noticed) passes either check's first look only to fail on its first statement, where
``DatabaseUnavailableMiddleware`` answers 503; Django's ``SELECT 1`` would have hung on it the same way.
"""

import select

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq

_READY = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


def looks_healthy(connection) -> bool:
    """True when the psycopg ``connection`` is open, idle and has nothing waiting on its socket."""
    if connection.closed or connection.broken:
        return False
    pgconn = connection.pgconn
    if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    try:
        poller = select.poll()
        poller.register(pgconn.socket, _READY)
        return not poller.poll(0)
    except (OSError, ValueError, psycopg.Error):  # no socket: let the real check decide
        return False


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if (self.connection is not None and self.health_check_enabled and not self.health_check_done
                and looks_healthy(self.connection)):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
