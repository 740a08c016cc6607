"""Event-driven awards: check-in entries pay AwardRules once per ticket per list (or per day)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from checkin import services as checkin
from checkin.models import CheckinList, Event, Organizer, Ticket
from config.models import OutboxTask
from engagement.models import EarningRule, LedgerEntry
from points_bridge import rules
from points_bridge.models import AwardRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def clist(db):
    organizer = Organizer.objects.create(name="Club", slug="club")
    event = Event.objects.create(organizer=organizer, name="Conf", slug="conf")
    return CheckinList.objects.create(event=event, name="Main entrance", attendance_points=10,
                                      allow_multiple_entries=True)


@pytest.fixture
def ticket(clist, member):
    return Ticket.objects.create(event=clist.event, order_code="A1", member=member)


def scan(ticket, clist, *, type="entry", nonce=None, at=None, capture=None):
    req = checkin.ScanRequest(type=type, nonce=nonce, at=at)
    with capture(execute=True):
        return checkin.redeem(secret=ticket.secret, lists=[clist], req=req)


@pytest.fixture
def do_scan(django_capture_on_commit_callbacks):
    def run(ticket, clist, **kwargs):
        return scan(ticket, clist, capture=django_capture_on_commit_callbacks, **kwargs)

    return run


def test_an_entry_pays_the_lists_attendance_points_once(do_scan, ticket, clist, member):
    AwardRule.objects.create(name="Attendance", checkin_list=clist)
    result = do_scan(ticket, clist)
    assert result.ok
    entry = LedgerEntry.objects.get(member=member)
    assert (entry.points, entry.xp, entry.reason) == (10, 10, "checkin")
    assert entry.meta["scan_id"] == result.scan.pk
    do_scan(ticket, clist, type="exit")
    do_scan(ticket, clist)  # a second entry on the same list: already paid
    assert LedgerEntry.objects.filter(member=member).count() == 1
    member.refresh_from_db()
    assert member.points == 10


def test_a_replayed_nonce_pays_nothing_more(do_scan, ticket, clist, member):
    AwardRule.objects.create(name="Attendance", checkin_list=clist)
    do_scan(ticket, clist, nonce="n-1")
    do_scan(ticket, clist, nonce="n-1")
    assert LedgerEntry.objects.filter(member=member).count() == 1


def test_running_the_task_again_is_a_replay(do_scan, ticket, clist, member):
    AwardRule.objects.create(name="Attendance", checkin_list=clist)
    scan_id = do_scan(ticket, clist).scan.pk
    again = rules.apply_checkin_rules(scan_id=scan_id)
    assert len(again) == 1 and again[0].replayed
    assert LedgerEntry.objects.filter(member=member).count() == 1


def test_once_per_day_pays_again_the_next_day(do_scan, ticket, clist, member):
    AwardRule.objects.create(name="Daily", checkin_list=clist, points=3, xp=1,
                             once=AwardRule.Once.PER_TICKET_LIST_DAY)
    today = timezone.now()
    do_scan(ticket, clist, at=today)
    do_scan(ticket, clist, at=today + timedelta(minutes=1))
    do_scan(ticket, clist, at=today + timedelta(days=1))
    assert list(LedgerEntry.objects.filter(member=member).values_list("points", "xp")) == [(3, 1), (3, 1)]


def test_rules_for_any_list_inactive_rules_and_zero_points(do_scan, ticket, clist, member):
    AwardRule.objects.create(name="Off", checkin_list=clist, points=50, active=False)
    clist.attendance_points = 0
    clist.save()
    AwardRule.objects.create(name="Every list, list's points")  # 0 points on this list: nothing
    do_scan(ticket, clist)
    assert LedgerEntry.objects.count() == 0
    AwardRule.objects.create(name="Every list, fixed", points=4)
    do_scan(ticket, clist, at=timezone.now() + timedelta(seconds=1))
    assert list(LedgerEntry.objects.values_list("points", flat=True)) == [4]


def test_tickets_without_a_member_and_exits_and_refusals_pay_nothing(do_scan, clist, member):
    AwardRule.objects.create(name="Attendance")
    anonymous = Ticket.objects.create(event=clist.event, order_code="B2", attendee_email=member.user.email)
    assert do_scan(anonymous, clist).ok
    revoked = Ticket.objects.create(event=clist.event, order_code="C3", member=member, status="revoked")
    assert not do_scan(revoked, clist).ok
    assert LedgerEntry.objects.count() == 0


def test_an_earning_rule_cap_on_checkins_is_respected(do_scan, clist, member):
    EarningRule.objects.create(reason="checkin", points=1, xp=1, daily_cap=1)
    AwardRule.objects.create(name="Attendance")
    for code in ("T1", "T2"):
        do_scan(Ticket.objects.create(event=clist.event, order_code=code, member=member), clist)
    assert LedgerEntry.objects.filter(member=member).count() == 1


def test_only_lists_with_rules_enqueue_the_task(ticket, clist):
    def enqueued() -> int:
        checkin.redeem(secret=ticket.secret, lists=[clist], req=checkin.ScanRequest())
        return OutboxTask.objects.filter(task="points_bridge.tasks.award_checkin").count()

    assert enqueued() == 0
    AwardRule.objects.create(name="Attendance", checkin_list=clist)
    assert enqueued() == 1  # the positive control: the check above can see an enqueued task
