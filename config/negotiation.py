"""DRF's content negotiation with a shortcut for what nearly every API client sends.

DRF parses the Accept header, orders it by precedence and matches every renderer against it on every
request. A client that sends no Accept header (DRF reads it as ``*/*``), ``*/*`` itself or exactly
``application/json`` gets the first renderer (JSON) for any such list, so we answer those three without
the parse, with exactly what DRF would return: that renderer and its own media type (for ``*/*`` DRF
hands out the renderer's, more precise one; neither carries an ``indent`` for the JSON renderer).
Anything else (a browser's ``text/html``, parameters, ``?format=``, a format suffix) goes through DRF's
own negotiation unchanged (tests/test_negotiation.py compares both). Used by the busiest write views
(claims, redemptions, staff awards).
"""

from rest_framework.negotiation import DefaultContentNegotiation


class FastJSONNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        if (
            not format_suffix
            and renderers
            and (accept == "*/*" or (accept == "application/json" and renderers[0].media_type == accept))
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
