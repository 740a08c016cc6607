"""The door pages in headless Chromium (phone-sized), against the live server."""

import re

import pytest
from playwright.sync_api import expect

from checkin.models import Scan, TicketListState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def scan_typed(page, code: str) -> None:
    page.fill("#door-code", code)
    page.press("#door-code", "Enter")


def test_typed_scanner_checks_in_refuses_a_second_entry_and_checks_out(page, login, door_user, ticket, clist):
    login("door", next_url="/door/")
    page.goto("/door/")
    expect(page.locator("#door-mode")).to_have_attribute("data-mode", "entry")

    scan_typed(page, ticket.secret)
    result = page.locator("#door-result")
    expect(result).to_have_class("result door-result ok")
    expect(result).to_contain_text("Checked in")
    expect(result).to_contain_text("Jana Nováková")

    scan_typed(page, ticket.secret)  # the same read within 2 s: ignored, nothing sent
    page.wait_for_timeout(2100)
    scan_typed(page, ticket.secret)
    expect(result).to_have_class("result door-result bad")
    expect(result).to_contain_text("Already checked in")
    assert Scan.objects.filter(ticket=ticket).count() == 2

    page.click("#door-mode")
    expect(page.locator("#door-mode")).to_have_attribute("data-mode", "exit")
    expect(page.locator("body")).to_have_class(re.compile(r"\bdoor-mode-exit\b"))
    page.wait_for_timeout(2100)
    scan_typed(page, ticket.secret)
    expect(result).to_have_class("result door-result ok")
    expect(result).to_contain_text("Checked out")
    expect(page.locator("#door-recent li")).to_have_count(3)
    assert not TicketListState.objects.get(ticket=ticket).inside
    assert Scan.objects.get(ticket=ticket, type="exit").gate == "door-page"


def test_unknown_code_shows_a_red_result(page, login, door_user, clist):
    login("door", next_url="/door/")
    page.goto("/door/")
    scan_typed(page, "not-a-ticket")
    expect(page.locator("#door-result")).to_contain_text("Unknown ticket")
    expect(page.locator("#door-result")).to_have_class("result door-result bad")


def test_offline_scans_are_queued_and_uploaded_with_nonce_and_time(page, login, door_user, ticket, clist):
    login("door", next_url="/door/")
    page.goto("/door/")
    page.context.set_offline(True)
    scan_typed(page, ticket.secret)
    expect(page.locator("#door-result")).to_contain_text("Saved offline")
    expect(page.locator("#door-queue")).to_contain_text("1 scan saved offline")
    assert not Scan.objects.exists()
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#door-queue")).to_be_hidden()
    scan = Scan.objects.get()
    assert scan.successful and scan.nonce
    assert scan.datetime < scan.server_datetime


def test_an_upload_that_fails_is_retried_within_seconds_without_an_online_event(page, login, door_user, ticket,
                                                                                clist):
    """The first upload meets a 503 (a deploy, a restarted worker) and the browser never fires "online": the
    queue must still empty by itself long before the 15 s safety timer."""
    answers = []

    def first_one_fails(route):
        answers.append(route.request.post_data_json["nonce"])
        if len(answers) <= 2:  # the live scan and the first upload attempt
            route.fulfill(status=503, content_type="application/json", body='{"detail": "restarting"}')
        else:
            route.continue_()

    login("door", next_url="/door/")
    page.goto("/door/")
    page.route("**/checkinrpc/redeem/", first_one_fails)
    scan_typed(page, ticket.secret)
    expect(page.locator("#door-result")).to_contain_text("Saved offline")
    expect(page.locator("#door-queue")).to_be_hidden(timeout=6000)  # tries after 1 s, then 2 s
    scan = Scan.objects.get()
    assert scan.successful
    assert len(answers) == 3 and len(set(answers)) == 1  # one scan, one nonce, three tries


def test_stats_page_shows_counts_and_bulk_checkout_empties_the_room(page, login, door_user, scan, make_ticket,
                                                                     clist):
    for t in [make_ticket() for _ in range(3)]:
        scan(t)
    login("door", next_url="/door/stats/")
    page.goto("/door/stats/")
    expect(page.locator("#stat-inside")).to_have_text("3")
    expect(page.locator("#stat-checkins")).to_have_text("3")

    scan(make_ticket())  # a fourth person arrives; the page refreshes by itself
    expect(page.locator("#stat-inside")).to_have_text("4")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#bulk-checkout")
    expect(page.locator("#bulk-result")).to_have_text("Bulk checkout completed: 4 people checked out.")
    expect(page.locator("#stat-inside")).to_have_text("0")
    expect(page.locator("#stat-left")).to_have_text("4")  # people who left, as the other cards count people
    expect(page.locator("#stat-checkouts-note")).to_contain_text("4 exit scans")
    expect(page.locator("#bulk-checkout")).to_be_disabled()  # nobody inside any more
    assert not TicketListState.objects.filter(inside=True).exists()


def test_door_page_without_rights_says_so(page, login, make_user):
    make_user("nobody")
    login("nobody", next_url="/door/")
    response = page.goto("/door/")
    assert response.status == 403
    expect(page.locator("main")).to_contain_text("no check-in rights")
    expect(page.locator("header.topbar")).to_be_visible()
    expect(page.get_by_role("link", name="Back to the start page")).to_be_visible()
