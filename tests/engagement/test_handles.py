"""A handle never impersonates another account: the board shows handles, or login names when empty."""

import pytest

from engagement import leaderboards, services
from engagement.models import Member

pytestmark = pytest.mark.django_db
PROFILE = "/api/v1/engagement/profile"


@pytest.mark.parametrize("handle", ["bob", "BOB", " Bob "])
def test_a_member_cannot_take_another_users_login_name(member_api, member, make_user, handle):
    make_user("Bob")
    response = member_api.patch(PROFILE, {"username": handle}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "handle_taken")
    member.refresh_from_db()
    assert member.username == f"fan-{member.user_id}"  # unchanged: the club's default handle


def test_a_member_may_take_their_own_login_name(member_api, member):
    response = member_api.patch(PROFILE, {"username": "ALICE"}, format="json")
    assert (response.status_code, response.json()["username"]) == (200, "alice")


def test_another_members_handle_is_still_username_taken(member_api, make_user):
    Member.objects.filter(pk=services.member_for_user(make_user("bob")).pk).update(username="bobby")
    response = member_api.patch(PROFILE, {"username": "bobby"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "username_taken")


def test_the_board_never_shows_two_members_under_one_name(member_api, member, make_user):
    bob = services.member_for_user(make_user("bob"))
    for who in (member, bob):
        services.award(member=who, reason="manual", points=5)
    assert member_api.patch(PROFILE, {"username": "bob"}, format="json").status_code == 409
    names = [row.member.display_name for row in leaderboards.leaderboard(limit=10).items]
    assert sorted(names) == sorted([f"fan-{member.user_id}", f"fan-{bob.user_id}"])  # two names, no "bob"
