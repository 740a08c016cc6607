"""Achievement categories: grouping on /me/, in the admin and in the achievements API; the demo's."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from engagement import achievements, streaks
from engagement.achievement_catalog import SEEDED
from engagement.models import Achievement, AchievementCategory, Member

URL = "/api/v1/engagement/achievements"


@pytest.fixture(autouse=True)
def _fresh_achievement_triggers():
    achievements.clear_triggers()
    yield
    achievements.clear_triggers()


@pytest.fixture
def categories(db):
    """Two categories, created out of order; most seeded achievements stay uncategorised."""
    later = AchievementCategory.objects.create(slug="polls", title="Polls", icon="🗳️", position=2)
    first = AchievementCategory.objects.create(slug="community", title="Community", icon="💬", position=1)
    Achievement.objects.filter(code__in=["first_comment", "comments_10"]).update(category=first)
    Achievement.objects.filter(code="first_vote").update(category=later)
    return first, later


@pytest.mark.django_db
def test_statuses_group_by_category_in_order_with_the_uncategorised_last(member, categories):
    groups = achievements.grouped(achievements.statuses(member=member))
    assert [g.category and g.category.slug for g in groups] == ["community", "polls", None]
    assert [s.achievement.code for s in groups[0].statuses] == ["first_comment", "comments_10"]
    assert len(groups[2].statuses) == len(SEEDED) - 3


@pytest.mark.django_db
def test_the_api_names_each_achievements_category(member_api, categories):
    body = member_api.get(URL).json()
    by_code = {a["code"]: a for a in body["achievements"]}
    assert by_code["first_comment"]["category"] == {"slug": "community", "title": "Community", "icon": "💬",
                                                    "position": 1}
    assert by_code["first_vote"]["category"]["slug"] == "polls"
    assert by_code["votes_50"]["category"] is None
    # The contract's fields are all still there, unchanged.
    assert {"id", "code", "title", "description", "points", "xp", "icon", "achieved", "achieved_at",
            "progress"} < set(by_code["first_comment"])


@pytest.mark.django_db
def test_a_deleted_category_leaves_its_achievements_uncategorised(categories):
    first, _ = categories
    first.delete()
    assert Achievement.objects.get(code="first_comment").category is None


@pytest.mark.django_db
def test_the_fan_zone_groups_achievements_under_category_headings(client, user, categories):
    client.force_login(user)
    html = client.get("/me/").content.decode()
    community = html.index('data-category="community"')
    polls = html.index('data-category="polls"')
    other = html.index('data-category=""')
    assert community < html.index('data-code="first_comment"') < polls < html.index('data-code="first_vote"') < other
    assert other < html.index('data-code="votes_50"')
    assert "Other achievements" in html


@pytest.mark.django_db
def test_without_categories_the_fan_zone_shows_one_plain_list(client, user):
    client.force_login(user)
    html = client.get("/me/").content.decode()
    assert "data-category" not in html
    assert html.count('class="fz-ach') == len(SEEDED)


@pytest.mark.django_db
def test_the_admin_lists_and_filters_achievements_by_category(client, admin_user, categories):
    first, _ = categories
    client.force_login(admin_user)
    changelist = reverse("admin:engagement_achievement_changelist")
    response = client.get(changelist, {"category__id__exact": first.pk})
    assert response.status_code == 200
    assert sorted(a.code for a in response.context["cl"].queryset) == ["comments_10", "first_comment"]
    assert client.get(reverse("admin:engagement_achievementcategory_changelist")).status_code == 200
    created = client.post(reverse("admin:engagement_achievementcategory_add"),
                          {"slug": "events", "title": "Events", "icon": "🎟️", "position": 3})
    assert created.status_code == 302
    assert AchievementCategory.objects.filter(slug="events").exists()


@pytest.mark.django_db
def test_the_demo_seeds_categories_streak_milestones_and_a_streak(django_user_model):
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent
    assert list(AchievementCategory.objects.values_list("slug", flat=True)) == ["community", "streaks"]
    milestones = Achievement.objects.filter(category__slug="streaks").order_by("position")
    assert [(a.code, a.rule) for a in milestones] == [("streak_7", {"type": "streak_days", "min": 7}),
                                                       ("streak_30", {"type": "streak_days", "min": 30})]
    assert Achievement.objects.filter(code__in=[row[0] for row in SEEDED], category__slug="community").count() == 8
    alice = Member.objects.get(user__username="alice")
    state = streaks.status(member=alice)
    assert (state.current, state.freezes, state.active_today) == (6, 1, True)


@pytest.mark.django_db
def test_category_titles_read_in_czech(member_api):
    call_command("seed_demo")
    with translation.override("cs"):
        assert AchievementCategory.objects.get(slug="streaks").display_title == "Série"
        assert Achievement.objects.get(code="streak_7").display_title == "Týden v řadě"
    body = member_api.get(URL, HTTP_ACCEPT_LANGUAGE="cs").json()
    assert {a["code"]: a["category"] for a in body["achievements"]}["streak_30"]["title"] == "Série"
