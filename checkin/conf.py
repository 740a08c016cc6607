"""Settings of the checkin app, read in one place (prefixed, with defaults)."""

from datetime import timedelta

from django.conf import settings

from config.env import env_bool, env_int

# The benchmark's bare authenticated endpoint (/api/v1/bench/ping) exists only when this is true.
BENCH_ENDPOINTS = getattr(settings, "PLAUDIT_BENCH_ENDPOINTS", env_bool("PLAUDIT_BENCH_ENDPOINTS", False))
# How often the scheduled checkout task runs (Celery beat), in seconds.
SCHEDULED_CHECKOUT_EVERY = getattr(settings, "CHECKIN_SCHEDULED_CHECKOUT_EVERY", 60)
# How long a device's initialization token (admin → scanner app) stays usable, in hours.
DEVICE_INIT_TOKEN_TTL = getattr(settings, "CHECKIN_DEVICE_INIT_TOKEN_TTL",
                                timedelta(hours=env_int("CHECKIN_DEVICE_INIT_TOKEN_HOURS", 24, minimum=1)))
