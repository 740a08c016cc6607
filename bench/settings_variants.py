"""The production settings with pieces taken out, for ``bench/common_path.py`` only (never deployed).

``BENCH_DROP_MIDDLEWARE``: comma-separated dotted paths removed from MIDDLEWARE.
``BENCH_NO_HEALTH_CHECKS=true``: persistent connections without Django's per-request health check.
"""

import os

from config.settings import *  # noqa: F403
from config.settings import DATABASES, MIDDLEWARE

_drop = {name.strip() for name in os.environ.get("BENCH_DROP_MIDDLEWARE", "").split(",") if name.strip()}
MIDDLEWARE = [name for name in MIDDLEWARE if name not in _drop]
if os.environ.get("BENCH_NO_HEALTH_CHECKS") == "true":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
