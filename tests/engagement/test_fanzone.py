"""The fan zone page (/me/): rendered by Django, then driven in headless Chromium (phone-sized)."""

import re

import pytest
from playwright.sync_api import expect

from engagement import achievements, services
from engagement.achievement_catalog import seed_achievements
from engagement.models import Achievement, Member


def comment(member, n=1):
    for _ in range(n):
        services.award(member=member, reason="comment_create", points=5)


@pytest.fixture(autouse=True)
def _fresh_achievement_triggers():
    """Each test sees its own achievements' rules, not a previous test's cached triggers."""
    achievements.clear_triggers()
    yield
    achievements.clear_triggers()


# --- Server-rendered ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_fan_zone_needs_a_login(client):
    response = client.get("/me/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/me/")


@pytest.mark.django_db
def test_the_fan_zone_shows_level_progress_achievements_and_the_member_on_the_board(client, user, member,
                                                                                     make_user):
    rival = services.member_for_user(make_user("rival"))
    services.award(member=rival, reason="test", points=500)
    comment(member, 3)  # 15 XP
    achievements.evaluate_member(member_id=member.pk)  # first_comment: +10 XP → 25 XP
    client.force_login(user)
    html = client.get("/me/").content.decode()
    assert 'id="level-badge">Level 1<' in html
    assert "Beginner" in html
    assert 'aria-valuenow="25"' in html  # 25 of the 100 XP that level 2 needs
    assert "25 / 100 XP to level 2 (Beginner)" in html
    assert 'class="fz-ach done" data-code="first_comment"' in html
    assert 'aria-valuenow="3"' in html  # comments_10: 3 of 10
    me_row = re.search(rf'<tr class="highlight me"><td class="num">(\d+)</td><td>fan-{member.user_id}</td>', html)
    assert me_row and me_row.group(1) == "2"


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["metric=karma&window=year", "metric=level&window=week", "window=week%20"])
def test_any_board_query_renders(client, user, query):
    client.force_login(user)
    assert client.get(f"/me/?{query}").status_code == 200


@pytest.mark.django_db
def test_a_nul_in_the_board_query_is_a_json_400(client, user):
    client.force_login(user)  # the input guard (config/middleware.py) answers before the page runs
    response = client.get("/me/?window=%00")
    assert response.status_code == 400 and response.json()["code"] == "invalid_characters"


@pytest.mark.django_db
def test_the_fan_zone_reads_in_czech(client, user):
    client.force_login(user)
    html = client.get("/me/", HTTP_ACCEPT_LANGUAGE="cs").content.decode()
    assert "Začátečník" in html
    assert "První komentář" in html
    assert 'id="level-badge">Úroveň 1<' in html
    assert "Vaše jméno v žebříčcích" in html


# --- In the browser ----------------------------------------------------------------------------------------


@pytest.fixture
def fan(make_user):
    seed_achievements(Achievement)  # the live server's database was flushed by earlier tests
    user = make_user("fan")
    return services.member_for_user(user)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_username_editor_explains_a_broken_rule_then_saves(page, login, fan):
    login("fan", next_url="/me/")
    page.goto("/me/")
    page.fill("#username-input", "bad..name")
    page.click("#username-form button[type=submit]")
    status = page.locator("#username-status")
    expect(status).to_contain_text("cannot stand together")
    expect(status).to_have_attribute("data-code", "username_consecutive_special")
    page.fill("#username-input", "Super.Fan")
    page.click("#username-form button[type=submit]")
    expect(status).to_have_text("Saved.")
    expect(page.locator("#display-name")).to_have_text("super.fan")
    assert Member.objects.get(pk=fan.pk).username == "super.fan"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_achievements_and_the_highlighted_board_row(page, login, fan, make_user):
    rival = services.member_for_user(make_user("rival"))
    services.award(member=rival, reason="test", points=100)
    comment(fan, 2)  # after commit the evaluation unlocks first_comment (+10)
    login("fan", next_url="/me/")
    page.goto("/me/")
    expect(page.locator("#level-badge")).to_have_text("Level 1")
    expect(page.locator('[data-code="first_comment"]')).to_have_class(re.compile(r"\bdone\b"))
    expect(page.locator('[data-code="comments_10"] [role=progressbar]')).to_have_attribute("aria-valuenow", "2")
    me = page.locator("#board tr.me")
    expect(me).to_have_count(1)
    expect(me).to_contain_text("fan")
    expect(me.locator("td").first).to_have_text("2")
    page.click("#leaderboard .fz-tabs a:has-text('Today')")
    expect(page.locator("#leaderboard .fz-tabs a.on")).to_have_count(2)
    expect(page.locator("#board tr.me")).to_have_count(1)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_generated_avatar_can_be_picked_and_uploads_stay_locked(page, login, fan):
    login("fan", next_url="/me/")
    page.goto("/me/")
    expect(page.locator("#upload-locked")).to_be_visible()
    page.click("#shuffle-avatar")
    chosen = page.locator("#random-avatar").get_attribute("src")
    assert chosen.startswith("https://api.dicebear.com/9.x/thumbs/svg?seed=")
    page.click("#use-random-avatar")
    expect(page.locator("#avatar-status")).to_have_text("Avatar updated.")
    assert Member.objects.get(pk=fan.pk).avatar_url == chosen


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_store_redeems_lists_redemptions_and_offers_owned_avatars(page, login, fan):
    from rewards.models import Redemption, Reward

    avatar_url = "https://api.dicebear.com/9.x/thumbs/svg?seed=owned"
    sticker = Reward.objects.create(name="Sticker pack", type="custom", cost_points=30)
    avatar = Reward.objects.create(name="Robot face", type="avatar_static", cost_points=20, image_url=avatar_url,
                                   metadata={"avatar_url": avatar_url})
    Reward.objects.create(name="Season ticket", type="custom", cost_points=10_000)
    services.award(member=fan, reason="test", points=100)
    login("fan", next_url="/me/")
    page.goto("/me/")
    expect(page.locator("#rewards li")).to_have_count(3)
    expect(page.locator("#rewards li:has-text('Season ticket') button")).to_have_count(0)
    expect(page.locator("#rewards li:has-text('Season ticket')")).to_contain_text("9900 more points needed")
    expect(page.locator("#redemptions")).to_contain_text("Nothing redeemed yet.")

    page.click(f"button[data-reward='{sticker.pk}']")
    expect(page.locator("#rewards")).to_contain_text("Spend 30 points on this?")
    assert not Redemption.objects.exists()  # nothing is spent before the member confirms
    page.click(f"button[data-confirm='{sticker.pk}']")
    expect(page.locator("#store-status")).to_contain_text("Sticker pack requested: waiting for approval.")
    expect(page.locator("#points")).to_have_text("70")
    expect(page.locator("#redemptions li[data-status=pending]")).to_contain_text("Sticker pack")

    page.click(f"button[data-reward='{avatar.pk}']")
    page.click(f"button[data-confirm='{avatar.pk}']")
    expect(page.locator("#store-status")).to_contain_text("Robot face is yours!")
    expect(page.locator("#points")).to_have_text("50")
    owned = page.locator("#owned-avatars button")
    expect(owned).to_have_count(1)
    assert Member.objects.get(pk=fan.pk).avatar_url == avatar_url  # the store applied it already
    Member.objects.filter(pk=fan.pk).update(avatar_url="")
    owned.click()
    expect(page.locator("#avatar-status")).to_have_text("Avatar updated.")
    assert Member.objects.get(pk=fan.pk).avatar_url == avatar_url
    assert Redemption.objects.filter(member=fan).count() == 2


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_unlocked_member_uploads_their_own_picture(page, login, fan, settings, tmp_path):
    import io

    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    Member.objects.filter(pk=fan.pk).update(avatar_upload_unlocked=True)
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "orange").save(png, format="PNG")
    login("fan", next_url="/me/")
    page.goto("/me/")
    page.set_input_files("#upload-form input[type=file]",
                         files=[{"name": "me.png", "mimeType": "image/png", "buffer": png.getvalue()}])
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#avatar-status")).to_have_text("Avatar updated.")
    avatar = Member.objects.get(pk=fan.pk).avatar_url
    assert avatar.startswith(f"/media/avatars/{fan.pk}/") and avatar.endswith(".png")
    expect(page.locator("#avatar-img")).to_have_attribute("src", avatar)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_xp_only_rewards_are_offered_by_xp_and_leave_points_alone(page, login, fan):
    from rewards.models import Reward

    scarf = Reward.objects.create(name="Veteran scarf", type="custom", cost_points=300, cost_type="xp")
    Reward.objects.create(name="Legend pin", type="custom", cost_points=5000, cost_type="xp")
    services.award(member=fan, reason="test", points=20, xp=400)
    login("fan", next_url="/me/")
    page.goto("/me/")
    expect(page.locator(f"button[data-reward='{scarf.pk}']")).to_have_text("Free from 300 XP")
    # Out of reach: what is missing instead of a button (4,600 XP), and no confirmation for a free reward.
    expect(page.locator("#rewards li:has-text('Legend pin') .fz-need")).to_have_text("4600 more XP needed")
    expect(page.locator("#rewards li:has-text('Legend pin') button")).to_have_count(0)
    page.click(f"button[data-reward='{scarf.pk}']")
    expect(page.locator("#store-status")).to_contain_text("Veteran scarf requested: waiting for approval.")
    expect(page.locator("#points")).to_have_text("20")
