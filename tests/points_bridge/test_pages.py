"""Pages: server-side checks with the test client, and the real thing in headless Chromium."""

import re

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from playwright.sync_api import expect

from engagement import services as ledger
from engagement.models import Activity
from points_bridge import services
from points_bridge.models import ClaimTemplate

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def staff_user(make_user):
    staff = make_user("door", first_name="Sam", last_name="Staff")
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["award_points", "view_claimtemplate"]))
    return staff


@pytest.fixture
def template(db):
    activity = Activity.objects.create(name="Booths", slug="booths", external_id=102)
    return ClaimTemplate.objects.create(name="Booth A", activity=activity, points=15, description="Visited booth A")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- server side ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_need_login_and_staff_pages_need_the_permission(user):
    anonymous = Client()
    for path in ("/claim/", "/me/points/", "/staff/attribution/"):
        assert anonymous.get(path)["Location"].startswith("/accounts/login/")
    assert client_for(user).get("/staff/attribution/").status_code == 403
    assert anonymous.get("/board/").status_code == 200


@pytest.mark.django_db
def test_template_qr_images_and_the_printable_sheet(staff_user, template, user):
    staff = client_for(staff_user)
    png = staff.get(f"/staff/claim-templates/{template.pk}/qr.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png" and png.content.startswith(PNG_MAGIC)
    svg = staff.get(f"/staff/claim-templates/{template.pk}/qr.svg")
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    second = ClaimTemplate.objects.create(name="Booth B", points=5)
    sheet = staff.get(f"/staff/claim-sheet/?ids={template.pk},{second.pk},")
    assert sheet.status_code == 200 and sheet.content.count(b"<svg") == 2
    assert b"Booth A" in sheet.content and b"Booth B" in sheet.content
    assert staff.get("/staff/claim-sheet/?ids=").status_code == 404
    assert client_for(user).get(f"/staff/claim-templates/{template.pk}/qr.png").status_code == 403


@pytest.mark.django_db
def test_admin_actions_rotate_sheet_and_soft_delete(admin_user, template):
    admin = client_for(admin_user)
    changelist = "/admin/points_bridge/claimtemplate/"
    assert admin.get(changelist).status_code == 200
    admin.post(changelist, {"action": "rotate", "_selected_action": [template.pk]})
    template.refresh_from_db()
    assert template.version == 2
    sheet = admin.post(changelist, {"action": "print_sheet", "_selected_action": [template.pk]})
    assert sheet["Location"] == f"/staff/claim-sheet/?ids={template.pk}"
    admin.post(changelist, {"action": "soft_delete", "_selected_action": [template.pk]})
    template.refresh_from_db()
    assert template.deleted_at is not None and not template.enabled
    assert b"Booth A" not in admin.get(changelist).content
    assert b"Booth A" in admin.get(changelist + "?status=deleted").content
    for path in ("/admin/points_bridge/claim/", "/admin/points_bridge/outboxentry/", "/admin/points_bridge/awardrule/"):
        assert admin.get(path).status_code == 200


@pytest.mark.django_db
def test_board_options_come_from_the_query_string(make_user):
    for name, points in (("ann", 30), ("ben", 30), ("cid", 20), ("dan", 10)):
        ledger.award(member=ledger.member_for_user(make_user(name)), reason="x", points=points)
    page = Client().get("/board/?limit=3&rank=0&refresh=0&title=Finals").content.decode()
    assert "Finals" in page and "no-rank" in page and 'data-refresh="0"' in page
    assert page.count("<tr data-user") == 3
    assert re.findall(r'class="(top\d)', page) == ["top1", "top1", "top3"]


@pytest.mark.django_db
def test_my_points_shows_signed_history_and_my_code(user, member):
    ledger.award(member=member, reason="x", points=40, meta={"description": "Quiz"})
    ledger.spend(member=member, points=15)
    page = client_for(user).get("/me/points/").content.decode()
    assert "+40" in page and "-15" in page and "Quiz" in page and "<svg" in page


@pytest.mark.django_db
def test_rotating_my_code_from_the_page(user, member):
    old = services.member_token_for(member=member)
    assert client_for(user).post("/me/points/rotate-code/").status_code == 302
    assert services.member_token_for(member=member) != old


# --- the admin audit trail (LogEntry: Recent actions, History) -----------------------------------------


def _log(model=ClaimTemplate):
    """(object id, flag, message, user id) of the model's LogEntries, oldest first."""
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model)).order_by("pk")
    return [(int(e.object_id), e.action_flag, e.change_message, e.user_id) for e in entries]


def _act(client, action: str, *templates):
    return client.post("/admin/points_bridge/claimtemplate/?status=all",
                       {"action": action, "_selected_action": [t.pk for t in templates]})


@pytest.fixture
def deleted(template):
    gone = ClaimTemplate.objects.create(name="Booth Z", activity=template.activity, points=5)
    services.soft_delete_templates(templates=ClaimTemplate.objects.filter(pk=gone.pk))
    return gone


@pytest.mark.django_db
def test_rotate_logs_each_rotated_template_and_not_the_deleted(admin_user, template, deleted):
    second = ClaimTemplate.objects.create(name="Booth B", points=5)
    _act(client_for(admin_user), "rotate", template, second, deleted)
    assert _log() == [(template.pk, CHANGE, "Rotated its codes.", admin_user.pk),
                      (second.pk, CHANGE, "Rotated its codes.", admin_user.pk)]
    assert [t.version for t in ClaimTemplate.objects.order_by("pk")] == [2, 1, 2]
    assert LogEntry.objects.get(object_id=str(template.pk)).object_repr == "Booth A"


@pytest.mark.django_db
def test_soft_delete_logs_only_templates_it_deleted(admin_user, template, deleted):
    admin = client_for(admin_user)
    _act(admin, "soft_delete", template, deleted)
    _act(admin, "soft_delete", template)  # already deleted now: no second entry
    assert _log() == [(template.pk, CHANGE, "Deleted (soft).", admin_user.pk)]
    history = admin.get(f"/admin/points_bridge/claimtemplate/{template.pk}/history/")
    assert history.status_code == 200 and b"Deleted (soft)." in history.content
    assert admin_user.username.encode() in history.content


@pytest.mark.django_db
def test_a_failing_log_entry_rolls_the_rotation_back(admin_user, template, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("log table unavailable")

    monkeypatch.setattr(LogEntry.objects, "log_actions", broken)
    with pytest.raises(RuntimeError):
        _act(client_for(admin_user), "rotate", template)
    with pytest.raises(RuntimeError):
        _act(client_for(admin_user), "soft_delete", template)
    template.refresh_from_db()
    assert (template.version, template.deleted_at, template.enabled) == (1, None, True)


# --- headless Chromium ----------------------------------------------------------------------------------

@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_claim_scanner_pays_then_says_why_not(page, login, user, template):
    login("alice", next_url="/claim/")
    page.goto("/claim/")
    code = services.issue_claim_token(template=template)
    page.fill("#claim-input", code)
    page.press("#claim-input", "Enter")
    result = page.locator("#claim-result")
    result.filter(has_text="+15 points").wait_for()
    assert "balance 15" in result.inner_text()
    page.fill("#claim-input", "forged-code")
    page.click("#claim-submit")
    result.filter(has_text="not a valid claim code").wait_for()
    assert "bad" in result.get_attribute("class")
    page.wait_for_timeout(2600)  # past the scanner's 2.5 s repeat guard for the same code
    page.fill("#claim-input", code)
    page.press("#claim-input", "Enter")
    result.filter(has_text="already claimed").wait_for()
    assert "claim_limit_reached" in result.inner_text()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_claim_link_from_a_phone_camera_claims_on_arrival(page, login, user, template):
    login("alice", next_url="/me/points/")
    code = services.issue_claim_token(template=template)
    page.goto(f"/claim/?code={code}")
    page.locator("#claim-result").filter(has_text="+15 points").wait_for()
    assert "code=" not in page.url


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_attribution_search_award_and_next_person(page, login, staff_user, make_user, template):
    bob = ledger.member_for_user(make_user("bob", first_name="Bob", last_name="Svoboda"))
    carol = ledger.member_for_user(make_user("carol", first_name="Carol", last_name="King"))
    login("door", next_url="/staff/attribution/")
    page.goto("/staff/attribution/")
    page.fill("#attrib-search", "svob")
    page.get_by_role("button", name=re.compile("Bob Svoboda")).click()
    page.fill("#attrib-points", "7")
    page.fill("#attrib-reason", "Helped at the desk")
    page.click("#attrib-submit")
    page.locator("#attrib-result").filter(has_text="Bob Svoboda: 7 points").wait_for()
    assert page.locator("#step-identify").is_visible() and not page.locator("#step-award").is_visible()
    bob.refresh_from_db()
    assert bob.points == 7 and bob.ledger_entries.get().meta["description"] == "Helped at the desk"

    page.fill("#attrib-code", services.member_token_for(member=carol))
    page.press("#attrib-code", "Enter")
    page.locator("#attrib-who").filter(has_text="Carol King").wait_for()
    page.select_option("#attrib-template", str(template.pk))
    assert not page.locator("#attrib-reason").is_visible()
    page.click("#attrib-submit")
    page.locator("#attrib-result").filter(has_text="+15").wait_for()
    carol.refresh_from_db()
    assert carol.points == 15


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_attribution_refuses_a_manual_award_without_a_reason(page, login, staff_user, make_user):
    bob = ledger.member_for_user(make_user("bob", first_name="Bob", last_name="Svoboda"))
    login("door", next_url="/staff/attribution/")
    page.goto(f"/staff/attribution/?member={services.member_token_for(member=bob)}")
    page.locator("#attrib-who").filter(has_text="Bob Svoboda").wait_for()
    page.fill("#attrib-points", "7")
    page.evaluate("document.getElementById('attrib-reason').required = false")  # get past the browser's check
    page.click("#attrib-submit")
    page.locator("#attrib-award-error").filter(has_text="Say why").wait_for()
    bob.refresh_from_db()
    assert bob.points == 0


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_board_refreshes_in_place_without_rebuilding_rows(page, make_user):
    ann, ben, cid = (ledger.member_for_user(make_user(n)) for n in ("ann", "ben", "cid"))
    ledger.award(member=ann, reason="x", points=30)
    ledger.award(member=ben, reason="x", points=20)
    page.goto("/board/?refresh=1&limit=5")
    rows = page.locator("#board-rows tr")
    assert rows.count() == 2
    page.evaluate("(id) => { document.querySelector(`tr[data-user='${id}']`).dataset.marker = 'same-node'; }",
                  ann.user_id)
    stamp = page.locator("#board-updated").get_attribute("data-at")
    ledger.award(member=ben, reason="x", points=10)  # ties with ann: both rank 1
    ledger.award(member=cid, reason="x", points=5)
    # Locator assertions, not wait_for_function: Playwright evaluates its predicate with eval(), which the
    # page's Content-Security-Policy (script-src 'self') refuses.
    expect(rows).to_have_count(3)
    expect(rows.locator("td:first-child")).to_have_text(["1", "1", "3"])
    assert page.locator(f'tr[data-user="{ann.user_id}"]').get_attribute("data-marker") == "same-node"
    assert page.locator("#board-updated").get_attribute("data-at") != stamp
    classes = page.locator("#board-rows tr").evaluate_all("rows => rows.map(r => r.className)")
    assert classes == ["top1", "top1", "top3"]
