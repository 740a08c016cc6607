"""The root URLconf's order: the Point System protocol is included before the pages, which must not
change where any page or protocol path goes."""

import re

from django.urls import URLPattern, resolve, reverse

from checkin import page_urls as checkin_pages
from engagement import page_urls as engagement_pages
from points_bridge import page_urls as bridge_pages
from points_bridge import urls as protocol

SAMPLE = {"int": 7, "str": "abc", "slug": "abc", "path": "a/b"}


def sample_kwargs(pattern: URLPattern) -> dict:
    names = re.findall(r"<(?:(\w+):)?(\w+)>", str(pattern.pattern))
    return {name: SAMPLE[kind or "str"] for kind, name in names}


def test_every_page_still_resolves_to_its_own_view():
    for module in (engagement_pages, checkin_pages, bridge_pages):
        for pattern in module.urlpatterns:
            url = reverse(pattern.name, kwargs=sample_kwargs(pattern))
            assert resolve(url).url_name == pattern.name, url
            assert not re.match(r"^/(?:health|leaderboard|points)(?:/|$)", url), url


def test_protocol_paths_resolve_as_before():
    expected = {
        "/health": "point-system-health", "/leaderboard/": "point-system-leaderboard",
        "/leaderboard/3/": "point-system-activity-leaderboard", "/points/transactions": "point-system-transactions",
        "/points/5/history": "point-system-history", "/points/5/add": "point-system-add",
        "/points/5/remove": "point-system-remove",
    }
    for url, name in expected.items():
        assert resolve(url).url_name == name
    for url in ("/points/5/add/", "/points/x/add", "/points", "/leaderboard", "/health/"):
        assert resolve(url).func is protocol.protocol.not_found, url
    assert resolve("/healthz").url_name == "healthz"
    assert resolve("/api/v1/points/claim").url_name is not None
