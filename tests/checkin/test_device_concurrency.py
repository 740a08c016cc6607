"""A device's initialization token is single use under real concurrent requests (PostgreSQL), with a
negative control that drops the claim's condition and shows several apps getting API tokens."""

import threading

import pytest

from checkin import devices
from checkin.errors import DeviceTokenInvalid
from checkin.models import Device, Organizer
from tests.concurrency import postgres_only, run_concurrently

pytestmark = [postgres_only, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 10


@pytest.fixture
def init_token():
    organizer = Organizer.objects.create(name="Org", slug="org")
    return devices.create_device(organizer=organizer, name="Door", all_events=True).token


def race(token, monkeypatch):
    # Every app reads the device before any of them claims it: the widest gap the claim must close.
    barrier, original = threading.Barrier(THREADS), devices.find_by_init_token

    def paused(value):
        found = original(value)
        barrier.wait(timeout=20)
        return found

    monkeypatch.setattr(devices, "find_by_init_token", paused)

    def initialize(i):
        try:
            return devices.initialize(token=token, info={"software_brand": f"app-{i}"}).token
        except DeviceTokenInvalid:
            return None

    results, errors = run_concurrently(initialize, threads=THREADS)
    assert errors == []
    return [r for r in results if r is not None]


def test_racing_apps_get_one_api_token(init_token, monkeypatch):
    issued = race(init_token, monkeypatch)
    assert len(issued) == 1
    assert devices.by_api_token(issued[0]) == Device.objects.get()


def test_negative_control_without_the_claims_condition_several_apps_get_tokens(init_token, monkeypatch):
    monkeypatch.setattr(devices, "claim_init_token", lambda pk, token_hash, **fields: Device.objects.filter(
        pk=pk).update(**fields))
    issued = race(init_token, monkeypatch)
    assert len(issued) > 1
    # ...and all but the last writer's token are dead: apps that were told "initialized" cannot scan.
    assert sum(devices.by_api_token(t) is not None for t in issued) == 1
