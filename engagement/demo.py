"""Demo data of the engagement app (used by ``manage.py seed_demo``; idempotent)."""

from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from django.utils.translation import gettext_noop

from engagement import seasons, services, streaks
from engagement.achievement_catalog import SEEDED
from engagement.models import Achievement, AchievementCategory, Activity, Challenge, Season, Team

DEMO_PASSWORD = "demo"
WEEKLY_RULE = {"all": [{"type": "reason_count", "reason": "comment_create", "min": 5}, {"type": "checkins", "min": 2}]}
ACTIVITIES = [("Opening keynote", "keynote", 101), ("Sponsor booths", "booths", 102), ("Workshops", "workshops", 103)]
# slug, title, icon (titles go through gettext, like achievements')
CATEGORIES = [("community", gettext_noop("Community"), "💬"), ("streaks", gettext_noop("Streaks"), "🔥")]
# code, title, description, points (= XP), icon, days in a row
STREAK_MILESTONES = [
    ("streak_7", gettext_noop("Week in a row"), gettext_noop("Be active 7 days in a row."), 30, "🔥", 7),
    ("streak_30", gettext_noop("Month in a row"), gettext_noop("Be active 30 days in a row."), 150, "📅", 30),
]
ALICE_STREAK_DAYS = 5  # alice was active on each of the 5 days before today (and is today)


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
    _seed_categories_and_milestones()
    _seed_streak(services.member_for_user(alice))
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
    weekly_challenge()
    return {"admin": admin, "staff": staff, "alice": alice, "bob": bob, "season": season}


def _season() -> Season:
    """One running season (from a week ago, for eight weeks) with two teams, one with a join code."""
    season = Season.objects.filter(slug="demo-season").first()
    if season is None:
        today = seasons.today()
        season = seasons.save_season(season=Season(
            slug="demo-season", name="Demo season", starts=today - timedelta(days=7),
            ends=today + timedelta(days=49), prizes=[{"rank_to": 1, "points": 300, "xp": 100},
                                                     {"rank_to": 3, "points": 100, "xp": 0}]))
    Team.objects.get_or_create(season=season, slug="owls", defaults={"name": "Night Owls"})
    Team.objects.get_or_create(season=season, slug="foxes", defaults={"name": "Red Foxes", "join_code": "FOX"})
    return season


def weekly_challenge(*, at: datetime | None = None) -> Challenge:
    """This week's challenge (Monday to Monday in the project time zone), one code per ISO week so that
    seeding again next week adds a new one and never moves a finished one."""
    today = timezone.localdate(at or timezone.now())
    monday = today - timedelta(days=today.weekday())
    starts = datetime.combine(monday, time.min, tzinfo=timezone.get_current_timezone())
    year, week, _ = monday.isocalendar()
    challenge, _ = Challenge.objects.get_or_create(code=f"weekly-regular-{year}-w{week:02d}", defaults={
        # Marked for makemessages; stored in English and translated when shown, like achievements.
        "title": gettext_noop("Weekly regular"),
        "description": gettext_noop("Post 5 comments and check in twice this week."), "icon": "📅",
        "rule": WEEKLY_RULE,
        "starts_at": starts, "ends_at": starts + timedelta(days=7), "points": 30, "xp": 30,
    })
    return challenge


def _seed_categories_and_milestones() -> None:
    categories = {}
    for position, (slug, title, icon) in enumerate(CATEGORIES):
        categories[slug], _ = AchievementCategory.objects.get_or_create(
            slug=slug, defaults={"title": title, "icon": icon, "position": position})
    # The seeded eight are about taking part; an admin's own choice of category is left alone.
    Achievement.objects.filter(code__in=[row[0] for row in SEEDED], category__isnull=True).update(
        category=categories["community"])
    for offset, (code, title, description, points, icon, days) in enumerate(STREAK_MILESTONES):
        Achievement.objects.get_or_create(code=code, defaults={
            "title": title, "description": description, "points": points, "xp": points, "icon": icon,
            "rule": {"type": "streak_days", "min": days}, "position": 100 + offset,
            "category": categories["streaks"]})


def _seed_streak(member) -> None:
    """A streak to look at on /me/: active each of the last days, oldest first (a later award never
    moves the streak back), and one freeze to spare."""
    now = timezone.now()
    for days_ago in range(ALICE_STREAK_DAYS, 0, -1):
        services.award(member=member, reason="demo_daily", points=5, at=now - timedelta(days=days_ago),
                       idempotency_key=f"demo:daily:{member.user.username}:{days_ago}")
    state = streaks.status(member=member)
    if state.freezes == 0 and state.freezes_used == 0:
        streaks.grant_freezes(member=member, count=1, actor=None)
