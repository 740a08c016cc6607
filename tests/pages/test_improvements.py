"""The improvements of issue 12 that are not bugs, in headless Chromium (phone-sized ``page``)."""

import re

import pytest
from playwright.sync_api import expect

from checkin.services import ScanRequest, redeem
from engagement import services as ledger
from rewards.models import Reward

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_CAMERA = "navigator.mediaDevices.enumerateDevices = async () => [];"


def test_the_door_says_when_and_where_and_echoes_an_unknown_code(page, login, door_user, ticket, clist):
    redeem(secret=ticket.secret, lists=[clist], req=ScanRequest(type="entry", gate="north"))
    login("door", next_url="/door/")
    page.goto("/door/")
    expect(page.locator("#door-recent-empty")).to_be_visible()
    page.fill("#door-code", ticket.secret)
    page.press("#door-code", "Enter")
    result = page.locator("#door-result")
    expect(result).to_contain_text("Already checked in")
    expect(result).to_contain_text("Day pass")
    expect(result.locator(".door-result-extra")).to_have_text(re.compile(r"^since .+ at north$"))
    expect(page.locator("#door-recent-empty")).to_be_hidden()
    page.fill("#door-code", "NOT-A-TICKET-42")
    page.press("#door-code", "Enter")
    expect(result).to_contain_text("Unknown ticket")
    expect(result).to_contain_text("NOT-A-TICKET-42")


def test_camera_boxes_are_hidden_without_a_camera(page, login, door_user, clist):
    page.context.add_init_script(NO_CAMERA)
    login("door", next_url="/door/")
    page.goto("/door/")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#door-camera")).to_be_hidden()
    page.goto("/claim/")
    expect(page.locator("#claim-camera-status")).to_contain_text("No camera here")
    expect(page.locator("#claim-video")).to_be_hidden()


def test_the_board_has_a_kiosk_mode_and_one_clock(page, make_user):
    ledger.award(member=ledger.member_for_user(make_user("ann")), reason="x", points=5)
    page.goto("/board/?refresh=0&limit=5")
    stamp = page.locator("#board-updated")
    iso = stamp.get_attribute("data-at")
    browser_time = page.evaluate("(iso) => new Date(iso).toLocaleTimeString('en', "
                                 "{hour: '2-digit', minute: '2-digit', second: '2-digit'})", iso)
    expect(stamp.locator("time")).to_have_text(browser_time)  # the first stamp is already the browser's clock
    page.click("#board-kiosk")
    expect(page).to_have_url(re.compile(r"kiosk=1"))
    expect(page.locator("header.topbar")).to_have_count(0)
    expect(page.locator("body")).to_have_class(re.compile(r"\bkiosk\b"))
    assert "limit=5" in page.url


def test_locked_rewards_say_how_many_points_are_missing(page, login, user, member):
    Reward.objects.create(name="Scarf", type="custom", cost_points=50)
    ledger.award(member=member, reason="x", points=20)
    login("alice", next_url="/me/")
    page.goto("/me/")
    expect(page.locator("#rewards li:has-text('Scarf')")).to_contain_text("30 more points needed")
    expect(page.locator("#level-badge")).to_have_text("Level 1")
    expect(page.locator(".fz-level")).to_have_text("Level 1 · Beginner")


def test_staff_see_their_links_in_the_header(page, login, door_user):
    login("door", next_url="/me/")
    page.goto("/me/")
    expect(page.locator("header a[data-link=door]")).to_have_attribute("href", "/door/")
    expect(page.locator("header a[data-link=award]")).to_have_attribute("href", "/staff/attribution/")


def test_door_statistics_chart_arrivals(page, login, door_user, ticket, clist):
    redeem(secret=ticket.secret, lists=[clist], req=ScanRequest(type="entry"))
    login("door", next_url="/door/stats/")
    page.goto("/door/stats/")
    # Not wait_for_function: Playwright evaluates its predicate with eval(), which the CSP refuses.
    expect(page.locator("#arrivals-chart")).to_be_visible()
    for _ in range(50):
        if page.evaluate("Boolean(window.Chart && Chart.getChart('arrivals-chart'))"):
            break
        page.wait_for_timeout(100)
    assert page.evaluate("Chart.getChart('arrivals-chart').data.datasets[0].data.reduce((a, b) => a + b, 0)") == 1
    expect(page.locator("#arrivals-chart")).to_be_visible()
    expect(page.locator("#arrivals-empty")).to_be_hidden()
