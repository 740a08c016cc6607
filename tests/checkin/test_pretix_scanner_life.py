"""A pretix-family scanner app's whole life against Plaudit, over HTTP only, as pretixSCAN plays it:
set up from the admin's token, download, scan online, go offline and queue, come back and upload (one
refusal through failed_checkins, the rest forced with their nonces, then the whole queue again), refresh
with modified_since, roll the token, get revoked. Every scan lands in the scan log with the device, and
the online entry of a member's ticket earns attendance points as a staff scan does."""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from checkin.models import Device, Scan, Ticket, TicketListState
from engagement.models import LedgerEntry
from points_bridge.models import AwardRule

pytestmark = pytest.mark.django_db


def admin_creates_device(make_user, organizer, event) -> str:
    admin = Client()
    admin.force_login(make_user("boss", is_staff=True, is_superuser=True))
    response = admin.post("/admin/checkin/device/add/", {
        "organizer": organizer.pk, "name": "Door phone", "limit_events": [event.pk], "gate": "Main door",
    }, follow=True)
    assert response.status_code == 200
    shown = " ".join(str(m) for m in get_messages(response.wsgi_request))
    return re.search(r"Initialization token for Door phone .*?: ([a-z0-9]{16}) ", shown).group(1)


def download(client, url: str) -> list[dict]:
    """Every page, following ``next`` as the apps do."""
    found = []
    while url:
        body = client.get(url).json()
        found += body["results"]
        url = body["next"]
    return found


def test_a_scanner_app_lives_its_whole_life_over_http(make_user, organizer, event, clist, make_ticket, member,
                                                      django_capture_on_commit_callbacks):
    AwardRule.objects.create(name="Attendance", checkin_list=clist)
    alice = make_ticket(member=member)
    bob, carol, dave = make_ticket(), make_ticket(), make_ticket(status=Ticket.Status.CANCELED)
    Ticket.objects.update(modified=timezone.now() - timedelta(hours=1))  # sold long before the doors open
    base = f"/api/v1/organizers/{organizer.slug}/"
    lists_url = f"{base}events/{event.slug}/checkinlists/"

    # Provision: the admin's token, once.
    token = admin_creates_device(make_user, organizer, event)
    init = APIClient().post("/api/v1/device/initialize", {"token": token, "hardware_brand": "Google",
                            "hardware_model": "Pixel", "software_brand": "pretixSCAN", "software_version": "1.0"},
                            format="json")
    assert init.status_code == 200
    app = APIClient(HTTP_AUTHORIZATION=f"Device {init.json()['api_token']}")
    assert app.get("/api/v1/device/info").json()["device"]["name"] == "Door phone"

    # Download: events, items, lists, every page of positions (cancelled ones are left out).
    assert [e["slug"] for e in download(app, f"{base}events/")] == [event.slug]
    assert len(download(app, f"{base}events/{event.slug}/items/")) == 1
    assert [c["id"] for c in download(app, lists_url)] == [clist.pk]
    positions_url = f"{lists_url}{clist.pk}/positions/"
    first = app.get(positions_url, {"page_size": 2})
    offline = {p["secret"]: p for p in download(app, first.request["PATH_INFO"] + "?page_size=2")}
    assert set(offline) == {alice.secret, bob.secret, carol.secret}
    synced_at = first.headers["X-Page-Generated"]

    # Online: Alice comes in and earns her attendance points.
    with django_capture_on_commit_callbacks(execute=True):
        online = app.post(f"{base}checkinrpc/redeem/", {"secret": alice.secret, "lists": [clist.pk],
                          "nonce": "online-1"}, format="json")
    assert online.status_code == 201 and online.json()["position"]["item"] == offline[alice.secret]["item"]
    assert LedgerEntry.objects.get(member=member).reason == "checkin"

    # Offline: the app decides from its copy and queues; Dave's code is unknown to it (cancelled).
    earlier = timezone.now() - timedelta(minutes=5)
    queue = [
        {"secret": bob.secret, "lists": [clist.pk], "type": "entry", "nonce": "q-1"},
        {"secret": carol.secret, "lists": [clist.pk], "type": "entry", "nonce": "q-2"},
        {"secret": alice.secret, "lists": [clist.pk], "type": "exit", "nonce": "q-3"},
    ]
    for i, scan in enumerate(queue):
        scan.update(datetime=(earlier + timedelta(seconds=i)).isoformat(), force=True)
    refused = {"raw_barcode": dave.secret, "error_reason": "invalid", "datetime": earlier.isoformat()}

    # Back online: the refusal goes to failed_checkins, the rest are uploaded forced with their nonces...
    assert app.post(f"{lists_url}{clist.pk}/failed_checkins/", refused, format="json").status_code == 201
    assert [app.post(f"{base}checkinrpc/redeem/", s, format="json").status_code for s in queue] == [201] * 3
    # ...and the queue again (the app did not see our answers): nothing new.
    assert [app.post(f"{base}checkinrpc/redeem/", s, format="json").status_code for s in queue] == [201] * 3
    device = Device.objects.get()
    assert Scan.objects.filter(device=device).count() == 5
    assert set(Scan.objects.values_list("device", flat=True)) == {device.pk}
    assert TicketListState.objects.get(ticket=bob).inside and TicketListState.objects.get(ticket=carol).inside
    # Alice's offline exit happened before her online entry: logged, but she is still inside.
    assert TicketListState.objects.get(ticket=alice).inside

    # Refresh: only what changed since the download comes back.
    changed = download(app, f"{positions_url}?modified_since={synced_at.replace('+', '%2B')}")
    assert {p["secret"] for p in changed} == {alice.secret, bob.secret, carol.secret}
    assert len(next(p for p in changed if p["secret"] == bob.secret)["checkins"]) == 1
    history = download(app, f"{base}events/{event.slug}/checkins/?device={device.pk}")
    assert sorted(h["error_reason"] or "ok" for h in history) == ["invalid", "ok", "ok", "ok", "ok"]

    # Roll: the old token dies at once, the new one works.
    rolled = app.post("/api/v1/device/roll").json()["api_token"]
    assert app.get(lists_url).status_code == 401
    app = APIClient(HTTP_AUTHORIZATION=f"Device {rolled}")
    assert app.get(lists_url).status_code == 200

    # Revoked (by the admin here): the next call is a 401, and its scans stay in the log.
    admin = Client()
    admin.force_login(make_user("boss2", is_staff=True, is_superuser=True))
    admin.post("/admin/checkin/device/", {"action": "revoke", "_selected_action": [device.pk]})
    assert app.post(f"{base}checkinrpc/redeem/", queue[0], format="json").status_code == 401
    assert Scan.objects.filter(device=device).count() == 5
