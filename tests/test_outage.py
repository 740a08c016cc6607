"""A night with Redis (cache, rate limits, broker) stopped mid-run, against the production shape.

gunicorn (DEBUG=false), a Celery worker and beat run as real processes on the test database and a
private redis-server without persistence. While Redis is down, writes and logins answer 2xx; when it
comes back *empty* (every queued message gone), the outbox sweep delivers every side effect exactly once.
A PostgreSQL restart is played by terminating the server's connections: the next requests reconnect.
"""

import psycopg
import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from rest_framework.authtoken.models import Token

from config.models import OutboxTask
from engagement import services
from engagement.models import MemberAchievement
from rewards.models import Redemption, Reward
from rewards.presets import PRESETS
from tests import live

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="needs PostgreSQL: server processes cannot share the test's SQLite database"),
    pytest.mark.skipif(not live.shutil.which("redis-server"), reason="needs the redis-server binary"),
]


@pytest.fixture
def night(tmp_path, make_user):
    frontend = make_user("frontend")
    frontend.user_permissions.add(Permission.objects.get(codename="record_action"))
    members = [make_user(name) for name in ("ann", "ben", "cat")]
    for user in members:
        services.award(member=services.member_for_user(user), reason="test_fund", points=100)
    reward = Reward.objects.create(**{**PRESETS["merch_physical"], "cost_points": 10, "stock": 50})
    redis = live.RedisServer(tmp_path).start()
    env = live.server_env(redis_url=redis.url, log_dir=tmp_path, OUTBOX_SWEEP_SECONDS="1", OUTBOX_RESEND_SECONDS="2")
    web, url = live.gunicorn(env, tmp_path)
    processes = [redis, web, live.celery_worker(env, tmp_path), live.celery_beat(env, tmp_path)]
    tokens = {u.username: Token.objects.create(user=u).key for u in [frontend, *members]}
    yield {"url": url, "redis": redis, "tokens": tokens, "members": members, "reward": reward,
           "processes": processes, "dir": tmp_path}
    for process in reversed(processes):
        process.stop()


def call(night, method: str, path: str, *, as_user: str | None = None, **kwargs):
    headers = {"Authorization": f"Token {night['tokens'][as_user]}"} if as_user else {}
    return live.httpx.request(method, night["url"] + path, headers=headers, timeout=15, **kwargs)


def comment(night, user) -> int:
    return call(night, "POST", "/api/v1/engagement/events", as_user="frontend",
                json={"user_id": user.pk, "reason": "comment_create"}).status_code


def terminate_server_connections() -> int:
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                         dbname=db["NAME"], autocommit=True) as admin:
        rows = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = %s AND pid <> pg_backend_pid() AND pid <> %s",
                             [db["NAME"], connection.connection.info.backend_pid]).fetchall()
    return len(rows)


@pytest.mark.django_db(transaction=True)
def test_redis_stopped_mid_run_loses_nothing_and_fails_nothing(night):
    ann, ben, cat = night["members"]
    assert comment(night, ann) == 201  # healthy: delivered through Redis and the worker
    live.wait_until(lambda: not OutboxTask.objects.filter(done_at__isnull=True).exists(), timeout=60,
                    what="the healthy evaluation")

    night["redis"].stop()
    statuses = [comment(night, ben), comment(night, cat)]
    statuses.append(call(night, "POST", "/api/v1/auth/token",
                         json={"username": "ann", "password": "pw-for-tests"}).status_code)
    statuses += [call(night, "POST", "/api/v1/engagement/redeem", as_user=user.username,
                      json={"reward_id": night["reward"].pk}).status_code for user in (ann, ben)]
    statuses.append(call(night, "GET", "/api/v1/engagement/leaderboard").status_code)  # falls back to SQL
    assert statuses == [201, 201, 200, 201, 201, 200], [p.output() for p in night["processes"][1:2]]
    waiting = OutboxTask.objects.filter(done_at__isnull=True).count()
    assert waiting >= 4  # two evaluations and two redemption emails at least, none lost

    connection.ensure_connection()
    assert terminate_server_connections() >= 1  # what a PostgreSQL restart does to kept connections
    assert [comment(night, ann) for _ in range(4)] == [201] * 4  # reconnected (CONN_HEALTH_CHECKS)

    night["redis"].start()  # empty: a Redis without persistence forgot whatever was queued
    live.wait_until(lambda: not OutboxTask.objects.filter(done_at__isnull=True).exists(), timeout=120,
                    what="every side effect delivered after Redis came back")

    for user in (ann, ben, cat):
        assert MemberAchievement.objects.filter(member__user=user, achievement__code="first_comment").count() == 1
    mail = live.sent_mail(night["dir"])
    unlock_mail = [m for m in mail if "Subject: Achievement unlocked: First comment" in m]
    assert sorted(m.split("To: ")[1].split("\n")[0] for m in unlock_mail) == [
        "ann@example.org", "ben@example.org", "cat@example.org"]  # once each, no duplicates
    assert Redemption.objects.count() == 2
    assert len([m for m in mail if "Subject: Enjoy your reward" in m or "Subject: We received your order" in m]) == 2
