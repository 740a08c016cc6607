"""Event-driven awards: AwardRule rows turn other apps' events (today: check-in entries) into ledger
entries, through engagement.services.award, keyed so a replayed event never pays twice."""

import logging

from django.db.models import Q, QuerySet
from django.utils import timezone

from engagement import services
from engagement.errors import CapReached, IdempotencyConflict, MemberBanned
from engagement.models import LedgerEntry
from points_bridge.models import AwardRule

logger = logging.getLogger(__name__)
CHECKIN_REASON = "checkin"


def rules_for_checkin(*, checkin_list_id: int) -> QuerySet[AwardRule]:
    return AwardRule.objects.filter(active=True, source=AwardRule.Source.CHECKIN_ENTRY).filter(
        Q(checkin_list_id=checkin_list_id) | Q(checkin_list__isnull=True)
    )


def checkin_key(*, rule: AwardRule, scan) -> str:
    key = f"bridge:checkin:{rule.pk}:{scan.ticket_id}:{scan.checkin_list_id}"
    if rule.once == AwardRule.Once.PER_TICKET_LIST_DAY:
        key += f":{timezone.localdate(scan.datetime).isoformat()}"
    return key


def _award_for(rule: AwardRule, scan) -> LedgerEntry | None:
    points = rule.points if rule.points is not None else max(scan.checkin_list.attendance_points, 0)
    xp = points if rule.xp is None else rule.xp
    if points == 0 and xp == 0:
        return None
    meta = {"description": f"Check-in: {scan.checkin_list.name}", "scan_id": scan.pk, "ticket_id": scan.ticket_id,
            "checkin_list_id": scan.checkin_list_id, "rule_id": rule.pk}
    try:
        return services.award(member=scan.ticket.member, reason=CHECKIN_REASON, points=points, xp=xp,
                              activity=rule.activity, meta=meta, idempotency_key=checkin_key(rule=rule, scan=scan))
    except (CapReached, MemberBanned) as exc:
        # The scan stands (the door let them in); only the points are refused, and not paid later.
        logger.info("check-in award for scan %s not paid: %s", scan.pk, exc.code)
    except IdempotencyConflict:
        # Already paid under this key, but the rule's amounts were edited since: still paid once.
        logger.info("check-in award for scan %s was paid before with other amounts", scan.pk)
    return None


def apply_checkin_rules(*, scan_id: int) -> list[LedgerEntry]:
    """Pay every matching active rule for one successful entry scan. Safe to run again: each rule's
    key makes a second run a replay. Returns the entries (new or replayed)."""
    from checkin.models import Scan

    scan = (
        Scan.objects.select_related("ticket__member", "checkin_list")
        .filter(pk=scan_id, successful=True, type=Scan.Type.ENTRY)
        .first()
    )
    if scan is None or scan.ticket is None or scan.ticket.member is None:
        return []
    entries = [_award_for(rule, scan) for rule in rules_for_checkin(checkin_list_id=scan.checkin_list_id)]
    return [e for e in entries if e is not None]
