"""The fan zone's newer cards in a real browser (desktop and phone): joining and leaving a season's team,
a limited-time offer's countdown reaching its end, challenge progress, and copying the invite link."""

import copy
import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from engagement import services
from engagement.models import Challenge, Season, Team, TeamMembership
from rewards.models import Reward
from rewards.presets import PRESETS
from tests.pages.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _live_team_boards(settings):
    settings.ENGAGEMENT_TEAM_BOARD_CACHE_SECONDS = 0


@pytest.fixture
def season(db):
    today = timezone.localdate()
    season = Season.objects.create(slug="autumn", name="Autumn", starts=today - dt.timedelta(days=2),
                                   ends=today + dt.timedelta(days=20))
    Team.objects.create(season=season, slug="red", name="Red")
    Team.objects.create(season=season, slug="blue", name="Blue", join_code="s3cret")
    return season


def test_a_member_joins_a_team_with_its_code_and_leaves_it(sign_in, make_user, season):
    alice = make_user("alice")
    page = sign_in("alice", next_url="/me/")
    blue = page.locator("#season-teams [data-team=blue]")

    blue.locator("[data-team-code]").fill("wrong")
    blue.locator("button[data-team-join]").click()
    # (Locator waits, not wait_for_function: the page's Content-Security-Policy forbids evaluating strings.)
    expect(page.locator("#team-status")).to_have_attribute("data-code", "join_code_invalid")
    assert page.locator("#team-status").inner_text() == "That join code is not right."
    assert not TeamMembership.objects.filter(member__user=alice).exists()

    blue.locator("[data-team-code]").fill("s3cret")
    with page.expect_navigation():
        blue.locator("button[data-team-join]").click()
    assert page.locator("#season-team").inner_text() == "Blue"
    assert page.locator("#season-teams .fz-team.mine").get_attribute("data-team") == "blue"
    assert page.locator("#season-teams button[data-team-join]").count() == 0
    assert TeamMembership.objects.get(member__user=alice).team.slug == "blue"
    assert_accessible(page)

    with page.expect_navigation():
        page.locator("#season-teams button[data-team-leave]").click()
    assert page.locator("#season-team").inner_text() == "–"
    assert page.locator("#season-teams button[data-team-join]").count() == 2
    assert not TeamMembership.objects.filter(member__user=alice).exists()


def test_offer_countdown_challenge_progress_and_invite_link(sign_in, make_user):
    now = timezone.now()
    Reward.objects.create(**{**copy.deepcopy(PRESETS["merch_physical"]), "name": "Last-call scarf", "stock": None,
                             "available_from": now - dt.timedelta(hours=1),
                             "available_until": now + dt.timedelta(seconds=3)})
    Challenge.objects.create(code="weekly", title="Weekly regular", points=30, xp=30,
                             rule={"type": "reason_count", "reason": "comment_create", "min": 5},
                             starts_at=now - dt.timedelta(days=1), ends_at=now + dt.timedelta(days=6))
    member = services.member_for_user(make_user("alice"))
    for _ in range(2):
        services.award(member=member, reason="comment_create", points=5)
    page = sign_in("alice", next_url="/me/")

    assert "2 / 5" in page.locator("#challenges [data-code=weekly] .fz-goal").inner_text()
    assert page.locator("#challenges [data-code=weekly] [role=progressbar]").get_attribute("aria-valuenow") == "2"

    # The offer ends three seconds after it was created: its countdown ticks down and then says so.
    countdown = page.locator("#limited-offers time[data-countdown]")
    expect(countdown).to_have_attribute("data-countdown-done", "", timeout=15_000)
    assert countdown.inner_text() == "Ended"

    page.locator("#copy-invite").click()
    expect(page.locator("#invite-status")).not_to_be_empty()
    assert page.locator("#invite-status").get_attribute("class") == "fz-status ok"
    assert "/join/" in page.locator("#invite-link").input_value()
