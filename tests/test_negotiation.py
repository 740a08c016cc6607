"""config.negotiation.FastJSONNegotiation answers exactly as DRF's own negotiation, shortcut or not."""

import pytest
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory

from config.negotiation import FastJSONNegotiation

ACCEPTS = [None, "*/*", "application/json", "text/html", "application/json; indent=4", "application/*",
           "text/html,application/xhtml+xml,*/*;q=0.8", "image/png"]


def _choice(negotiation, request, renderers, suffix):
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers, suffix)
    except NotAcceptable:
        return "not acceptable"
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("path", ["/x", "/x?format=api", "/x?format=json", "/x?other=1"])
@pytest.mark.parametrize("suffix", [None, "json", "api"])
def test_the_same_renderer_and_media_type_as_drf(accept, path, suffix):
    renderers = [cls() for cls in api_settings.DEFAULT_RENDERER_CLASSES]
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().post(path, **headers))
    assert (_choice(FastJSONNegotiation(), request, renderers, suffix)
            == _choice(DefaultContentNegotiation(), request, renderers, suffix))
