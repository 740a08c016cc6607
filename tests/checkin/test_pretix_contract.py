"""pretix's documented request/response examples replayed against Plaudit (doc/api/deviceauth.rst and
doc/api/resources/{checkin,checkinlists,orders,events,items}.rst of pretix): status codes, every
documented key and its JSON type. Plaudit's own keys stay in the same answers (test_api.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from checkin import devices, services
from checkin.models import Device, Event, Organizer, Scan, Ticket, TicketListState, TicketType
from checkin.selectors import inside_from_log

pytestmark = pytest.mark.django_db

S, I, B, L, D, N = str, int, bool, list, dict, type(None)  # noqa: E741 - JSON types, read like a schema

POSITION = {"id": I, "order": S, "positionid": I, "item": I, "variation": N, "price": S, "attendee_name": S,
            "attendee_name_parts": D, "attendee_email": S, "voucher": N, "tax_rate": S, "tax_rule": N,
            "tax_value": S, "secret": S, "addon_to": N, "subevent": N, "pseudonymization_id": S, "seat": N,
            "checkins": L, "answers": L, "downloads": L, "order__status": S, "require_attention": B}
CHECKIN = {"id": I, "list": I, "datetime": S, "type": S, "gate": (S, N), "device": (I, N), "auto_checked_in": B}
LIST_REF = {"id": I, "name": S, "event": S, "subevent": N, "include_pending": B}
CHECKIN_LIST = {"id": I, "name": S, "checkin_count": I, "position_count": I, "all_products": B,
                "limit_products": L, "include_pending": B, "subevent": N, "allow_multiple_entries": B,
                "allow_entry_after_exit": B, "exit_all_at": (S, N), "rules": D, "addon_match": B,
                "auto_checkin_sales_channels": L}
DEVICE = {"organizer": S, "device_id": I, "unique_serial": S, "api_token": S, "name": S}
HISTORY = {"id": I, "successful": B, "error_reason": (S, N), "error_explanation": N, "position": (I, N),
           "datetime": S, "created": S, "list": I, "auto_checked_in": B, "gate": (S, N), "device": (I, N),
           "device_id": (I, N), "type": S}
PAGE = {"count": I, "next": (S, N), "previous": (S, N), "results": L}


def assert_shape(body: dict, shape: dict) -> None:
    missing = set(shape) - set(body)
    assert not missing, f"missing keys {missing}"
    for key, kind in shape.items():
        assert isinstance(body[key], kind) and not (kind is I and isinstance(body[key], bool)), (key, body[key])


# --- Device authentication (deviceauth.rst) ----------------------------------------------------------


def test_initialize_answers_the_documented_body_once(organizer, event):
    issued = devices.create_device(organizer=organizer, name="Bar", events=[event])
    request = {"token": issued.token, "hardware_brand": "Samsung", "hardware_model": "Galaxy S",
               "software_brand": "pretixdroid", "software_version": "4.0.0"}
    response = APIClient().post("/api/v1/device/initialize", request, format="json")
    assert response.status_code == 200
    assert_shape(response.json(), DEVICE)
    assert response.json()["organizer"] == "org" and response.json()["name"] == "Bar"
    again = APIClient().post("/api/v1/device/initialize", request, format="json")
    assert again.status_code == 400
    assert again.json()["token"] == ["This initialization token is not known."]
    assert again.json()["code"] == "device_token_invalid"


def test_an_expired_initialization_token_is_refused(organizer):
    issued = devices.create_device(organizer=organizer, name="Late", all_events=True,
                                   at=timezone.now() - timedelta(days=2))
    response = APIClient().post("/api/v1/device/initialize", {"token": issued.token}, format="json")
    assert response.status_code == 400 and response.json()["token"] == ["This initialization token has expired."]


def test_the_device_token_stores_only_a_hash(device_api):
    assert device_api.device.api_token_hash and len(device_api.device.api_token_hash) == 64
    assert device_api.device.init_token_hash is None


def test_update_roll_revoke_and_info(device_api):
    update = device_api.post("/api/v1/device/update", {"hardware_brand": "Samsung", "hardware_model": "Galaxy S",
                             "software_brand": "pretixdroid", "software_version": "4.1.0"}, format="json")
    assert update.status_code == 200
    assert Device.objects.get().software_version == "4.1.0"
    info = device_api.get("/api/v1/device/info")
    assert info.status_code == 200
    assert_shape(info.json()["server"]["version"], {"pretix": S, "pretix_numeric": I})
    assert device_api.get("/api/v1/version").json()["pretix_numeric"] > 0
    rolled = device_api.post("/api/v1/device/roll")
    assert rolled.status_code == 200
    assert_shape(rolled.json(), DEVICE)
    assert device_api.get("/api/v1/device/info").status_code == 401  # the old token died at once
    fresh = APIClient(HTTP_AUTHORIZATION=f"Device {rolled.json()['api_token']}")
    assert fresh.post("/api/v1/device/revoke").status_code == 200
    assert fresh.get("/api/v1/device/info").status_code == 401
    assert Device.objects.get().revoked is not None


def test_a_device_sees_only_its_organizer_and_events(device_api, organizer, make_ticket):
    other_event = Event.objects.create(organizer=organizer, name="Other", slug="other")
    Organizer.objects.create(name="Else", slug="else")
    assert device_api.get("/api/v1/organizers/else/events/").status_code == 403
    assert device_api.get("/api/v1/organizers/org/events/other/checkinlists/").status_code == 403
    events = device_api.get("/api/v1/organizers/org/events/").json()
    assert [e["slug"] for e in events["results"]] == ["conf"] and other_event.pk


# --- Events and items --------------------------------------------------------------------------------


def test_events_and_items_for_a_device(device_api, org_url, ticket):
    events = device_api.get(f"{org_url}events/").json()
    assert_shape(events, PAGE)
    assert_shape(events["results"][0], {"name": D, "slug": S, "live": B, "testmode": B, "currency": S,
                                        "date_from": (S, N), "date_to": (S, N), "has_subevents": B, "timezone": S,
                                        "meta_data": D, "seating_plan": N})
    assert events["results"][0]["name"] == {"en": "Conf"}
    assert device_api.get(f"{org_url}events/conf/").json()["slug"] == "conf"
    found = device_api.get(f"{org_url}events/conf/items/").json()
    assert_shape(found, PAGE)
    item = found["results"][0]
    assert_shape(item, {"id": I, "name": D, "internal_name": S, "active": B, "default_price": S, "admission": B,
                        "checkin_attention": B, "has_variations": B, "variations": L, "addons": L})
    assert item["id"] == TicketType.objects.get(name=ticket.ticket_type).pk


# --- Check-in lists (checkinlists.rst) ---------------------------------------------------------------


def test_checkin_lists_and_one_list(device_api, org_url, clist, scan, ticket):
    scan(ticket)
    lists = device_api.get(f"{org_url}events/conf/checkinlists/").json()
    assert_shape(lists, PAGE)
    assert_shape(lists["results"][0], CHECKIN_LIST)
    one = device_api.get(f"{org_url}events/conf/checkinlists/{clist.pk}/").json()
    assert_shape(one, CHECKIN_LIST)
    assert one["checkin_count"] == 1 and one["position_count"] == 1 and one["all_products"] is True


def test_a_limited_list_names_its_products_by_item_id(device_api, org_url, clist, make_ticket):
    clist.ticket_types = ["VIP"]
    clist.save()
    make_ticket(ticket_type="VIP")
    one = device_api.get(f"{org_url}events/conf/checkinlists/{clist.pk}/").json()
    assert one["all_products"] is False and one["limit_products"] == [TicketType.objects.get(name="VIP").pk]


def test_list_status_items(device_api, org_url, clist, scan, ticket):
    scan(ticket)
    body = device_api.get(f"{org_url}events/conf/checkinlists/{clist.pk}/status/").json()
    assert_shape(body, {"checkin_count": I, "position_count": I, "inside_count": I, "event": D, "items": L})
    assert_shape(body["items"][0], {"name": S, "id": I, "checkin_count": I, "admission": B, "position_count": I,
                                    "variations": L})


def test_list_positions_and_one_position(device_api, org_url, clist, scan, ticket):
    scan(ticket, gate="North")
    page = device_api.get(f"{org_url}events/conf/checkinlists/{clist.pk}/positions/").json()
    assert_shape(page, PAGE)
    assert_shape(page["results"][0], POSITION)
    assert_shape(page["results"][0]["checkins"][0], CHECKIN)
    one = device_api.get(f"{org_url}events/conf/checkinlists/{clist.pk}/positions/{ticket.pk}/?pdf_data=true")
    assert one.status_code == 200
    assert_shape(one.json(), {**POSITION, "pdf_data": D})
    assert one.json()["order"] == ticket.order_code and one.json()["order__status"] == "p"
    assert device_api.get(f"{org_url}events/conf/checkinlists/{clist.pk}/positions/999999/").status_code == 404


def test_positions_modified_since_sends_only_what_changed(device_api, org_url, clist, scan, make_ticket):
    old, scanned, edited = make_ticket(), make_ticket(), make_ticket()
    Ticket.objects.update(modified=timezone.now() - timedelta(hours=1))
    since = timezone.now() - timedelta(minutes=1)
    url = f"{org_url}events/conf/checkinlists/{clist.pk}/positions/"
    first = device_api.get(url)
    assert first.json()["count"] == 3 and "X-Page-Generated" in first.headers
    scan(scanned)
    edited.attendee_name = "Renamed"
    edited.save()
    Ticket.objects.filter(pk=old.pk).update(status=Ticket.Status.CANCELED)  # an update() moves no timestamp...
    changed = device_api.get(url, {"modified_since": since.isoformat()}).json()
    assert sorted(r["id"] for r in changed["results"]) == sorted([scanned.pk, edited.pk])
    services.regenerate_secret(ticket=old)  # ...a service does, and cancelled tickets are then included
    changed = device_api.get(url, {"modified_since": since.isoformat()}).json()
    assert {r["id"]: r["order__status"] for r in changed["results"]}[old.pk] == "c"


# --- Scanning (checkin.rst) --------------------------------------------------------------------------


def test_rpc_redeem_documented_request(device_api, org_url, clist, ticket):
    body = {"secret": ticket.secret, "source_type": "barcode", "lists": [clist.pk], "force": False,
            "ignore_unpaid": False, "nonce": "Pvrk50vUzQd0DhdpNRL4I4OcXsvg70uA", "datetime": None,
            "questions_supported": True, "answers": {"4": "XS"}}
    response = device_api.post(f"{org_url}checkinrpc/redeem/", body, format="json")
    assert response.status_code == 201
    data = response.json()
    assert_shape(data, {"status": S, "position": D, "require_attention": B, "checkin_texts": L, "list": D})
    assert_shape(data["position"], POSITION)
    assert_shape(data["list"], LIST_REF)
    assert data["status"] == "ok" and data["position"]["checkins"][0]["device"] == device_api.device.pk
    assert Scan.objects.get().device_id == device_api.device.pk and Scan.objects.get().user is None


def test_rpc_redeem_errors_carry_attention_and_texts(device_api, org_url, clist, ticket):
    TicketType.objects.update_or_create(event=ticket.event, name=ticket.ticket_type,
                                        defaults={"checkin_attention": True, "checkin_text": "Give a badge"})
    unknown = device_api.post(f"{org_url}checkinrpc/redeem/", {"secret": "nope", "lists": [clist.pk]}, format="json")
    assert unknown.status_code == 404
    assert_shape(unknown.json(), {"status": S, "reason": S, "reason_explanation": N, "require_attention": B,
                                  "checkin_texts": L})
    Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.CANCELED)
    canceled = device_api.post(f"{org_url}checkinrpc/redeem/", {"secret": ticket.secret, "lists": [clist.pk]},
                               format="json")
    assert canceled.status_code == 400 and canceled.json()["reason"] == "canceled"
    assert canceled.json()["require_attention"] is True and canceled.json()["checkin_texts"] == ["Give a badge"]


def test_a_revoked_secret_answers_revoked_with_the_position(device_api, org_url, clist, ticket):
    old = ticket.secret
    services.regenerate_secret(ticket=ticket)
    response = device_api.post(f"{org_url}checkinrpc/redeem/", {"secret": old, "lists": [clist.pk]}, format="json")
    assert response.status_code == 400 and response.json()["reason"] == "revoked"
    assert response.json()["position"]["id"] == ticket.pk
    forced = device_api.post(f"{org_url}checkinrpc/redeem/", {"secret": old, "lists": [clist.pk], "force": True},
                             format="json")
    assert forced.status_code == 201  # an offline scan of the old code that already happened is stored


def test_per_list_redeem_by_id_and_by_secret(device_api, org_url, clist, make_ticket):
    by_id, by_secret = make_ticket(), make_ticket()
    url = f"{org_url}events/conf/checkinlists/{clist.pk}/positions/"
    first = device_api.post(f"{url}{by_id.pk}/redeem/", {"force": False, "nonce": "a", "datetime": None,
                                                        "questions_supported": True}, format="json")
    assert first.status_code == 201 and first.json()["status"] == "ok"
    assert_shape(first.json()["position"], POSITION)
    second = device_api.post(f"{url}{by_secret.secret}/redeem/?untrusted_input=true", {}, format="json")
    assert second.status_code == 201 and second.json()["position"]["id"] == by_secret.pk
    guessed = device_api.post(f"{url}{by_id.pk}/redeem/?untrusted_input=true", {}, format="json")
    assert guessed.status_code == 404 and guessed.json()["reason"] == "invalid"


def test_rpc_search(device_api, org_url, clist, make_ticket):
    make_ticket(attendee_name="Peter Parker")
    make_ticket(attendee_name="Mary Jane")
    found = device_api.get(f"{org_url}checkinrpc/search/", {"list": clist.pk, "search": "Peter"}).json()
    assert_shape(found, PAGE)
    assert [r["attendee_name"] for r in found["results"]] == ["Peter Parker"]
    assert_shape(found["results"][0], POSITION)
    assert device_api.get(f"{org_url}checkinrpc/search/", {"search": "Peter"}).status_code == 400


def test_failed_checkins_documented_request(device_api, org_url, clist):
    url = f"{org_url}events/conf/checkinlists/{clist.pk}/failed_checkins/"
    response = device_api.post(url, {"raw_barcode": "Pvrk50vUzQd0DhdpNRL4I4OcXsvg70uA", "error_reason": "canceled"},
                               format="json")
    assert response.status_code == 201
    scan = Scan.objects.get()
    assert not scan.successful and scan.error_reason == "canceled" and scan.device_id == device_api.device.pk
    unpaid = device_api.post(url, {"raw_barcode": "x", "error_reason": "unpaid"}, format="json")
    assert unpaid.status_code == 201 and Scan.objects.get(pk=unpaid.json()["id"]).error_reason == "error"
    assert device_api.post(url, {"raw_barcode": "x", "error_reason": "bogus"}, format="json").status_code == 400
    assert device_api.post(url, {"raw_barcode": "x", "error_reason": "invalid", "position": 999},
                           format="json").status_code == 404


def test_checkin_history(device_api, org_url, clist, scan, ticket):
    scan(ticket)
    device_api.post(f"{org_url}checkinrpc/redeem/", {"secret": "nope", "lists": [clist.pk]}, format="json")
    body = device_api.get(f"{org_url}events/conf/checkins/").json()
    assert_shape(body, PAGE)
    for row in body["results"]:
        assert_shape(row, HISTORY)
    only_device = device_api.get(f"{org_url}events/conf/checkins/", {"device": device_api.device.pk}).json()
    assert [r["error_reason"] for r in only_device["results"]] == ["invalid"]
    assert only_device["results"][0]["device_id"] == 1


def test_rpc_annul_takes_back_a_turnstile_entry(device_api, org_url, clist, ticket, door_api, make_ticket):
    url = f"{org_url}checkinrpc/redeem/"
    nonce = "Pvrk50vUzQd0DhdpNRL4I4OcXsvg70uA"
    assert device_api.post(url, {"secret": ticket.secret, "lists": [clist.pk], "nonce": nonce},
                           format="json").status_code == 201
    annul = {"lists": [clist.pk], "nonce": nonce, "error_explanation": "Turnstile did not turn"}
    assert door_api.post(f"{org_url}checkinrpc/annul/", annul, format="json").status_code == 400  # not its scan
    response = device_api.post(f"{org_url}checkinrpc/annul/", annul, format="json")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    scan = Scan.objects.get()
    assert not scan.successful and scan.error_reason == "annulled"
    state = TicketListState.objects.get(ticket=ticket)
    assert not state.inside and state.entry_count == 0 and inside_from_log(clist) == set()
    assert device_api.post(f"{org_url}checkinrpc/annul/", annul, format="json").status_code == 400  # done once
    missing = {**annul, "nonce": "nope"}
    assert device_api.post(f"{org_url}checkinrpc/annul/", missing, format="json").status_code == 404
    # The person can now come in for real.
    again = device_api.post(url, {"secret": ticket.secret, "lists": [clist.pk]}, format="json")
    assert again.status_code == 201


def test_rpc_annul_refuses_after_the_window(device_api, org_url, clist, ticket):
    at = timezone.now() - timedelta(hours=1)
    device_api.post(f"{org_url}checkinrpc/redeem/", {"secret": ticket.secret, "lists": [clist.pk], "nonce": "old",
                    "datetime": at.isoformat()}, format="json")
    response = device_api.post(f"{org_url}checkinrpc/annul/", {"lists": [clist.pk], "nonce": "old"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "annul_refused"


def test_a_device_cannot_scan_on_a_list_of_another_event(device_api, org_url, organizer, make_ticket):
    other = Event.objects.create(organizer=organizer, name="Other", slug="other")
    other_list = other.checkin_lists.create(name="Other door")
    ticket = make_ticket(event=other)
    response = device_api.post(f"{org_url}checkinrpc/redeem/", {"secret": ticket.secret, "lists": [other_list.pk]},
                               format="json")
    assert response.status_code == 400 and response.json()["code"] == "validation_error"
    assert not Scan.objects.exists()


def test_a_staff_token_is_not_a_device_token(door_user, org_url):
    token = Token.objects.create(user=door_user)
    as_device = APIClient(HTTP_AUTHORIZATION=f"Device {token.key}")
    assert as_device.get("/api/v1/device/info").status_code == 401
    assert as_device.get(f"{org_url}events/").status_code == 401


ORDER = {"code": S, "event": S, "status": S, "testmode": B, "secret": S, "email": (S, N), "locale": S,
         "datetime": S, "fees": L, "total": S, "checkin_attention": B, "require_approval": B, "positions": L,
         "last_modified": S}


def test_orders_one_per_ticket_with_modified_since(device_api, org_url, clist, scan, make_ticket):
    scanned, untouched = make_ticket(), make_ticket(status=Ticket.Status.CANCELED)
    Ticket.objects.update(modified=timezone.now() - timedelta(hours=1))
    since = timezone.now() - timedelta(minutes=1)
    body = device_api.get(f"{org_url}events/conf/orders/", {"pdf_data": "true"}).json()
    assert_shape(body, PAGE)
    assert {o["code"]: o["status"] for o in body["results"]} == {scanned.order_code: "p", untouched.order_code: "c"}
    assert_shape(body["results"][0], ORDER)
    assert_shape(body["results"][0]["positions"][0], {**POSITION, "pdf_data": D})
    assert scanned.secret[:16] not in {o["secret"] for o in body["results"]}
    scan(scanned)
    changed = device_api.get(f"{org_url}events/conf/orders/", {"modified_since": since.isoformat()}).json()
    assert [o["code"] for o in changed["results"]] == [scanned.order_code]
    assert len(changed["results"][0]["positions"][0]["checkins"]) == 1


def test_revoked_secrets_and_resources_plaudit_does_not_have(device_api, org_url, ticket):
    old = ticket.secret
    services.regenerate_secret(ticket=ticket)
    body = device_api.get(f"{org_url}events/conf/revokedsecrets/").json()
    assert_shape(body, PAGE)
    assert_shape(body["results"][0], {"id": I, "secret": S, "created": S})
    assert body["results"][0]["secret"] == old
    for name in ("categories", "questions", "subevents", "blockedsecrets", "badgelayouts", "badgeitems"):
        assert device_api.get(f"{org_url}events/conf/{name}/").json() == {"count": 0, "next": None,
                                                                        "previous": None, "results": []}


def test_tickets_sharing_an_order_code_are_one_order(device_api, org_url, make_ticket):
    first, second = make_ticket(order_code="FAM01"), make_ticket(order_code="FAM01")
    make_ticket(order_code="SOLO1", status=Ticket.Status.CANCELED)
    Ticket.objects.filter(pk=second.pk).update(status=Ticket.Status.CANCELED)
    orders = {o["code"]: o for o in device_api.get(f"{org_url}events/conf/orders/").json()["results"]}
    assert set(orders) == {"FAM01", "SOLO1"}
    family = orders["FAM01"]
    assert family["status"] == "p" and family["total"] == "0.00"
    # The cancelled ticket of a paid order is left out, as pretix leaves out cancelled positions.
    assert [(p["id"], p["positionid"], p["order__status"]) for p in family["positions"]] == [(first.pk, 1, "p")]
    assert orders["SOLO1"]["status"] == "c"
