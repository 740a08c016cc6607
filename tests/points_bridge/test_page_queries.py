"""Query parameters of the big-screen board and the printable claim sheet (issue 10): a value that is
not a number is a JSON 400 ``invalid_query`` (``"²".isdigit()`` is true but ``int("²")`` fails: a 500
before); a number out of range is clamped, so a bookmarked URL keeps working."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from points_bridge.models import ClaimTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user):
    user = make_user("door")
    user.user_permissions.add(Permission.objects.get(codename="view_claimtemplate"))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("query", ["limit=²", "refresh=²", "limit=abc", "refresh=-1", "limit=1.5"])
def test_a_board_option_that_is_not_a_number_is_a_json_400(query):
    response = Client().get(f"/board/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "invalid_query"


def test_board_numbers_out_of_range_are_clamped():
    page = Client().get("/board/?limit=100000000000000000000&refresh=0000000000000000000000099999").content.decode()
    assert 'data-refresh="3600"' in page


def test_a_nul_in_the_board_activity_is_a_json_400():
    response = Client().get("/board/?activity=a%00b")
    assert response.status_code == 400 and response.json()["code"] == "invalid_characters"


@pytest.mark.parametrize("ids", ["²", "1,²", "abc", "1;2", "-1"])
def test_claim_sheet_ids_that_are_not_numbers_are_a_json_400(staff, ids):
    response = staff.get(f"/staff/claim-sheet/?ids={ids}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_query"


def test_claim_sheet_skips_empty_items_and_ids_beyond_bigint(staff):
    template = ClaimTemplate.objects.create(name="Booth A", points=5)
    sheet = staff.get(f"/staff/claim-sheet/?ids=,{template.pk},,99999999999999999999")
    assert sheet.status_code == 200 and sheet.content.count(b"<svg") == 1
