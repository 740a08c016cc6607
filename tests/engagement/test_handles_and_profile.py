"""Profile shapes of the club specification: a ``fan-<id>`` handle from the start, avatar URLs null
when unset, username suggestions, level colours."""

import importlib

import pytest
from django.apps import apps

from engagement import services
from engagement.models import Member

pytestmark = pytest.mark.django_db
PROFILE = "/api/v1/engagement/profile"


def test_every_member_has_a_fan_handle_from_the_start(member_api, member):
    body = member_api.get(PROFILE).json()
    assert body["username"] == f"fan-{member.user_id}" != ""
    assert (body["avatar_url"], body["animated_avatar_url"]) == (None, None)


def test_fan_handles_are_given_not_chosen(member_api, member, make_user):
    other = services.member_for_user(make_user("bob"))
    taken = member_api.patch(PROFILE, {"username": f"fan-{other.user_id + 100}"}, format="json")
    assert (taken.status_code, taken.json()["code"]) == (400, "username_reserved")
    assert member_api.patch(PROFILE, {"username": "real-fan"}, format="json").status_code == 200
    back = member_api.patch(PROFILE, {"username": f"fan-{member.user_id}"}, format="json")
    assert back.status_code == 200 and back.json()["username"] == f"fan-{member.user_id}"


def test_leaderboard_rows_show_the_handle_and_null_avatars(api, member):
    services.award(member=member, reason="manual", points=5)
    row = api.get("/api/v1/engagement/leaderboard").json()["items"][0]
    assert (row["username"], row["avatar_url"], row["animated_avatar_url"]) == (f"fan-{member.user_id}", None, None)


def test_the_migration_gives_handles_to_members_without_one(member, make_user):
    other = services.member_for_user(make_user("bob"))
    squatter = services.member_for_user(make_user("carol"))
    Member.objects.filter(pk=member.pk).update(username="")
    Member.objects.filter(pk=other.pk).update(username="")
    # Chosen before fan-<id> was reserved: bob's default is taken, bob gets fan-<user id>-<member id>.
    Member.objects.filter(pk=squatter.pk).update(username=f"fan-{other.user_id}")
    importlib.import_module("engagement.migrations.0008_default_handles").forwards(apps, None)
    handles = dict(Member.objects.values_list("pk", "username"))
    assert handles[member.pk] == f"fan-{member.user_id}"
    assert handles[other.pk] == f"fan-{other.user_id}-{other.pk}"
    assert handles[squatter.pk] == f"fan-{other.user_id}"


SUGGEST = "/api/v1/engagement/username-suggestions"


def test_suggestions_come_from_the_accounts_names_and_follow_every_rule(member_api, user, make_user):
    user.first_name, user.last_name = "Jiří", "Nováček"
    user.save()
    taken = services.member_for_user(make_user("taken"))
    Member.objects.filter(pk=taken.pk).update(username="jiri.novacek")
    suggestions = member_api.get(SUGGEST).json()["suggestions"]
    assert suggestions[:3] == ["jiri-novacek", "jiri_novacek", "jnovacek"]
    assert "jiri.novacek" not in suggestions and len(suggestions) == 5
    for name in suggestions:  # each one is accepted as it stands
        assert member_api.patch(PROFILE, {"username": name}, format="json").status_code == 200


@pytest.mark.parametrize(("first", "last", "expected_first"), [
    ("Ann", "", "ann"),
    ("Ó", "Ř", "o.r"),          # too short alone: the pair still makes a valid name
    ("", "", "fan"),            # nothing to go on: numbered fan names
    ("Admin", "", "admin"),     # reserved, so only the numbered ones come back
])
def test_suggestions_for_odd_names_are_still_valid(member_api, first, last, expected_first):
    suggestions = member_api.get(SUGGEST, {"first_name": first, "last_name": last}).json()["suggestions"]
    assert suggestions and all(3 <= len(s) <= 32 for s in suggestions)
    assert suggestions[0].startswith(expected_first)
    assert "admin" not in suggestions


def test_suggestions_need_a_login(api):
    assert api.get(SUGGEST).status_code == 401


@pytest.mark.parametrize(("xp", "level", "title", "color"), [
    (0, 1, "Beginner", "#6b7280"),
    (1000, 5, "Newcomer", "#15803d"),
    (4500, 10, "Active member", "#1d4ed8"),
    (19000, 20, "Veteran", "#7e22ce"),
    (43500, 30, "Expert", "#c2410c"),
    (122500, 50, "Master", "#b91c1c"),
    (495000, 100, "Legend", "#a16207"),
])
def test_each_title_tier_has_its_colour_in_the_api(member_api, api, member, xp, level, title, color):
    if xp:
        services.award(member=member, reason="manual", points=1, xp=xp)
    body = member_api.get(PROFILE).json()
    assert (body["level"], body["level_title"], body["level_color"]) == (level, title, color)
    row = api.get("/api/v1/engagement/leaderboard?metric=xp").json()["items"]
    assert not xp or (row[0]["level"], row[0]["level_color"]) == (level, color)


def test_the_badge_wears_the_tier_colour(client, user, member):
    services.award(member=member, reason="manual", points=1, xp=4500)
    client.force_login(user)
    # The page script paints it (static/js/fanzone.js): no inline style under the Content-Security-Policy.
    assert '<span class="badge fz-level" data-level-color="#1d4ed8">' in client.get("/me/").content.decode()
