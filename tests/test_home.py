import pytest

pytestmark = pytest.mark.django_db


def test_home_page_links_members_to_their_pages(client, make_user):
    client.force_login(make_user("dora"))
    page = client.get("/").content.decode()
    assert all(link in page for link in ('href="/me/"', 'href="/claim/"', 'href="/board/"'))
    assert 'href="/door/"' not in page


def test_home_page_shows_staff_their_tools(client, make_user):
    client.force_login(make_user("sam", is_staff=True))
    page = client.get("/").content.decode()
    assert 'href="/door/"' in page and 'href="/staff/attribution/"' in page


def test_home_page_offers_a_login_to_visitors(client):
    response = client.get("/")
    assert response.status_code == 200
    assert 'href="/accounts/login/"' in response.content.decode()
