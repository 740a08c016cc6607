"""Demo data of the checkin app (used by ``manage.py seed_demo`` after engagement's; idempotent)."""

from django.contrib.auth import get_user_model

from checkin.models import CheckinList, Event, Organizer, OrganizerMembership, Ticket
from engagement.services import member_for_user

FIRST = ["Jana", "Petr", "Eva", "Tomáš", "Lucie", "Martin", "Klára", "David", "Tereza", "Ondřej"]
LAST = ["Dvořák", "Černá", "Procházka", "Kučerová", "Veselý"]
TICKETS = 50


def _attendees():
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["alice", "bob"])}
    for i in range(1, TICKETS + 1):
        code = f"DEMO{i:04d}"
        linked = {1: "alice", 2: "bob"}.get(i)
        if linked and linked in users:
            user = users[linked]
            yield code, user.get_full_name() or user.username, user.email, member_for_user(user)
            continue
        name = f"{FIRST[i % len(FIRST)]} {LAST[i % len(LAST)]}"
        yield code, name, f"attendee{i}@plaudit.localhost", None


def seed() -> dict:
    organizer, _ = Organizer.objects.get_or_create(slug="demo", defaults={"name": "Demo Club"})
    event, _ = Event.objects.get_or_create(organizer=organizer, slug="demo-event", defaults={"name": "Demo Conference"})
    clist, _ = CheckinList.objects.get_or_create(event=event, name="Main entrance",
                                                 defaults={"attendance_points": 10})
    for code, name, email, member in _attendees():
        Ticket.objects.get_or_create(event=event, order_code=code, defaults={
            "attendee_name": name, "attendee_email": email, "member": member,
            "ticket_type": "VIP" if code.endswith(("5", "0")) else "General admission",
        })
    staff = get_user_model().objects.filter(username="staff").first()
    if staff is not None:
        OrganizerMembership.objects.update_or_create(organizer=organizer, user=staff, defaults={"can_checkin": True})
    return {"organizer": organizer, "event": event, "checkin_list": clist}
