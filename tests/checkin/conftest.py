import pytest
from rest_framework.test import APIClient

from checkin import devices, items
from checkin.models import CheckinList, Device, Event, Organizer, OrganizerMembership, Ticket
from checkin.services import ScanRequest, redeem


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Users are created in most tests here; PBKDF2 would dominate their run time on a busy machine.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_item_cache():
    # checkin.items caches ticket-type ids per process; each test's database starts empty again.
    items.forget()
    yield
    items.forget()


@pytest.fixture
def organizer(db):
    return Organizer.objects.create(name="Org", slug="org")


@pytest.fixture
def event(organizer):
    return Event.objects.create(organizer=organizer, name="Conf", slug="conf")


@pytest.fixture
def clist(event):
    return CheckinList.objects.create(event=event, name="Main", attendance_points=5)


@pytest.fixture
def make_ticket(event):
    counter = iter(range(1, 100_000))

    def make(**fields):
        n = next(counter)
        fields.setdefault("order_code", f"ORD{n:04d}")
        fields.setdefault("attendee_name", f"Attendee {n}")
        return Ticket.objects.create(event=fields.pop("event", event), **fields)

    return make


@pytest.fixture
def ticket(make_ticket):
    return make_ticket(attendee_name="Jana Nováková", attendee_email="jana@example.org")


@pytest.fixture
def scan(clist):
    """Scan a ticket on ``clist`` through the service: ``scan(ticket, "entry", force=..., ...)``."""

    def do(ticket, type="entry", *, lists=None, **req):
        return redeem(secret=ticket.secret, lists=lists or [clist], req=ScanRequest(type=type, **req))

    return do


@pytest.fixture
def door_user(make_user, organizer):
    user = make_user("door")
    OrganizerMembership.objects.create(organizer=organizer, user=user, can_checkin=True)
    return user


@pytest.fixture
def manager_user(make_user, organizer):
    user = make_user("manager")
    OrganizerMembership.objects.create(organizer=organizer, user=user, can_checkin=True, can_manage=True)
    return user


@pytest.fixture
def door_api(door_user):
    client = APIClient()
    client.force_authenticate(door_user)
    return client


@pytest.fixture
def manager_api(manager_user):
    client = APIClient()
    client.force_authenticate(manager_user)
    return client


@pytest.fixture
def base(organizer, event):
    return f"/api/v1/organizers/{organizer.slug}/events/{event.slug}/"


@pytest.fixture
def redeem_url(organizer):
    return f"/api/v1/organizers/{organizer.slug}/checkinrpc/redeem/"


@pytest.fixture
def device_api(organizer, event):
    """A scanner app set up for ``event`` through ``device/initialize``; ``client.device`` is its Device."""
    issued = devices.create_device(organizer=organizer, name="Door 1", events=[event])
    body = APIClient().post("/api/v1/device/initialize", {"token": issued.token, "hardware_brand": "Samsung",
                            "hardware_model": "Galaxy S", "software_brand": "pretixdroid",
                            "software_version": "4.0.0"}, format="json").json()
    client = APIClient(HTTP_AUTHORIZATION=f"Device {body['api_token']}")
    client.device = Device.objects.get(pk=issued.device.pk)
    return client


@pytest.fixture
def org_url(organizer):
    return f"/api/v1/organizers/{organizer.slug}/"
