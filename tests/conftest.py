"""Shared fixtures. App-specific fixtures live in tests/<app>/conftest.py."""

import os
import shutil

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.test import APIClient

from config.celery import app as celery_app
from engagement.leaderboards.seasons import forget_seasons
from engagement.services import member_for_user

CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
]


@pytest.fixture(autouse=True)
def _eager_celery_and_clean_cache():
    """Tasks run in-process unless a test starts a real worker; every test starts with an empty cache."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    cache.clear()
    forget_seasons()  # a rolled-back test's season must not linger in the per-process season cache
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _no_cached_live_challenges():
    """The per-process cache of live challenges would outlive a test's rolled-back challenges (the demo
    seeds one) and make later tests' awards enqueue evaluations they do not expect."""
    from engagement.challenges import clear_live

    clear_live()
    yield
    clear_live()


@pytest.fixture(autouse=True)
def _seeded_defaults(request):
    """Transactional tests flush the database after each test, seeded rows included; put them back."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and bool(marker.kwargs.get("transaction") or marker.args[:1] == (True,))
    if transactional or "transactional_db" in request.fixturenames or "live_server" in request.fixturenames:
        from engagement.defaults import seed_all

        request.getfixturevalue("_django_db_helper" if marker is not None else "transactional_db")
        seed_all()


@pytest.fixture
def make_user(db):
    def make(username: str = "member", *, password: str = "pw-for-tests", **extra):
        return get_user_model().objects.create_user(username=username, password=password,
                                                    email=f"{username}@example.org", **extra)

    return make


@pytest.fixture
def user(make_user):
    return make_user("alice")


@pytest.fixture
def member(user):
    return member_for_user(user)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def member_api(api, user):
    api.force_authenticate(user)
    return api


@pytest.fixture
def admin_user(make_user):
    return make_user("root-admin", is_superuser=True, is_staff=True)


@pytest.fixture
def admin_api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


# --- Headless Chromium (Debian's package) driven by Playwright ------------------------------------------


@pytest.fixture(scope="session")
def chromium():
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        pytest.skip("Debian's chromium is not installed (run `make browser` as root)")
    # Playwright's sync API runs an event loop in this thread; the Django ORM calls the tests make
    # around it are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    """A phone-sized page; ``page.base_url`` is the live server."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, base_url=live_server.url,
                                   has_touch=True, is_mobile=True)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.base_url = live_server.url
    yield tab
    context.close()


@pytest.fixture
def login(page):
    def do_login(username: str, password: str = "pw-for-tests", *, next_url: str = "/"):
        page.goto(f"/accounts/login/?next={next_url}")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    return do_login


def pytest_collection_modifyitems(items):
    """Every test that drives Chromium carries the ``browser`` marker, whether or not its module says so
    (``-m "not browser"`` then leaves out exactly those; .ci/run's SQLite pass does)."""
    for item in items:
        if "chromium" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
