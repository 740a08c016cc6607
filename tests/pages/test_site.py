"""Server-side checks of the site chrome: the Czech catalogue is complete, the error pages, the
navigation, the login landing, the JavaScript catalogue."""

import re
from pathlib import Path

import polib
import pytest
from django.test import Client, RequestFactory
from django.utils import translation
from django.views.defaults import server_error

from checkin.models import Organizer, OrganizerMembership

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "cs" / "LC_MESSAGES"


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_the_czech_catalogue_has_no_untranslated_or_fuzzy_message(domain):
    catalogue = polib.pofile(str(LOCALE / f"{domain}.po"))
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []
    assert (LOCALE / f"{domain}.mo").exists()


@pytest.mark.django_db
def test_points_words_are_not_all_moje_body(client, user):
    client.force_login(user)
    html = client.get("/me/", HTTP_ACCEPT_LANGUAGE="cs").content.decode()
    assert html.count("Moje body") == 1  # the header link only; "points" reads "body"
    assert ">body<" in html


@pytest.mark.django_db
def test_the_500_page_renders_without_a_request_context():
    with translation.override("en"):  # an earlier test's Czech request may have left its language active
        response = server_error(RequestFactory().get("/boom/"))
    assert response.status_code == 500
    assert b"Something went wrong" in response.content and b'class="topbar"' in response.content


@pytest.mark.django_db
def test_the_javascript_catalogue_speaks_czech():
    body = Client().get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="cs").content.decode()
    assert '"Checked in": "Odbaveno"' in body
    assert '"Saved offline": "Ulo\\u017eeno offline"' in body


@pytest.mark.django_db
def test_staff_see_their_links_and_door_staff_land_on_the_door(make_user):
    door = make_user("door")
    OrganizerMembership.objects.create(organizer=Organizer.objects.create(name="O", slug="o"), user=door,
                                       can_checkin=True)
    member = make_user("member")
    client = Client()
    response = client.post("/accounts/login/", {"username": "door", "password": "pw-for-tests", "next": ""})
    assert response["Location"] == "/door/"
    assert b'data-link="door"' in client.get("/me/points/").content
    other = Client()
    assert other.post("/accounts/login/", {"username": "member", "password": "pw-for-tests"})["Location"] == "/me/"
    assert b'data-link="door"' not in other.get("/me/points/").content
    assert member.pk


@pytest.mark.django_db
def test_the_login_page_says_why_it_was_shown():
    page = Client().get("/accounts/login/?next=/door/").content.decode()
    assert "Please log in to see that page." in page
    assert "Please log in" not in Client().get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_the_redemption_queue_opens_on_pending_and_the_index_counts_them(admin_client, member):
    from engagement.services import award
    from rewards import services
    from rewards.models import Reward

    award(member=member, reason="x", points=100)
    sticker = Reward.objects.create(name="Sticker", type="custom", cost_points=10)
    first, second = (services.redeem(member=member, reward_id=sticker.pk) for _ in range(2))
    services.approve(redemption_id=first.pk, actor=None)
    queue = admin_client.get("/admin/rewards/redemption/")
    assert [r.pk for r in queue.context["cl"].result_list] == [second.pk]
    assert "?status=all" in queue.content.decode()
    everything = admin_client.get("/admin/rewards/redemption/?status=all")
    assert everything.context["cl"].result_count == 2
    index = admin_client.get("/admin/").content.decode()
    assert "Plaudit administration" in index and 'id="pending-redemptions"' in index
    assert "Door check-in" in index and "Points and members" in index


def test_every_script_message_is_in_the_czech_javascript_catalogue():
    """A message added to a script without `makemessages -d djangojs` would silently stay English."""
    static = Path(__file__).resolve().parents[2] / "static" / "js"
    wanted = set()
    for script in static.glob("*.js"):
        source = script.read_text()
        wanted |= set(re.findall(r'\b(?:_|gettext)\("((?:[^"\\]|\\.)*)"\)', source))
        wanted |= set(re.findall(r'\bngettext\(\s*"((?:[^"\\]|\\.)*)"', source))
    known = {e.msgid for e in polib.pofile(str(LOCALE / "djangojs.po")) if e.translated()}
    assert wanted and sorted(wanted - known) == []


@pytest.mark.django_db
def test_the_overview_charts_have_every_day_of_the_month(admin_client, member):
    from engagement.services import award
    from rewards import services
    from rewards.models import Reward

    award(member=member, reason="x", points=100)
    sticker = Reward.objects.create(name="Sticker", type="custom", cost_points=10)
    services.redeem(member=member, reward_id=sticker.pk)
    page = admin_client.get("/admin/rewards/engagementoverview/")
    assert page.content.decode().count('id="overview-data"') == 1  # once, at the end of the content
    charts = page.context["charts"]
    assert len(charts["days"]) == 30 and sum(charts["redemptions"]) == 1 and charts["redemptions"][-1] == 1
    assert charts["issued"] == [100] and charts["spent"] == [10]
