"""A refused door scan is the door working: no "Bad Request" warning per refusal. Malformed requests
are still logged, and the refusal itself is in the scan log."""

import logging

import pytest

from checkin.models import Scan

pytestmark = pytest.mark.django_db


def _request_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "django.request"]


def test_a_refused_second_entry_is_not_logged_as_a_warning(door_api, redeem_url, ticket, clist, caplog):
    body = {"secret": ticket.secret, "lists": [clist.pk]}
    assert door_api.post(redeem_url, body, format="json").status_code == 201
    with caplog.at_level(logging.WARNING):
        refused = door_api.post(redeem_url, body, format="json")
        unknown = door_api.post(redeem_url, {"secret": "no-such-ticket", "lists": [clist.pk]}, format="json")
    assert (refused.status_code, refused.json()["reason"]) == (400, "already_redeemed")
    assert unknown.status_code == 404
    assert _request_warnings(caplog) == []
    assert Scan.objects.filter(successful=False).count() == 2  # both refusals are in the scan log


def test_a_malformed_scan_request_is_still_logged(door_api, redeem_url, caplog):
    with caplog.at_level(logging.WARNING):
        response = door_api.post(redeem_url, {"secret": "", "lists": "nope"}, format="json")
    assert response.status_code == 400
    assert any(message.startswith("Bad Request") for message in _request_warnings(caplog))


def test_a_refused_single_checkout_is_not_logged(door_api, base, ticket, clist, caplog):
    with caplog.at_level(logging.WARNING):
        response = door_api.post(f"{base}checkout/single/", {"position_id": ticket.pk, "checkin_list_id": clist.pk},
                                 format="json")
    assert response.status_code == 400
    assert _request_warnings(caplog) == []
