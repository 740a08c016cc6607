#!/usr/bin/env python
"""Soak: mixed traffic against the production shape while Redis, the worker and PostgreSQL connections fail.

gunicorn (DEBUG=false), a Celery worker and beat run against a fresh PostgreSQL database and a private,
non-persistent redis-server (tests/live.py starts them; the machine's own Redis is never touched). Client
processes send awards (``/engagement/events``), redemptions, door scans, Point System adds and QR claims,
each write with its own idempotency key or nonce; a client that gets a 503 retries the same request, as a
real client would. On a schedule the soak kills Redis (SIGKILL: every queued message is lost), kills the
worker, kills both, and terminates every PostgreSQL connection of the servers (a database restart).

At the end it waits for the outbox to drain, runs ``verify_ledger`` and counts, per kind of write, what the
clients were told against what the database holds (lost: acknowledged but missing; duplicated: stored
more than acknowledged), and every side effect expected against delivered: achievement unlocks and their
emails, redemption emails, check-in awards, outbox rows. docs/reliability.md records the figures.

    .venv/bin/python bench/soak.py [--seconds 180] [--clients 4] [--members 200] [--workers 3]
"""

import argparse
import json
import multiprocessing
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import recreate_database, setup_django  # noqa: E402

DB_NAME = "plaudit_bench_soak"
API_KEY = "soak-point-system-key"
PASSWORD = "soak-password"
KINDS = ("award", "redeem", "scan", "point_add", "claim")


# --- Set-up (in this process, through the ORM) -----------------------------------------------------------

def prepare(members: int, tickets_per_member: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Permission
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from checkin.models import CheckinList, Event, Ticket
    from engagement import services
    from points_bridge import tokens
    from points_bridge.models import ClaimTemplate
    from rewards.models import Reward
    from rewards.presets import PRESETS

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    users = get_user_model()
    frontend = users.objects.create_user("soak-frontend", password=PASSWORD)
    frontend.user_permissions.add(Permission.objects.get(codename="record_action"))
    staff = users.objects.get(username="staff")
    hashed = make_password(PASSWORD)  # once: hashing 200 passwords would take longer than the soak's set-up
    users.objects.bulk_create([users(username=f"soak-{i}", password=hashed, email=f"soak-{i}@example.org")
                               for i in range(members)])
    people = list(users.objects.filter(username__startswith="soak-").exclude(pk=frontend.pk).order_by("pk"))
    event = Event.objects.get(organizer__slug="demo", slug="demo-event")
    door = CheckinList.objects.get(event=event, name="Main entrance")
    tickets = []
    for user in people:
        member = services.member_for_user(user)
        services.award(member=member, reason="test_fund", points=5000)
        tickets += [Ticket(event=event, order_code=f"S{user.pk}{n}", member=member, attendee_name=user.username)
                    for n in range(tickets_per_member)]
    Ticket.objects.bulk_create(tickets)
    reward = Reward.objects.create(**{**PRESETS["merch_physical"], "name": "Soak sticker", "cost_points": 5,
                                      "stock": 1_000_000})
    template = ClaimTemplate.objects.create(name="Soak booth", points=2, points_mode="automatic", claim_limit=None)
    return {
        "frontend": Token.objects.create(user=frontend).key, "staff": Token.objects.create(user=staff).key,
        "members": [(u.pk, Token.objects.create(user=u).key) for u in people],
        "secrets": [t.secret for t in Ticket.objects.filter(order_code__startswith="S")],
        "list_id": door.pk, "reward_id": reward.pk,
        "claim_code": tokens.claim_token(template_id=template.pk, version=template.version),
        "frontend_id": frontend.pk,
    }


# --- Clients (separate processes, HTTP only) -------------------------------------------------------------

def client(index: int, url: str, data: dict, until: float, results) -> None:
    import httpx

    rng = random.Random(index)
    secrets = data["secrets"][index::data["clients"]]
    inside: list[str] = []
    log: list[tuple] = []
    with httpx.Client(base_url=url, timeout=30) as http:
        while time.time() < until:
            kind = rng.choices(KINDS, weights=(40, 10, 30, 10, 10))[0]
            user_id, token = rng.choice(data["members"])
            key = uuid.uuid4().hex
            if kind == "award":
                request = ("POST", "/api/v1/engagement/events", data["frontend"],
                           {"json": {"user_id": user_id, "reason": rng.choice(["comment_create", "poll_vote"]),
                                     "idempotency_key": key}})
            elif kind == "redeem":
                request = ("POST", "/api/v1/engagement/redeem", token,
                           {"json": {"reward_id": data["reward_id"]}, "headers": {"Idempotency-Key": key}})
            elif kind == "scan":
                exit_now = inside and rng.random() < 0.3
                secret = inside.pop(rng.randrange(len(inside))) if exit_now else secrets[rng.randrange(len(secrets))]
                request = ("POST", "/api/v1/organizers/demo/checkinrpc/redeem/", data["staff"],
                           {"json": {"secret": secret, "lists": [data["list_id"]], "nonce": key,
                                     "type": "exit" if exit_now else "entry"}})
            elif kind == "point_add":
                request = ("POST", f"/points/{100_000 + rng.randrange(50)}/add?type=manual", None,
                           {"json": {"points": 3, "description": "soak"},
                            "headers": {"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": key}})
            else:
                request = ("POST", "/api/v1/points/claim", token,
                           {"json": {"code": data["claim_code"]}, "headers": {"Idempotency-Key": key}})
            status, body, retries = send(http, *request)
            log.append((kind, status, retries, key, body))
            if kind == "scan" and status == 201 and request[3]["json"]["type"] == "entry":
                inside.append(request[3]["json"]["secret"])
    results.put(log)


def send(http, method: str, path: str, token: str | None, options: dict) -> tuple[int, dict, int]:
    """One request; a 503 (the database was lost mid-request) or a dropped connection is retried with the
    same key or nonce, as real clients do. Returns (final status, JSON body, retries)."""
    import httpx

    headers = {**options.get("headers", {}), **({"Authorization": f"Token {token}"} if token else {})}
    for attempt in range(20):
        try:
            response = http.request(method, path, json=options.get("json"), headers=headers)
        except httpx.TransportError:
            time.sleep(0.5)
            continue
        if response.status_code != 503:
            try:
                body = response.json()
            except ValueError:
                body = {"non_json": response.text[:200]}
            return response.status_code, body if isinstance(body, dict) else {"list": True}, attempt
        time.sleep(0.5)
    return 599, {}, 20


# --- Faults ---------------------------------------------------------------------------------------------

def faults(seconds: float) -> list[tuple[float, str]]:
    plan = [(0.12, "kill redis"), (0.24, "start redis"), (0.36, "kill worker"), (0.48, "start worker"),
            (0.58, "terminate database connections"), (0.66, "kill redis"), (0.66, "kill worker"),
            (0.78, "start redis"), (0.78, "start worker"), (0.88, "terminate database connections")]
    return [(at * seconds, action) for at, action in plan]


def inject(action: str, processes: dict, env: dict, log_dir: Path) -> None:
    from tests import live

    if action == "kill redis":
        processes["redis"].stop(kill=True)
    elif action == "start redis":
        processes["redis"].start()
    elif action == "kill worker":
        processes["worker"].proc.send_signal(signal.SIGKILL)
        processes["worker"].proc.wait()
    elif action == "start worker":
        processes["worker"] = live.celery_worker(env, log_dir)
    else:
        terminate_connections()


def terminate_connections() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


# --- Accounting -----------------------------------------------------------------------------------------

def counts(data: dict) -> dict:
    """What the database holds of each kind of write and side effect (taken before and after the traffic)."""
    from checkin.models import Scan
    from engagement.models import LedgerEntry, MemberAchievement
    from points_bridge.models import Claim
    from rewards.models import Redemption

    return {
        "award": LedgerEntry.objects.filter(actor_id=data["frontend_id"]).count(),
        "redeem": Redemption.objects.count(), "scan": Scan.objects.filter(successful=True).count(),
        "point_add": LedgerEntry.objects.filter(reason="point_system:manual").count(),
        "claim": Claim.objects.count(), "unlocks": MemberAchievement.objects.count(),
        "checkin_awards": LedgerEntry.objects.filter(reason="checkin").count(),
    }


def acknowledged(logs: list[tuple]) -> dict[str, set[str]]:
    """Per kind, the keys (idempotency keys, nonces) of writes the server said it made (a 200 is a replay
    of an earlier 201 that the client did not see, e.g. after a dropped connection)."""
    acked: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for kind, status, _retries, key, body in logs:
        if status in (200, 201) and (kind != "award" or body.get("awarded")):
            acked[kind].add(key)
    return acked


def tally(logs: list[tuple], data: dict, before: dict, log_dir: Path) -> dict:
    from checkin.models import Scan
    from config.models import OutboxTask
    from engagement import achievements
    from engagement.models import LedgerEntry, Member
    from tests import live

    statuses = Counter((kind, f"{status} {body.get('code') or body.get('reason') or ''}".strip())
                       for kind, status, _retries, _key, body in logs)
    acked = acknowledged(logs)
    after = counts(data)
    delta = {k: after[k] - before[k] for k in after}
    award_keys = [f"events:{data['frontend_id']}:{key}" for key in acked["award"]]
    found = {"award": LedgerEntry.objects.filter(idempotency_key__in=award_keys).count(),
             "scan": Scan.objects.filter(nonce__in=acked["scan"], successful=True).count()}
    mail = live.sent_mail(log_dir)
    entered = (Scan.objects.filter(successful=True, type="entry", ticket__order_code__startswith="S")
               .values("ticket_id").distinct().count())
    return {
        "requests": len(logs), "by_status": {f"{k} {s}": n for (k, s), n in sorted(statuses.items())},
        "server_errors": sum(1 for _kind, status, *_ in logs if status >= 500),
        "retried_requests": sum(1 for _kind, _status, retries, *_ in logs if retries),
        "acknowledged": {k: len(v) for k, v in acked.items()},
        "lost": {k: max(0, len(acked[k]) - found.get(k, delta[k])) for k in KINDS},
        "duplicated": {k: max(0, delta[k] - len(acked[k])) for k in KINDS},
        "unlocks": delta["unlocks"], "unlocks_missing": sum(len(achievements.pending(member=m))
                                                           for m in Member.objects.all()),
        "unlock_emails": sum("Subject: Achievement unlocked" in m for m in mail),
        "redemption_emails": sum("Subject: We received your order" in m or "Subject: Enjoy your reward" in m
                                 for m in mail),
        "checkin_awards": delta["checkin_awards"], "tickets_entered": entered,
        "outbox_rows": OutboxTask.objects.count(),
        "outbox_unfinished": OutboxTask.objects.filter(done_at__isnull=True).count(),
    }


def problems(f: dict) -> list[str]:
    found = [f"{f['server_errors']} 5xx"] if f["server_errors"] else []
    found += [f"{n} {k} lost" for k, n in f["lost"].items() if n]
    found += [f"{n} {k} duplicated" for k, n in f["duplicated"].items() if n]
    if f["unlocks_missing"]:
        found.append(f"{f['unlocks_missing']} unlocks missing")
    if f["unlock_emails"] != f["unlocks"]:
        found.append(f"{f['unlock_emails']} unlock emails for {f['unlocks']} unlocks")
    if f["redemption_emails"] != f["acknowledged"]["redeem"]:
        found.append(f"{f['redemption_emails']} redemption emails for {f['acknowledged']['redeem']} redemptions")
    if f["checkin_awards"] != f["tickets_entered"]:
        found.append(f"{f['checkin_awards']} check-in awards for {f['tickets_entered']} tickets entered")
    if f["outbox_unfinished"]:
        found.append(f"{f['outbox_unfinished']} outbox rows unfinished")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    url = recreate_database(DB_NAME)
    log_dir = Path(tempfile.mkdtemp(prefix="plaudit-soak-"))
    setup_django(url, POINT_SYSTEM_API_KEY=API_KEY, REDIS_URL="",
                 EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
    from django.core.management import call_command
    from django.db import connections

    from tests import live

    data = prepare(args.members, tickets_per_member=20)
    data["clients"] = args.clients
    connections.close_all()
    redis = live.RedisServer(log_dir).start()
    # The servers sign with the same key as this process, which printed the claim code.
    env = live.server_env(redis_url=redis.url, log_dir=log_dir, DATABASE_URL=url, POINT_SYSTEM_API_KEY=API_KEY,
                          SECRET_KEY=os.environ["SECRET_KEY"],
                          OUTBOX_SWEEP_SECONDS="5", OUTBOX_RESEND_SECONDS="10")
    web, base = live.gunicorn(env, log_dir, workers=args.workers)
    processes = {"redis": redis, "web": web, "worker": live.celery_worker(env, log_dir),
                 "beat": live.celery_beat(env, log_dir)}
    before = counts(data)
    connections.close_all()
    print(f"soak: {args.seconds:.0f} s, {args.clients} clients, {args.workers} gunicorn workers; logs in {log_dir}")
    started = time.time()
    results = multiprocessing.get_context("fork").Queue()
    pool = [multiprocessing.get_context("fork").Process(target=client, args=(i, base, data, started + args.seconds,
                                                                             results)) for i in range(args.clients)]
    for p in pool:
        p.start()
    injected = []
    for at, action in faults(args.seconds):
        time.sleep(max(0.0, started + at - time.time()))
        inject(action, processes, env, log_dir)
        injected.append(f"{at:5.0f} s  {action}")
        print("  fault:", injected[-1], flush=True)
    logs = [entry for _ in pool for entry in results.get()]
    for p in pool:
        p.join()
    print(f"traffic done: {len(logs)} requests; waiting for the outbox to drain", flush=True)
    from config.models import OutboxTask

    drained = time.time()
    live.wait_until(lambda: not OutboxTask.objects.filter(done_at__isnull=True).exists(), timeout=600, every=1,
                    what="the outbox to drain")
    figures = tally(logs, data, before, log_dir)
    figures.update(faults=injected, drain_seconds=round(time.time() - drained, 1), seconds=args.seconds,
                   clients=args.clients, gunicorn_workers=args.workers)
    call_command("verify_ledger", "--no-progress", stdout=sys.stdout)
    for process in reversed(list(processes.values())):
        process.stop()
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    found = problems(figures)
    print(f"soak: {figures['requests']} requests, {len(injected)} faults, {figures['server_errors']} 5xx, "
          f"lost {sum(figures['lost'].values())}, duplicated {sum(figures['duplicated'].values())}, "
          f"unlocks {figures['unlocks']} (missing {figures['unlocks_missing']}), emails "
          f"{figures['unlock_emails']} + {figures['redemption_emails']}: {'; '.join(found) or 'OK'}")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
