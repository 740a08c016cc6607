"""Every page is served with a Content-Security-Policy, and every page passes it in Chromium."""

import pytest
from django.contrib.auth.models import Permission

from checkin.models import CheckinList, Event, Organizer, OrganizerMembership
from engagement import services as ledger
from engagement.models import Activity
from points_bridge.models import ClaimTemplate

# Recorded by the page itself, so violations in any frame or script are caught, not only console lines.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":"
                    + e.lineNumber);
});
"""


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.django_db
def test_every_answer_carries_the_policy(client):
    for path in ("/", "/accounts/login/", "/board/", "/api/v1/engagement/leaderboard", "/health"):
        policy = client.get(path)["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["script-src"] == "'self'", path
        assert directives["default-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
        assert directives["object-src"] == "'none'" and "https://api.dicebear.com" in directives["img-src"]


@pytest.mark.django_db
def test_no_template_has_an_inline_script_or_handler():
    """The source-level half of the browser test below: pages it does not visit are covered too."""
    import re
    from pathlib import Path

    templates = Path(__file__).resolve().parent.parent / "templates"
    offenders = []
    for path in templates.rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", text):
            offenders.append(f"{path.name}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path.name}: on*= handler")
    assert offenders == []


@pytest.fixture
def site(make_user):
    """A staff member who may use every page, and something on each page to show."""
    staff = make_user("boss", is_staff=True, is_superuser=True)
    organizer = Organizer.objects.create(name="Org", slug="org")
    event = Event.objects.create(organizer=organizer, name="Conf", slug="conf")
    CheckinList.objects.create(event=event, name="Main", attendance_points=5)
    OrganizerMembership.objects.create(organizer=organizer, user=staff, can_checkin=True, can_manage=True)
    activity = Activity.objects.create(name="Booths", slug="booths", external_id=102)
    template = ClaimTemplate.objects.create(name="Booth A", activity=activity, points=15)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["award_points", "view_claimtemplate"]))
    ledger.award(member=ledger.member_for_user(staff), reason="demo", points=120)
    member = ledger.member_for_user(make_user("fan"))
    return {"template": template, "member": member}


def _visit(page, path: str, console: list[str]) -> list[str]:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    return page.evaluate("window.__csp") + [line for line in console if "Content Security Policy" in line]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_page_passes_the_policy_in_chromium(page, login, site):
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.context.add_init_script(RECORD_VIOLATIONS)
    anonymous = {path: _visit(page, path, console) for path in ("/", "/accounts/login/", "/board/")}
    login("boss", next_url="/me/")
    pages = ["/", "/me/", "/me/points/", "/claim/", "/door/", "/door/stats/", "/staff/attribution/", "/board/",
             f"/staff/claim-sheet/?ids={site['template'].pk}", "/admin/", "/admin/points_bridge/claimtemplate/",
             "/admin/points_bridge/claimtemplate/add/", f"/admin/engagement/member/{site['member'].pk}/adjust/",
             "/admin/rewards/engagementoverview/", "/api/docs/"]
    logged_in = {path: _visit(page, path, console) for path in pages}
    assert {path: found for path, found in {**anonymous, **logged_in}.items() if found} == {}
    # The Swagger UI really started (its script is a separate file now, not inline).
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .information-container", timeout=15_000)


@pytest.mark.django_db
def test_the_kept_header_is_django_csps_own_policy(client):
    from csp.utils import build_policy

    assert client.get("/")["Content-Security-Policy"] == build_policy()


@pytest.mark.django_db
def test_a_settings_change_is_not_hidden_by_the_kept_header(client, settings):
    client.get("/")  # keep the header
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert client.get("/")["Content-Security-Policy"] == "default-src 'none'"


def test_a_per_response_policy_still_goes_through_django_csp(rf):
    from csp.decorators import csp_update
    from django.http import HttpResponse

    from config.csp import CSPMiddleware

    updated = CSPMiddleware(csp_update({"img-src": ["https://example.org"]})(lambda request: HttpResponse("ok")))
    plain = CSPMiddleware(lambda request: HttpResponse("ok"))
    assert "https://example.org" not in plain(rf.get("/"))["Content-Security-Policy"]
    assert "https://example.org" in updated(rf.get("/"))["Content-Security-Policy"]
    assert "https://example.org" not in plain(rf.get("/"))["Content-Security-Policy"]
