"""`make screenshots`: PNGs of every page at desktop (1366×900) and phone (390×844) size, with the demo
data, into screenshots/ (git-ignored) for review. Not part of the test suite (the file name does not
start with test_); the Makefile runs it with -o python_files=screenshots.py."""

from pathlib import Path

import pytest
from django.core.management import call_command

from engagement.demo import DEMO_PASSWORD
from tests.pages.conftest import VIEWPORTS

OUT = Path(__file__).resolve().parents[1] / "screenshots"

# (who is logged in, page name, path); None = anonymous, "alice@cs" = alice reading Czech.
PAGES = [
    (None, "home", "/"), (None, "login", "/accounts/login/?next=/door/"), (None, "board", "/board/"),
    (None, "board-kiosk", "/board/?kiosk=1"), (None, "not-found", "/no-such-page/"),
    ("alice", "fan-zone", "/me/"), ("alice", "my-points", "/me/points/"), ("alice", "claim", "/claim/"),
    ("alice", "forbidden", "/staff/attribution/"), ("alice@cs", "fan-zone-cs", "/me/"),
    ("staff", "door", "/door/"), ("staff", "door-stats", "/door/stats/"), ("staff@cs", "door-cs", "/door/"),
    ("staff", "attribution", "/staff/attribution/"),
    ("admin", "admin-index", "/admin/"), ("admin", "admin-queue", "/admin/rewards/redemption/"),
    ("admin", "admin-overview", "/admin/rewards/engagementoverview/"),
]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_screenshots(chromium, live_server, size):
    call_command("seed_demo")
    folder = OUT / size
    folder.mkdir(parents=True, exist_ok=True)
    contexts = {}
    try:
        for who, name, path in PAGES:
            if who not in contexts:
                contexts[who] = _context(chromium, live_server.url, size, who)
            page = contexts[who].new_page()
            page.goto(path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
            page.close()
    finally:
        for context in contexts.values():
            context.close()
    assert len(list(folder.glob("*.png"))) == len(PAGES)


def _context(chromium, base_url: str, size: str, who: str | None):
    context = chromium.new_context(base_url=base_url, **VIEWPORTS[size])
    username, _, language = (who or "").partition("@")
    if language:
        context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
    if username:
        _log_in(context.new_page(), username)
    return context


def _log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.close()
