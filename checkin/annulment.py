"""pretix's annulment (``checkinrpc/annul``): a successful scan that did not happen (a turnstile that did
not turn) stops counting. The scan log's one allowed update, made under the same locks as a scan
(``checkin.services``: the ticket, then its state row), after which the state row is rebuilt from the log.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from checkin.errors import AnnulRefused, InvalidPosition
from checkin.models import CheckinList, Scan, TicketListState
from checkin.services import ENTRY, R, lock_state, lock_ticket
from checkin.signals import checkin_annulled

ANNUL_WINDOW = timedelta(minutes=15)  # pretix's limit between a scan and its annulment


def _annul_target(*, lists: list[CheckinList], nonce: str, user, device) -> Scan:
    found = list(Scan.objects.filter(checkin_list__in=lists, nonce=nonce).select_related("checkin_list", "ticket")
                 .order_by("pk")[:2])
    if not found:
        raise InvalidPosition("No check-in with this nonce.", code="not_found")
    if len(found) > 1:
        raise AnnulRefused("Several check-ins have this nonce.")
    scan = found[0]
    # Only who made a scan can take it back: the same device, or the same person.
    mine = scan.device_id == device.pk if device is not None else (scan.device_id is None and
                                                                    scan.user_id == getattr(user, "pk", None))
    if not mine:
        raise AnnulRefused("This check-in was made by another scanner.")
    return scan


def _rebuild_state(ticket_id: int, clist: CheckinList, state: TicketListState) -> None:
    """The state row from the log (successful scans only), after a scan stopped counting."""
    scans = list(Scan.objects.filter(ticket_id=ticket_id, checkin_list=clist, successful=True)
                 .order_by("datetime", "id").values_list("type", "datetime"))
    entries = sum(1 for kind, _ in scans if kind == ENTRY)
    last = scans[-1] if scans else None
    TicketListState.objects.filter(pk=state.pk).update(
        inside=last is not None and last[0] == ENTRY, last_datetime=last[1] if last else state.last_datetime,
        entry_count=entries, exit_count=len(scans) - entries, modified=timezone.now())


@transaction.atomic
def annul(*, lists: list[CheckinList], nonce: str, at: datetime | None = None, user=None, device=None) -> Scan:
    """Take back a successful scan that did not happen (a turnstile that did not turn), within
    ``ANNUL_WINDOW`` of it and only by its own scanner. Under the ticket and state locks, as a scan."""
    at = at or timezone.now()
    scan = _annul_target(lists=lists, nonce=nonce, user=user, device=device)
    if scan.ticket_id is None or not scan.successful:
        raise AnnulRefused("This check-in was not successful.")
    lock_ticket(pk=scan.ticket_id, event_ids={scan.checkin_list.event_id})
    state = lock_state(ticket_id=scan.ticket_id, list_id=scan.checkin_list_id)
    if at - scan.datetime > ANNUL_WINDOW or at < scan.datetime - ANNUL_WINDOW:
        raise AnnulRefused("Too late to annul this check-in.")
    # Re-read under the locks: a racing annulment of the same scan matches no row here.
    if Scan.objects.filter(pk=scan.pk, successful=True).update(successful=False,
                                                               error_reason=R.ANNULLED) != 1:
        raise AnnulRefused("This check-in was already annulled.")
    scan.successful, scan.error_reason = False, R.ANNULLED
    _rebuild_state(scan.ticket_id, scan.checkin_list, state)
    checkin_annulled.send(sender=Scan, scan=scan, ticket=scan.ticket, checkin_list=scan.checkin_list)
    return scan
