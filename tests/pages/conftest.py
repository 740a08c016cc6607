"""Browser fixtures for the page tests: one page per viewport (desktop and phone), a login, and an
axe-core accessibility check."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Permission

from checkin.models import CheckinList, Event, Organizer, OrganizerMembership, Ticket

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(params=list(VIEWPORTS))
def sized(request, chromium, live_server):
    """A page at desktop (1366×900) or phone (390×844) size; ``sized.size`` says which."""
    context = chromium.new_context(base_url=live_server.url, **VIEWPORTS[request.param])
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.size = request.param
    yield tab
    context.close()


@pytest.fixture
def sign_in(sized):
    def do(username: str, password: str = "pw-for-tests", next_url: str = "/"):
        sized.goto(f"/accounts/login/?next={next_url}")
        sized.fill("input[name=username]", username)
        sized.fill("input[name=password]", password)
        sized.click("main button[type=submit]")
        sized.wait_for_load_state("networkidle")
        return sized

    return do


def assert_accessible(page) -> None:
    """axe-core on the page as it is now: no serious or critical violation."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed (run `make static`)")
    page.evaluate(AXE.read_text())
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                          ".filter(v => ['serious', 'critical'].includes(v.impact))"
                          ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))")
    assert found == [], found


@pytest.fixture
def organizer(db):
    return Organizer.objects.create(name="Org", slug="org")


@pytest.fixture
def clist(organizer):
    event = Event.objects.create(organizer=organizer, name="Conf", slug="conf")
    return CheckinList.objects.create(event=event, name="Main", attendance_points=0)


@pytest.fixture
def ticket(clist):
    return Ticket.objects.create(event=clist.event, order_code="ORD0001", attendee_name="Jana Nováková",
                                 ticket_type="Day pass")


@pytest.fixture
def door_user(make_user, organizer):
    user = make_user("door")
    OrganizerMembership.objects.create(organizer=organizer, user=user, can_checkin=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["award_points"]))
    return user
