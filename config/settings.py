"""Plaudit settings: one module, driven by the environment, with a SQLite default that works on checkout.

Every value is parsed strictly (see config/env.py); a typo in production fails at start-up.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from django.utils.translation import gettext_lazy as _

from config.env import (
    env_bool,
    env_int,
    env_list,
    env_networks,
    env_rate,
    env_rates,
    env_str,
    env_timezone,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if DEBUG:
    # A fresh key per process is fine for the demo; sessions simply do not survive restarts.
    SECRET_KEY = SECRET_KEY or "dev-only-" + get_random_secret_key()
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]", "testserver"]
else:
    if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("dev-only-"):
        raise ImproperlyConfigured("DEBUG=false needs SECRET_KEY of at least 50 random characters")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DEBUG=false needs ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto we believe (addresses or networks). Empty:
# we are reached directly and REMOTE_ADDR is the client; such headers from anyone else are dropped.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
SITE_URL = env_url("SITE_URL", schemes=("http", "https")) or "http://127.0.0.1:8000"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "anymail",
    "axes",
    "config",
    "engagement",
    "rewards",
    "checkin",
    "points_bridge",
]

MIDDLEWARE = [
    # First, so that the latency it records covers every other middleware too.
    "config.metrics.RequestMetricsMiddleware",
    # Next: everything below reads REMOTE_ADDR or request.is_secure(), which it makes trustworthy.
    "config.proxies.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A NUL in the path, query string or a header: a JSON 400 before any view (config/middleware.py).
    "config.middleware.InputGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
    # django-csp, with the header built once per process (config/csp.py).
    "config.csp.CSPMiddleware",
    # Last, as axes asks: turns a login that axes refused into the lockout answer (config/lockout.py).
    "axes.middleware.AxesMiddleware",
]

# The Point System protocol is served at exact paths and its clients treat any 3xx as an error,
# so we never redirect to add a slash.
APPEND_SLASH = False
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "checkin.navigation.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "sqlite"))
if DATABASE_URL:
    # Health checks: a persistent connection that PostgreSQL dropped (a restart, a failover) is noticed
    # and replaced at the start of the next request instead of failing it.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
                                                  conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # The same backend, with a health check that skips Django's SELECT 1 while the kept connection's
        # socket shows nothing wrong (config/db/base.py): one round trip less on every request.
        DATABASES["default"]["ENGINE"] = "config.db"
    # Behind a transaction-pooling PgBouncer a named cursor (Django's .iterator() on PostgreSQL) would
    # outlive the transaction its server connection belongs to (docs/operations.md, "Sizing").
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DB_DISABLE_SERVER_SIDE_CURSORS", False)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH") or str(BASE_DIR / "db.sqlite3"),
            # SQLite ignores SELECT ... FOR UPDATE; IMMEDIATE transactions take the write lock up
            # front so two writers serialise instead of failing with "database is locked" mid-way.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("transaction_mode", "IMMEDIATE")
elif env_bool("DB_PREPARED_STATEMENTS", True):
    # psycopg prepares a statement on the server after a few uses on one connection. Only the hot paths'
    # hand-written statements (the ledger's award, the door's redeem; config/sql.py) bind their parameters
    # on the server and so can be prepared; the ORM's client-side binding cursors never are. Turn off
    # behind a transaction-pooling PgBouncer older than 1.21, which cannot keep prepared statements.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Redis, Celery -------------------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
if REDIS_URL:
    # Short socket timeouts: a Redis that is down or unreachable must cost a request milliseconds, not
    # hang it; the rate limits then fail open and the leaderboards read SQL (docs/reliability.md).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "plaudit"}}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULE = {}  # apps add their periodic tasks in their AppConfig.ready()
# A broker that is down must not hold a request for long: publishing is retried once, briefly, and then
# the task waits in the outbox for the sweep (config/outbox.py).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2}
# The transactional outbox: how often the beat sweep runs, and how long a sent task may take to finish
# before the sweep sends it again (then doubling, up to an hour).
OUTBOX_SWEEP_SECONDS = env_int("OUTBOX_SWEEP_SECONDS", 30, minimum=1)
OUTBOX_RESEND_SECONDS = env_int("OUTBOX_RESEND_SECONDS", 60, minimum=1)
OUTBOX_KEEP_DAYS = env_int("OUTBOX_KEEP_DAYS", 7, minimum=0)
# With a real broker, a committed change's outbox rows are published by a relay thread of the process
# that waits this long for other requests' rows to share the message (0: publish in the request, after
# commit, as eager Celery always does).
OUTBOX_RELAY_LINGER_MS = env_int("OUTBOX_RELAY_LINGER_MS", 20, minimum=0)

# --- Health and metrics (docs/operations.md) ------------------------------------------------------
# The beat sends plaudit.heartbeat this often; /healthz calls the worker dead when the last one that a
# worker ran is older than HEALTHZ_WORKER_MAX_AGE, and the outbox late when its oldest undelivered row
# waits longer than HEALTHZ_OUTBOX_MAX_AGE.
HEARTBEAT_SECONDS = env_int("HEARTBEAT_SECONDS", 15, minimum=1)
HEALTHZ_WORKER_MAX_AGE = env_int("HEALTHZ_WORKER_MAX_AGE", 60, minimum=1)
HEALTHZ_OUTBOX_MAX_AGE = env_int("HEALTHZ_OUTBOX_MAX_AGE", 300, minimum=1)
# Who may read /metrics: these addresses or networks when the request did not come through a proxy,
# or anyone sending ``Authorization: Bearer <METRICS_TOKEN>``.
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", "127.0.0.1,::1")
METRICS_TOKEN = env_str("METRICS_TOKEN")

# --- Email ----------------------------------------------------------------------------------------
# anymail's providers are chosen purely by settings: EMAIL_BACKEND=anymail.backends.<esp>.EmailBackend
# plus ANYMAIL_* keys in the environment.
EMAIL_BACKEND = env_str("EMAIL_BACKEND") or "django.core.mail.backends.console.EmailBackend"
# Used by django.core.mail.backends.filebased.EmailBackend (the real-worker email test, local debugging).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH") or str(BASE_DIR / "sent-emails")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "Plaudit <noreply@plaudit.localhost>"
ADMINS_NOTIFY_EMAILS = env_list("ADMINS_NOTIFY_EMAILS")
ANYMAIL = {k: env_str(f"ANYMAIL_{k}") for k in ("API_KEY", "SENDER_DOMAIN", "SERVER_TOKEN") if env_str(f"ANYMAIL_{k}")}

# --- Auth, i18n, static ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# axes' check comes first: a locked-out account or address is refused before any password is checked.
AUTHENTICATION_BACKENDS = ["config.lockout.LockoutBackend", "django.contrib.auth.backends.ModelBackend"]
# Login lockout (django-axes): AXES_FAILURE_LIMIT wrong passwords for one account, or from one client
# address, lock that account or address out for AXES_COOLOFF_MINUTES (every login path; 429 + Retry-After).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: per account AND per address
AXES_CLIENT_IP_CALLABLE = "config.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "config.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# Admin URL fields assume https for scheme-less input (Django 6 default; silences the transition warning).
FORMS_URLFIELD_ASSUME_HTTPS = True
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/me/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = env_str("LANGUAGE_CODE") or "en"
LANGUAGES = [("en", _("English")), ("cs", _("Czech"))]
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"LANGUAGE_CODE must be one of {', '.join(dict(LANGUAGES))}")
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_timezone("TIME_ZONE", "Europe/Prague")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Where collectstatic writes (and WhiteNoise serves from with DEBUG=false); the smoke test uses a temporary one.
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve app and vendor static files straight from their folders when collectstatic has not run (demo, tests).
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security (production) ------------------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
    # Load balancers and Prometheus usually probe the web processes directly over plain HTTP on the
    # private network; a redirect to https would read as "down". Neither answer carries a cookie.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SILENCED_SYSTEM_CHECKS = [] if env_bool("SECURE_HSTS_PRELOAD", False) or DEBUG else ["security.W021"]

# --- REST framework -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's, with its lookup written by hand: it runs on every API request (config/authentication.py).
        "config.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    # Bounded limit/offset, 400 invalid_pagination beyond them (config/pagination.py).
    "DEFAULT_PAGINATION_CLASS": "config.pagination.Pagination",
    # Bodies with NUL, lone surrogates or absurd JSON depth are refused at parse time (config/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser", "config.parsers.FormParser",
                               "config.parsers.MultiPartParser"],
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_RATES": {"redeem": "5/hour", "auth": "20/min"},
    # Throttles key on REMOTE_ADDR only: config.proxies has already put the real client there.
    "NUM_PROXIES": 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Plaudit API",
    "DESCRIPTION": "Points ledger, XP and levels, achievements, rewards, check-in and the Point System protocol.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two models have a "type" field with different choices; give each enum its own name.
    "ENUM_NAME_OVERRIDES": {
        "ScanTypeEnum": "checkin.models.Scan.Type",
        "RewardTypeEnum": "rewards.models.Reward.Type",
        "RedemptionStatusEnum": "rewards.models.Redemption.Status",
        "UnbanRequestStatusEnum": "engagement.models.UnbanRequest.Status",
    },
}

# --- Plaudit --------------------------------------------------------------------------------------
ENGAGEMENT_LEVEL_CAP = env_int("ENGAGEMENT_LEVEL_CAP", 200, minimum=1)
ENGAGEMENT_AVATAR_HOSTS = env_list("ENGAGEMENT_AVATAR_HOSTS", "api.dicebear.com,robohash.org,www.gravatar.com")
ENGAGEMENT_AVATAR_MAX_BYTES = env_int("ENGAGEMENT_AVATAR_MAX_BYTES", 2 * 1024 * 1024, minimum=1024)
# Referral credit (docs/referrals.md): points for each side when the invitee first earns; 0 turns a side off.
ENGAGEMENT_REFERRAL_INVITER_POINTS = env_int("ENGAGEMENT_REFERRAL_INVITER_POINTS", 50, minimum=0)
ENGAGEMENT_REFERRAL_INVITEE_POINTS = env_int("ENGAGEMENT_REFERRAL_INVITEE_POINTS", 25, minimum=0)
# Per-member, per-reason rate limits for recorded actions (the original service's limits).
ENGAGEMENT_ACTION_RATES = {"comment_create": "20/min", "comment_reacted": "60/min", "poll_vote": "60/min"}
# Overrides of the per-caller API rate limits (defaults and scopes in engagement/conf.py), e.g.
# "leaderboard=300/min,admin=off".
ENGAGEMENT_RATES = env_rates("ENGAGEMENT_RATES")
# Spam screening of recorded actions with text (engagement/spam.py): seconds a text counts as recent
# for duplicates, links allowed in one text, and texts per member within the burst window.
ENGAGEMENT_SPAM_DUPLICATE_WINDOW = env_int("ENGAGEMENT_SPAM_DUPLICATE_WINDOW", 600, minimum=0)
ENGAGEMENT_SPAM_MAX_LINKS = env_int("ENGAGEMENT_SPAM_MAX_LINKS", 2, minimum=0)
ENGAGEMENT_SPAM_BURST = env_int("ENGAGEMENT_SPAM_BURST", 10, minimum=1)
ENGAGEMENT_SPAM_BURST_WINDOW = env_int("ENGAGEMENT_SPAM_BURST_WINDOW", 60, minimum=0)
# Largest reward picture an admin may upload (rewards/images.py).
REWARDS_IMAGE_MAX_BYTES = env_int("REWARDS_IMAGE_MAX_BYTES", 2 * 1024 * 1024, minimum=1024)
# Ledger reasons whose awards make a day "active" for streaks (engagement/streaks.py); empty: every
# earning reason. Spending, refunds, admin adjustments and achievement unlocks never count.
ENGAGEMENT_STREAK_REASONS = env_list("ENGAGEMENT_STREAK_REASONS")
ENGAGEMENT_LEADERBOARD_REDIS = env_bool("ENGAGEMENT_LEADERBOARD_REDIS", bool(REDIS_URL))

POINT_SYSTEM_API_KEY = env_str("POINT_SYSTEM_API_KEY")
POINT_SYSTEM_TRUSTED_CLIENTS = env_list("POINT_SYSTEM_TRUSTED_CLIENTS")
POINT_SYSTEM_PUBLIC_READS = env_bool("POINT_SYSTEM_PUBLIC_READS", True)
POINT_SYSTEM_DEDUP_WINDOW = timedelta(seconds=env_int("POINT_SYSTEM_DEDUP_SECONDS", 600, minimum=0))
POINT_SYSTEM_FORWARD_URL = env_url("POINT_SYSTEM_FORWARD_URL", schemes=("http", "https"))
POINT_SYSTEM_FORWARD_KEY = env_str("POINT_SYSTEM_FORWARD_KEY")
# QR claims (POST /api/v1/points/claim) per member.
POINT_SYSTEM_CLAIM_RATE = env_rate("POINT_SYSTEM_CLAIM_RATE", "30/min")

# Content-Security-Policy (django-csp) on every response. Scripts come only from our own static files
# (no inline script or on*= handler anywhere). Styles also allow 'unsafe-inline': the pages carry
# <style> blocks and computed style="width: N%" bars, and the admin and Swagger UI set inline styles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", *(f"https://{host}" for host in ENGAGEMENT_AVATAR_HOSTS)],
        "connect-src": [SELF],
        "media-src": [SELF, "blob:"],  # the scanners' camera stream
        "font-src": [SELF],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"skip_expected_refusals": {"()": "config.request_log.SkipExpectedRefusals"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL") or "WARNING"},
    # A door refusing a second entry answers 400 by contract; it is not worth a warning (config/request_log.py).
    "loggers": {"django.request": {"filters": ["skip_expected_refusals"]}},
}
