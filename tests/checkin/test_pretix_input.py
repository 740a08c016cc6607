"""No input to the pretix-family endpoints causes a 500: odd query strings, bodies of the wrong type,
NUL bytes and out-of-range ids answer 4xx (run on both databases: PostgreSQL refuses NUL and big ints)."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

BAD = [
    ("get", "events/conf/checkinlists/{l}/positions/?modified_since=garbage"),
    ("get", "events/conf/checkinlists/{l}/positions/?page=abc"),
    ("get", "events/conf/checkinlists/{l}/positions/?page_size=-5"),
    ("get", "checkinrpc/search/?list=abc"),
    ("get", "checkinrpc/search/?list=99999999999999999999999"),
    ("get", "events/conf/checkins/?device=x&list=-1"),
    ("post", "events/conf/checkinlists/{l}/failed_checkins/"),
    ("post", "events/conf/checkinlists/{l}/positions/%00/redeem/"),
    ("post", "events/conf/checkinlists/{l}/positions/99999999999999999999999/redeem/"),
    ("post", "checkinrpc/annul/"),
]


@pytest.mark.parametrize("method,path", BAD)
@pytest.mark.parametrize("body", [None, {"datetime": "x", "lists": "y", "nonce": 5, "raw_barcode": None,
                                         "error_reason": "invalid", "position": "z"}, [1, 2]])
def test_odd_input_is_a_4xx(device_api, org_url, clist, method, path, body):
    url = org_url + path.format(l=clist.pk)
    response = getattr(device_api, method)(url, body, format="json") if method == "post" else device_api.get(url)
    assert response.status_code < 500, response.content


@pytest.mark.parametrize("body", [None, [], {"token": None}, {"token": "x" * 5000},
                                  {"token": "abc", "hardware_brand": {"a": 1}}])
def test_initialize_and_device_headers_never_500(body):
    assert APIClient().post("/api/v1/device/initialize", body, format="json").status_code == 400
    assert APIClient(HTTP_AUTHORIZATION="Device").get("/api/v1/device/info").status_code == 401
    assert APIClient(HTTP_AUTHORIZATION="Device a b").get("/api/v1/device/info").status_code == 401


def test_out_of_range_ids_are_404(device_api, org_url, clist):
    for url in [f"events/conf/checkinlists/{clist.pk}/positions/99999999999999999999999/",
                "events/conf/checkinlists/99999999999999999999999/positions/",
                "events/conf/checkinlists/99999999999999999999999/"]:
        assert device_api.get(org_url + url).status_code == 404
