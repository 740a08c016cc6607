"""Plaudit settings: one module, driven by the environment, with a SQLite default that works on checkout.

Every value is parsed strictly (see config/env.py); a typo in production fails at start-up.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_str, env_timezone, env_url

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
    "engagement",
    "rewards",
    "checkin",
    "points_bridge",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
                "pages.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "sqlite"))
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
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
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
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
STATIC_ROOT = BASE_DIR / "staticfiles"
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
SILENCED_SYSTEM_CHECKS = [] if env_bool("SECURE_HSTS_PRELOAD", False) or DEBUG else ["security.W021"]

# --- REST framework -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_RATES": {"redeem": "5/hour", "auth": "20/min"},
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
    },
}

# --- Plaudit --------------------------------------------------------------------------------------
ENGAGEMENT_LEVEL_CAP = env_int("ENGAGEMENT_LEVEL_CAP", 200, minimum=1)
ENGAGEMENT_AVATAR_HOSTS = env_list("ENGAGEMENT_AVATAR_HOSTS", "api.dicebear.com,robohash.org,www.gravatar.com")
ENGAGEMENT_AVATAR_MAX_BYTES = env_int("ENGAGEMENT_AVATAR_MAX_BYTES", 2 * 1024 * 1024, minimum=1024)
# Per-member, per-reason rate limits for recorded actions (the original service's limits).
ENGAGEMENT_ACTION_RATES = {"comment_create": "20/min", "comment_reacted": "60/min", "poll_vote": "60/min"}
ENGAGEMENT_LEADERBOARD_REDIS = env_bool("ENGAGEMENT_LEADERBOARD_REDIS", bool(REDIS_URL))

POINT_SYSTEM_API_KEY = env_str("POINT_SYSTEM_API_KEY")
POINT_SYSTEM_TRUSTED_CLIENTS = env_list("POINT_SYSTEM_TRUSTED_CLIENTS")
POINT_SYSTEM_PUBLIC_READS = env_bool("POINT_SYSTEM_PUBLIC_READS", True)
POINT_SYSTEM_DEDUP_WINDOW = timedelta(seconds=env_int("POINT_SYSTEM_DEDUP_SECONDS", 600, minimum=0))
POINT_SYSTEM_FORWARD_URL = env_url("POINT_SYSTEM_FORWARD_URL", schemes=("http", "https"))
POINT_SYSTEM_FORWARD_KEY = env_str("POINT_SYSTEM_FORWARD_KEY")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"skip_expected_refusals": {"()": "config.request_log.SkipExpectedRefusals"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL") or "WARNING"},
    # A door refusing a second entry answers 400 by contract; it is not worth a warning (config/request_log.py).
    "loggers": {"django.request": {"filters": ["skip_expected_refusals"]}},
}
