"""Demo data of the engagement app (used by ``manage.py seed_demo``; idempotent)."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from engagement import seasons, services
from engagement.models import Activity, Season, Team

DEMO_PASSWORD = "demo"
ACTIVITIES = [("Opening keynote", "keynote", 101), ("Sponsor booths", "booths", 102), ("Workshops", "workshops", 103)]


def _user(username: str, *, first: str, last: str, superuser=False, staff=False):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"first_name": first, "last_name": last, "email": f"{username}@plaudit.localhost"},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
    user.is_superuser, user.is_staff = superuser, staff or superuser
    user.save()
    return user


def seed() -> dict:
    admin = _user("admin", first="Ada", last="Admin", superuser=True)
    staff = _user("staff", first="Sam", last="Staff", staff=True)
    alice = _user("alice", first="Alice", last="Novak")
    bob = _user("bob", first="Bob", last="Svoboda")
    door_staff, _ = Group.objects.get_or_create(name="Door and attribution staff")
    door_staff.permissions.add(*Permission.objects.filter(
        content_type__app_label="engagement", codename__in=["award_points", "view_member"]))
    staff.groups.add(door_staff)
    for name, slug, external_id in ACTIVITIES:
        Activity.objects.get_or_create(slug=slug, defaults={"name": name, "external_id": external_id})
    keynote = Activity.objects.get(slug="keynote")
    season = _season()
    for user, points in ((alice, 180), (bob, 120)):
        member = services.member_for_user(user)
        services.award(member=member, reason="demo_welcome", points=points, activity=keynote,
                       idempotency_key=f"demo:welcome:{user.username}")
    for user in (alice, bob):
        services.award(member=services.member_for_user(user), reason="comment_create",
                       idempotency_key=f"demo:comment:{user.username}")
    for user, team in ((alice, "owls"), (bob, "foxes")):
        member = services.member_for_user(user)
        if seasons.membership(season=season, member=member) is None:
            seasons.join_team(member=member, team=season.teams.get(slug=team), code="" if team == "owls" else "FOX")
    return {"admin": admin, "staff": staff, "alice": alice, "bob": bob, "season": season}


def _season() -> Season:
    """One running season (from a week ago, for eight weeks) with two teams, one with a join code."""
    season = Season.objects.filter(slug="demo-season").first()
    if season is None:
        today = seasons.today()
        season = seasons.save_season(season=Season(
            slug="demo-season", name="Demo season", starts=today - dt.timedelta(days=7),
            ends=today + dt.timedelta(days=49), prizes=[{"rank_to": 1, "points": 300, "xp": 100},
                                                        {"rank_to": 3, "points": 100, "xp": 0}]))
    Team.objects.get_or_create(season=season, slug="owls", defaults={"name": "Night Owls"})
    Team.objects.get_or_create(season=season, slug="foxes", defaults={"name": "Red Foxes", "join_code": "FOX"})
    return season
