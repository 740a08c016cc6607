"""The production path, booted exactly as ``make prod-local`` boots it, and one story walked over HTTP.

``.ci/prod-local`` runs as a real process group with DEBUG=false: collectstatic into a temporary
STATIC_ROOT, migrate, ``check --deploy --fail-level WARNING``, then gunicorn + Celery worker + beat under
honcho, on the test database and a private redis-server. Then, over HTTP: every page answers 200 for its
role (and the static files it links are in the manifest), a member earns points, a worker unlocks an
achievement, the member redeems, an admin approves, an attendee checks in and out, a Point System client
adds and reads, /healthz and /metrics answer. Finally a Ctrl-C (SIGINT to the group) stops everything.

The test plays the TLS-terminating proxy of the README's production steps: every request carries
``X-Forwarded-Proto: https`` from loopback, so SECURE_SSL_REDIRECT stays on as in production and
``check --deploy`` has nothing to say. The session and CSRF cookies are ``Secure``, which an HTTP client
rightly never sends over ``http://``; ``Proxy`` below keeps them itself, as the browser behind the proxy would.
"""

import os
import re
import secrets
import signal
from http.cookies import SimpleCookie

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from rest_framework.authtoken.models import Token

from checkin.models import CheckinList, Ticket
from engagement.models import LedgerEntry, MemberAchievement
from rewards.models import Redemption, Reward
from rewards.presets import PRESETS
from tests import live

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="needs PostgreSQL: server processes cannot share the test's SQLite database"),
    pytest.mark.skipif(not live.shutil.which("redis-server"), reason="needs the redis-server binary"),
    pytest.mark.skipif(not (live.BASE_DIR / "static/vendor/jsqr/jsQR.js").exists(), reason="run `make static` first"),
]
POINT_SYSTEM_KEY = "smoke-point-system-key"
PAGES = {
    None: ["/", "/board/", "/accounts/login/", "/api/docs/"],
    "alice": ["/me/", "/me/points/", "/claim/"],
    "staff": ["/door/", "/door/stats/", "/staff/attribution/"],
    "admin": ["/admin/", "/admin/rewards/redemption/", "/admin/engagement/ledgerentry/"],
}


class Proxy:
    """Talks to gunicorn as the TLS proxy in front of it would, keeping one visitor's cookies."""

    def __init__(self, url: str):
        self.url, self.cookies = url, {}

    def request(self, method: str, path: str, *, headers: dict | None = None, **kwargs):
        origin = "https://" + self.url.split("://", 1)[1]
        sent = {"X-Forwarded-Proto": "https", "Origin": origin, "Referer": origin + path, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        response = live.httpx.request(method, self.url + path, headers=sent, timeout=20, **kwargs)
        for header in response.headers.get_list("set-cookie"):
            jar = SimpleCookie()
            jar.load(header)
            self.cookies.update({name: morsel.value for name, morsel in jar.items()})
        return response

    def login(self, username: str, password: str = "demo") -> None:
        self.request("GET", "/accounts/login/")
        response = self.request("POST", "/accounts/login/", data={
            "username": username, "password": password, "csrfmiddlewaretoken": self.cookies["csrftoken"]})
        assert response.status_code == 302, response.text[:500]


@pytest.fixture
def site(tmp_path):
    call_command("seed_demo", verbosity=0)
    redis = live.RedisServer(tmp_path).start()
    env = live.server_env(redis_url=redis.url, log_dir=tmp_path, SECRET_KEY=secrets.token_urlsafe(50),
                          SECURE_SSL_REDIRECT="true", TRUSTED_PROXIES="127.0.0.1", STATIC_ROOT=str(tmp_path / "static"),
                          POINT_SYSTEM_API_KEY=POINT_SYSTEM_KEY, HEARTBEAT_SECONDS="1", OUTBOX_SWEEP_SECONDS="2",
                          WEB_CONCURRENCY="2", CELERY_CONCURRENCY="1")
    server, url = live.prod_local(env, tmp_path)
    yield {"url": url, "server": server, "redis": redis, "prometheus": server.env["PROMETHEUS_MULTIPROC_DIR"]}
    server.stop()
    redis.stop()


def api(site, method: str, path: str, *, token: str | None = None, **kwargs):
    headers = {"X-Forwarded-Proto": "https", **({"Authorization": f"Token {token}"} if token else {})}
    return live.httpx.request(method, site["url"] + path, headers=headers, timeout=20, **kwargs)


def assert_pages_and_their_static_files(site) -> None:
    for username, paths in PAGES.items():
        visitor = Proxy(site["url"])
        if username:
            visitor.login(username)
        for path in paths:
            response = visitor.request("GET", path)
            assert response.status_code == 200, (username, path, response.status_code, site["server"].output())
            for asset in set(re.findall(r'(?:src|href)="(/static/[^"]+)"', response.text)):
                assert visitor.request("GET", asset).status_code == 200, (path, asset)


def earn_unlock_redeem_approve(site, tokens: dict, make_user) -> None:
    carol = make_user("carol", password="pw-carol")
    tokens["carol"] = Token.objects.create(user=carol).key
    earned = api(site, "POST", "/api/v1/engagement/events", token=tokens["admin"],
                 json={"user_id": carol.pk, "reason": "comment_create"})
    assert earned.status_code == 201, earned.text
    live.wait_until(lambda: MemberAchievement.objects.filter(member__user=carol, achievement__code="first_comment")
                    .exists(), timeout=60, what="the worker to unlock first_comment")
    reward = Reward.objects.create(**{**PRESETS["merch_physical"], "cost_points": 10, "stock": 5})
    redeemed = api(site, "POST", "/api/v1/engagement/redeem", token=tokens["carol"], json={"reward_id": reward.pk})
    assert redeemed.status_code == 201 and redeemed.json()["status"] == "pending", redeemed.text
    redemption_id = redeemed.json()["redemption_id"]
    approved = api(site, "PATCH", f"/api/v1/admin/engagement/redemptions/{redemption_id}",
                   token=tokens["admin"], json={"action": "approve"})
    assert approved.status_code == 200, approved.text
    assert Redemption.objects.get(pk=redemption_id).status == Redemption.Status.APPROVED


def check_in_and_out(site, tokens: dict) -> None:
    ticket = Ticket.objects.get(order_code="DEMO0001")
    clist = CheckinList.objects.get(event=ticket.event)
    path = f"/api/v1/organizers/{ticket.event.organizer.slug}/checkinrpc/redeem/"
    for direction in ("entry", "exit"):
        scan = api(site, "POST", path, token=tokens["staff"],
                   json={"secret": ticket.secret, "lists": [clist.pk], "type": direction})
        assert scan.status_code == 201 and scan.json()["status"] == "ok", scan.text
    live.wait_until(lambda: LedgerEntry.objects.filter(member=ticket.member, reason="checkin").exists(),
                    timeout=60, what="the worker to award attendance")


def point_system_adds_and_reads(site) -> None:
    alice_id = Ticket.objects.get(order_code="DEMO0001").member.user_id
    added = live.httpx.post(f"{site['url']}/points/{alice_id}/add?type=manual", timeout=20,
                            headers={"Authorization": f"Bearer {POINT_SYSTEM_KEY}", "X-Forwarded-Proto": "https"},
                            json={"points": 7, "description": "smoke test"})
    assert added.status_code == 201, added.text
    history = api(site, "GET", f"/points/{alice_id}/history")
    assert history.status_code == 200 and history.json()["history"][0]["points"] == 7, history.text


def health_and_metrics(site) -> None:
    live.wait_until(lambda: live.httpx.get(f"{site['url']}/healthz", timeout=5).status_code == 200, timeout=60,
                    what="/healthz 200")  # plain HTTP, as a load balancer probes: exempt from the redirect
    assert live.httpx.get(f"{site['url']}/healthz", timeout=5).json()["checks"]["worker"]["ok"] is True
    metrics = live.httpx.get(f"{site['url']}/metrics", timeout=10)
    assert metrics.status_code == 200
    assert 'plaudit_scans_total{result="ok",type="entry"} 1.0' in metrics.text
    approved = Redemption.objects.filter(status=Redemption.Status.APPROVED).count()
    assert f'plaudit_redemptions_in_status{{status="approved"}} {approved:.1f}' in metrics.text
    assert 'plaudit_http_request_duration_seconds_count{method="GET",status="200",view="fan-zone"}' in metrics.text
    through_proxy = live.httpx.get(f"{site['url']}/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
    assert through_proxy.status_code == 403 and through_proxy.json()["code"] == "metrics_forbidden"


@pytest.mark.django_db(transaction=True)
def test_prod_local_boots_and_a_story_runs_over_http(site, make_user):
    users = get_user_model().objects.filter(username__in=["admin", "staff"])
    tokens = {user.username: Token.objects.get_or_create(user=user)[0].key for user in users}
    assert_pages_and_their_static_files(site)
    earn_unlock_redeem_approve(site, tokens, make_user)
    check_in_and_out(site, tokens)
    point_system_adds_and_reads(site)
    health_and_metrics(site)

    stop_like_ctrl_c(site)


def stop_like_ctrl_c(site) -> None:
    """SIGINT to the process group, as a terminal's Ctrl-C: honcho stops web, worker and beat with SIGTERM
    and exits 130 (128 + SIGINT, the shell's convention for "interrupted"); nothing of ours is left."""
    server = site["server"].proc
    os.killpg(server.pid, signal.SIGINT)
    assert server.wait(timeout=60) == 130, site["server"].output()
    log = site["server"].output(tail=20_000)
    for name in ("web", "worker", "beat"):
        assert re.search(rf"{name}\.1 stopped \(rc=(0|-15)\)", log), log[-3000:]
    assert live.pids_with_env("PROMETHEUS_MULTIPROC_DIR", site["prometheus"]) == []
    with pytest.raises(live.httpx.ConnectError):
        live.httpx.get(f"{site['url']}/healthz", timeout=5)
