"""Logging helpers.

Django's ``django.request`` logger writes a WARNING for every 4xx answer. Most are worth seeing (bad
input, denied permissions), but some are the product working as designed: a door refusing a second
entry answers 400 because pretix's clients expect it, and a busy door refuses hundreds of those an
hour. Views mark such answers with ``expected_refusal(request)``, and the filter below (installed on
``django.request`` in the settings) leaves them out. The refusal itself is still recorded where it
belongs: the door's scan log keeps every failed scan with its reason.
"""

import logging


def expected_refusal(request) -> None:
    """Mark this request's 4xx answer as a business refusal, not worth a log line."""
    # DRF wraps Django's request; django.request logs the wrapped one.
    getattr(request, "_request", request).expected_refusal = True


class SkipExpectedRefusals(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(getattr(record, "request", None), "expected_refusal", False)
