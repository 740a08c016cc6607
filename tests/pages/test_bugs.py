"""The ten bugs of issue 12, each driven in headless Chromium at desktop (1366×900) and phone (390×844)
size. Every test here failed before its fix (see docs/pages.md)."""

import re

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from checkin.models import Scan, TicketListState
from checkin.services import ScanRequest, redeem
from engagement import services as ledger
from points_bridge import services as bridge
from rewards import services as rewards
from rewards.models import Redemption, Reward
from tests.pages.conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def type_anywhere(page, code: str) -> None:
    """What a USB scanner does: keystrokes into whatever has the focus, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


# 1. USB scans are lost once the code field loses focus ------------------------------------------------------


def test_a_usb_scan_after_clicking_the_camera_button_or_a_heading_still_checks_in(sized, sign_in, door_user,
                                                                                  ticket, clist):
    sign_in("door", next_url="/door/")
    sized.goto("/door/")
    expect(sized.locator("#door-camera")).to_be_visible()  # Chromium's fake camera
    sized.click("#door-camera")
    expect(sized.locator("#door-camera")).to_have_text("Stop camera")
    type_anywhere(sized, ticket.secret)
    expect(sized.locator("#door-result")).to_contain_text("Checked in")
    expect(sized.locator("#door-camera")).to_have_text("Stop camera")  # the Enter did not press the button
    sized.click("h2:has-text('Recent scans')")
    sized.click("#door-mode")
    sized.click("h2:has-text('Recent scans')")
    type_anywhere(sized, ticket.secret)
    expect(sized.locator("#door-result")).to_contain_text("Checked out")
    assert Scan.objects.filter(ticket=ticket, successful=True).count() == 2


def test_staff_attribution_focuses_the_code_field_and_catches_scans_anywhere(sized, sign_in, door_user,
                                                                             make_user):
    bob = ledger.member_for_user(make_user("bob", first_name="Bob", last_name="Svoboda"))
    carol = ledger.member_for_user(make_user("carol", first_name="Carol", last_name="King"))
    sign_in("door", next_url="/staff/attribution/")
    sized.goto("/staff/attribution/")
    if sized.size == "desktop":
        expect(sized.locator("#attrib-code")).to_be_focused()
    sized.click("h1")
    type_anywhere(sized, bridge.member_token_for(member=bob))
    expect(sized.locator("#attrib-who")).to_have_text("Bob Svoboda")
    sized.fill("#attrib-points", "3")
    sized.fill("#attrib-reason", "Helped")
    sized.click("#attrib-submit")
    expect(sized.locator("#attrib-result")).to_contain_text("Bob Svoboda")
    if sized.size == "desktop":
        expect(sized.locator("#attrib-code")).to_be_focused()
    type_anywhere(sized, bridge.member_token_for(member=carol))
    expect(sized.locator("#attrib-who")).to_have_text("Carol King")


# 2. An exit within 2 s of an entry is ignored --------------------------------------------------------------


def test_an_exit_right_after_an_entry_is_sent(sized, sign_in, door_user, ticket, clist):
    sign_in("door", next_url="/door/")
    sized.goto("/door/")
    sized.fill("#door-code", ticket.secret)
    sized.press("#door-code", "Enter")
    expect(sized.locator("#door-result")).to_contain_text("Checked in")
    sized.click("#door-mode")
    sized.fill("#door-code", ticket.secret)
    sized.press("#door-code", "Enter")
    expect(sized.locator("#door-result")).to_contain_text("Checked out")
    assert not TicketListState.objects.get(ticket=ticket).inside


# 3. An offline scan refused on upload still shows "Saved offline"; the list shows the secret ---------------


def test_an_offline_scan_refused_on_upload_says_so_and_never_shows_the_secret(sized, sign_in, door_user, ticket,
                                                                            clist):
    redeem(secret=ticket.secret, lists=[clist], req=ScanRequest(type="entry"))  # already inside
    sign_in("door", next_url="/door/")
    sized.goto("/door/")
    sized.context.set_offline(True)
    sized.fill("#door-code", ticket.secret)
    sized.press("#door-code", "Enter")
    expect(sized.locator("#door-result")).to_contain_text("Saved offline")
    sized.context.set_offline(False)
    sized.evaluate("window.dispatchEvent(new Event('online'))")
    expect(sized.locator("#door-queue")).to_be_hidden()
    result = sized.locator("#door-result")
    expect(result).to_contain_text("Already checked in")
    expect(result).to_have_class(re.compile(r"\bbad\b"))
    recent = sized.locator("#door-recent")
    expect(recent).to_contain_text("Jana Nováková")
    assert ticket.secret[:12] not in recent.inner_text()


# 4. Czech ---------------------------------------------------------------------------------------------------


def test_czech_from_the_switcher_in_templates_scripts_and_dates(sized, sign_in, door_user, ticket, clist):
    ledger.award(member=ledger.member_for_user(door_user), reason="comment_create", points=5)
    sign_in("door", next_url="/me/points/")
    sized.goto("/me/points/")
    sized.click("button.lang-btn[value=cs]")
    expect(sized.locator("html")).to_have_attribute("lang", "cs")
    expect(sized.locator("h1")).to_have_text("Moje body")
    expect(sized.locator(".stat .label").first).to_have_text("body")
    expect(sized.locator("#my-history")).to_contain_text("Napsání komentáře")
    assert re.search(r"\d{1,2}\.\s?\d{1,2}\.\s?\d{4}", sized.locator("#my-history td.when").first.inner_text())
    sized.goto("/door/")
    sized.fill("#door-code", ticket.secret)
    sized.press("#door-code", "Enter")
    expect(sized.locator("#door-result")).to_contain_text("Odbaveno")  # a script's message, from the catalogue
    expect(sized.locator("#door-mode")).to_contain_text("VSTUP")


# 5. /me/points/ overflows a phone ---------------------------------------------------------------------------


def test_my_points_fits_the_screen(sized, sign_in, user, member):
    ledger.award(member=member, reason="achievement:a_very_long_achievement_code_without_any_space", points=5)
    ledger.award(member=member, reason="x", points=7, meta={"description": "Supercalifragilisticexpialidocious" * 3})
    sign_in("alice", next_url="/me/points/")
    sized.goto("/me/points/")
    width = sized.evaluate("document.documentElement.scrollWidth")
    assert width <= sized.viewport_size["width"], width
    expect(sized.locator("#points-chart")).to_be_visible()


# 6. The leaderboard checkbox floats away from its label -----------------------------------------------------


def test_the_leaderboard_checkbox_sits_next_to_its_label(sized, sign_in, user, member):
    sign_in("alice", next_url="/me/")
    sized.goto("/me/")
    box = sized.locator("#show-on-leaderboard").bounding_box()
    text = sized.get_by_text("Show me on leaderboards").bounding_box()
    assert 0 <= text["x"] - (box["x"] + box["width"]) <= 16
    assert abs((box["y"] + box["height"] / 2) - (text["y"] + text["height"] / 2)) <= 6


# 7. An approved redemption shows only a grey "Approved" ----------------------------------------------------


def test_an_approved_coupon_shows_its_code_and_the_note(sized, sign_in, user, member, admin_user):
    coupon = Reward.objects.create(name="10 % off", type="merch_coupon", cost_points=10,
                                   metadata={"coupon_code": "CLUB10", "expires_on": "2027-12-31"})
    ledger.award(member=member, reason="x", points=50)
    redemption = rewards.redeem(member=member, reward_id=coupon.pk)
    rewards.approve(redemption_id=redemption.pk, actor=admin_user, note="Show it at the shop")
    sign_in("alice", next_url="/me/")
    sized.goto("/me/")
    item = sized.locator("#redemptions li[data-status=approved]")
    expect(item).to_contain_text("CLUB10")
    expect(item).to_contain_text("Show it at the shop")
    expect(item.locator(".badge")).to_have_class(re.compile(r"\bstatus-approved\b"))


# 8. Styled 403, 404 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path, status", [("/staff/attribution/", 403), ("/no-such-page/", 404)])
def test_error_pages_have_the_site_header_and_a_way_back(sized, sign_in, user, path, status):
    sign_in("alice", next_url="/me/")
    response = sized.goto(path)
    assert response.status == status
    expect(sized.locator("header.topbar")).to_be_visible()
    expect(sized.locator("#error-page")).to_have_attribute("data-status", str(status))
    sized.get_by_role("link", name="Back to the start page").click()
    expect(sized).to_have_url(re.compile(r"/$"))


# 9. Bulk checkout with nobody inside; people and scans on one card -----------------------------------------


def test_stats_count_people_and_offer_bulk_checkout_only_with_somebody_inside(sized, sign_in, door_user, ticket,
                                                                            clist):
    sign_in("door", next_url="/door/stats/")
    sized.goto("/door/stats/")
    expect(sized.locator("#stat-inside")).to_have_text("0")
    expect(sized.locator("#bulk-checkout")).to_be_disabled()
    expect(sized.locator("#bulk-nobody")).to_be_visible()
    for kind in ("entry", "exit", "entry", "exit", "entry"):
        redeem(secret=ticket.secret, lists=[clist], req=ScanRequest(type=kind))
    expect(sized.locator("#stat-inside")).to_have_text("1")
    expect(sized.locator("#stat-checkins")).to_have_text("1")  # one person, not three entries
    expect(sized.locator("#stat-left")).to_have_text("0")
    expect(sized.locator("#stat-checkouts-note")).to_contain_text("2 exit scans")
    expect(sized.locator("#bulk-checkout")).to_be_enabled()


# 10. The admin's message after a decision ------------------------------------------------------------------


def test_approving_says_approved_with_names_not_numbers(sized, sign_in, admin_user, user, member):
    sticker = Reward.objects.create(name="Sticker pack", type="custom", cost_points=10)
    ledger.award(member=member, reason="x", points=50)
    redemption = rewards.redeem(member=member, reward_id=sticker.pk)
    sign_in("root-admin", next_url="/admin/")
    sized.goto(f"/admin/rewards/redemption/{redemption.pk}/change/")
    sized.click("input[name=_decide_approve]")
    message = sized.locator("ul.messagelist li")
    # The member's name on the boards (their handle, fan-<id> until they choose one), never ids.
    expect(message).to_have_text(f"Approved: Sticker pack for {member.display_name}.")
    assert Redemption.objects.get(pk=redemption.pk).status == "approved"
    expect(sized).to_have_url(re.compile(r"/admin/rewards/redemption/$"))  # back to the queue, on Pending


# Accessibility: axe-core on every page ---------------------------------------------------------------------


def test_every_page_has_no_serious_accessibility_violation(sized, sign_in, door_user, ticket, clist):
    door_user.user_permissions.add(*Permission.objects.filter(codename__in=["view_claimtemplate"]))
    for path in ("/board/", "/board/?kiosk=1", "/accounts/login/?next=/door/"):
        sized.goto(path)
        assert_accessible(sized)
    sign_in("door", next_url="/")
    for path in ("/", "/me/", "/me/points/", "/claim/", "/board/", "/door/", "/door/stats/", "/staff/attribution/",
                 "/no-such-page/"):
        sized.goto(path)
        sized.wait_for_load_state("networkidle")
        assert_accessible(sized)
