"""Signals the checkin app sends to other apps (part of its public API).

Receivers must not do I/O inline: defer side effects with ``task.delay_on_commit``.
"""

from django.dispatch import Signal

checkin_recorded = Signal()
"""Sent by ``checkin.services`` inside the transaction of every *successful* scan (entry or exit,
forced or not), never for refused scans or nonce replays.

Arguments:
``scan``: the new scan log row (``scan.pk`` is a stable key for "pay this scan once"; ``scan.type`` is
``"entry"`` or ``"exit"``; ``scan.datetime`` is when it happened at the door),
``ticket``: the scanned ticket (``ticket.member`` is the linked ``engagement.Member`` or None),
``checkin_list``: the list it was scanned on (``checkin_list.attendance_points``, may be 0)."""

checkin_annulled = Signal()
"""Sent by ``checkin.annulment.annul`` inside the transaction that annuls a successful scan (pretix's
``checkinrpc/annul``: a turnstile that did not turn). Arguments: ``scan`` (now ``successful = False``,
``error_reason = "annulled"``), ``ticket``, ``checkin_list``. Points paid for the scan are not taken back
by the checkin app; a receiver that wants that posts a compensating ledger entry keyed by ``scan.pk``."""
