"""Signals engagement sends to other apps. Each is part of the public API; receivers must not do I/O
inline: defer side effects with ``task.delay_on_commit`` (or ``transaction.on_commit``)."""

from django.dispatch import Signal

ledger_entry_posted = Signal()
"""Sent by the ledger services inside the transaction that wrote a new entry (never for replays).

Arguments: ``entry`` (the new ``LedgerEntry``) and ``member`` (the ``Member`` with its balances as
they are after the entry). Receivers may write their own rows in the same transaction (an outbox, for
example) so that they commit or roll back together with the entry."""
