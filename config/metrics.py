"""``GET /metrics`` for Prometheus: request latency measured in each process, and business figures read
from the database at scrape time (config/monitoring.py).

Latency is a histogram kept in process memory by prometheus_client. Under gunicorn every worker process
has its own, so set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory (``.ci/prod-local`` does): each
process then writes its samples to files there and any process answering the scrape adds them all up.
Without it (the embedded default, one process) the in-memory registry is served as it is.

Access: the addresses in METRICS_ALLOWED_IPS (default: loopback) when the request came straight to us,
not through a proxy (a proxy on the same machine would make every visitor look like loopback), or anyone
who sends ``Authorization: Bearer <METRICS_TOKEN>``. Everyone else gets a 403 JSON answer.
"""

import ipaddress
import os
import secrets
import time
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse, JsonResponse
from prometheus_client import REGISTRY, CollectorRegistry, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from config import monitoring

REQUEST_LATENCY = Histogram(
    "plaudit_http_request_duration_seconds", "Time from the first middleware to the response, per view.",
    ["method", "view", "status"],
)


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        # The view's name, not the path: one series per view, however many ids appear in URLs.
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match else "unmatched"
        REQUEST_LATENCY.labels(request.method, view, str(response.status_code)).observe(
            time.perf_counter() - started)
        return response


class DatabaseFigures:
    """A prometheus_client collector over every app's registered figures."""

    def collect(self):
        yield from monitoring.all_figures()

    def describe(self):
        return []  # no query at registration time (the database may not exist yet)


FIGURES = DatabaseFigures()
REGISTRY.register(FIGURES)


@cache
def allowed_networks() -> tuple:
    try:
        return tuple(ipaddress.ip_network(item, strict=False) for item in settings.METRICS_ALLOWED_IPS)
    except ValueError as exc:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {exc}") from None


def may_read(request) -> bool:
    token = settings.METRICS_TOKEN
    if token and secrets.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return True
    if getattr(request, "came_through_proxy", "X-Forwarded-For" in request.headers):
        return False  # came through a proxy: its REMOTE_ADDR says nothing about the visitor
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in allowed_networks())


def scrape_registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(FIGURES)
    return registry


def metrics(request):
    if not may_read(request):
        return JsonResponse({"detail": "Metrics are not available to this client.", "code": "metrics_forbidden"},
                            status=403)
    if request.method not in ("GET", "HEAD"):
        return JsonResponse({"detail": "Method not allowed.", "code": "method_not_allowed"}, status=405)
    response = HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
