"""MallBots settings: every variable of architecture.md §15, read with django-environ.

Declarations only (ADR 15): importing this module reads the environment and ``.env`` and nothing else. It
starts no server and writes no file; ``mallbots_site.bootstrap.prepare()``, called by the entry points
(``manage.py``, the test suite's plugin, the benchmarks), completes the environment on a bare machine first.
"""

import os

import environ
from django.core.exceptions import ImproperlyConfigured

from mallbots_site import bootstrap

BASE_DIR = bootstrap.BASE_DIR


class _Env(environ.Env):
    """The process environment, completed from ``.env`` in a copy of its own (``os.environ`` is left alone)."""

    ENVIRON = dict(os.environ)


_Env.read_env(BASE_DIR / ".env", overwrite=False)
env = _Env()

VAR_DIR = bootstrap.var_dir(env.ENVIRON)
EMBEDDED_NATS_PORT = env.int("EMBEDDED_NATS_PORT", default=bootstrap.DEFAULT_NATS_PORT)
ENVIRONMENT = env.str("ENVIRONMENT", default="development")

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is unset: production needs the same key on every replica"
        if ENVIRONMENT == "production" else
        "DJANGO_SECRET_KEY is unset: run through manage.py (it keeps a development key in VAR_DIR) or set it")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "channels",
    "eventstore",
    "access",
    "web",
    "mallbots_site",
    "stores",
    "customers",
    "baskets",
    "ordering",
    "depot",
    "payments",
    "notifications",
    "search",
]

MIDDLEWARE = [
    "web.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The admin's flash messages live in its session: the default (a signed cookie first) builds a signer on every
# request, API requests included, that never show a message.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
ROOT_URLCONF = "mallbots_site.urls"
APPEND_SLASH = False
# The largest body the API reads (ADR 20): 413 beyond it. The largest valid request (an order of 100 items
# with 200-character names) is about 60 KB.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

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
            ],
        },
    },
]

WSGI_APPLICATION = "mallbots_site.wsgi.application"
ASGI_APPLICATION = "mallbots_site.asgi.application"

DATABASES = {"default": env.db_url("DATABASE_URL")}
for _key in ("host", "port"):
    if _key in DATABASES["default"].get("OPTIONS", {}):
        DATABASES["default"][_key.upper()] = DATABASES["default"]["OPTIONS"].pop(_key)
# Django's PostgreSQL backend, sending BEGIN and the event store's writes with the next statement (ADR 12).
DATABASES["default"]["ENGINE"] = "eventstore.backend"
# Persistent connections, one per thread that uses the database: a gunicorn sync worker, a consumer
# durable's thread. A psycopg pool (DATABASE_POOL_MAX_SIZE > 0) suits a server with a thread per request
# (ASGI), not django-q's qcluster (run_all starts it with 0). A forked process never uses the connections
# or pool it inherited: the backend drops them in the child (ADR 11).
DATABASE_POOL_MAX_SIZE = env.int("DATABASE_POOL_MAX_SIZE", default=0)
if DATABASE_POOL_MAX_SIZE > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1, "max_size": DATABASE_POOL_MAX_SIZE, "timeout": 10}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=300)
# Prepared statements for the fixed reads of every request (``fetch_prepared``: the bearer token, ADR 29). Django's
# own cursors bind client-side and never prepare. Behind a pooler in transaction mode they need PgBouncer
# 1.21+ with max_prepared_statements, or DATABASE_PREPARED_STATEMENTS=false.
if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 0
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="test_mallbots")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
SERVE_STATIC = env.bool("SERVE_STATIC", default=True)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "access.tokens.BearerTokenAuthentication",
        "access.tokens.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["web.errors.AnyJSONParser"],
    # orjson: the same bytes as DRF's JSONRenderer for our bodies (money as numbers), ~8x faster.
    "DEFAULT_RENDERER_CLASSES": ["drf_orjson_renderer.renderers.ORJSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "web.negotiation.JsonFirst",
    "EXCEPTION_HANDLER": "web.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": False,
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "MallBots API",
    "DESCRIPTION": "Kiosk, staff and bot API of MallBots, wire-compatible with the Go reference.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # /api/schema/ and /api/docs/ are Public (api.md §5): whatever Authorization header comes along is not read.
    "SERVE_AUTHENTICATION": [],
}

# One layer per web process: the board's feed fans out to the process's own sockets (architecture.md §10). A
# board stays open for days: group membership never expires (Channels' default drops it after a day), and a
# burst of events does not overflow a socket's queue.
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer",
                              "CONFIG": {"group_expiry": 10 * 365 * 86400, "capacity": 1000}}}

# Messaging (events.md §1, architecture.md §7–8)
NATS_URL = env.str("NATS_URL")
NATS_STREAM = env.str("NATS_STREAM", default="mallbots")
NATS_STREAM_REPLICAS = env.int("NATS_STREAM_REPLICAS", default=1)
NATS_DUPLICATE_WINDOW_SECONDS = env.int("NATS_DUPLICATE_WINDOW_SECONDS", default=120)
NATS_STREAM_MAX_AGE_DAYS = env.int("NATS_STREAM_MAX_AGE_DAYS", default=30)
# The embedded nats-server (NATS_URL unset) fsyncs every JetStream write before acking it; bootstrap reads it
# before these settings (mallbots_site/embedded.py). An external server has its own `sync_interval`.
NATS_SYNC_ALWAYS = env.bool("NATS_SYNC_ALWAYS", default=False)

WEB_HOST = env.str("WEB_HOST", default="127.0.0.1")
WEB_PORT = env.int("WEB_PORT", default=8080)
WEB_WORKERS = env.int("WEB_WORKERS", default=2)
WEB_THREADS = env.int("WEB_THREADS", default=4)
# Seconds a web worker keeps what a bearer token's read found (ADR 33); emptied at once when tokens, users or
# roles change; 0 reads the token on every request.
ACCESS_TOKEN_CACHE_SECONDS = env.float("ACCESS_TOKEN_CACHE_SECONDS", default=300.0)
# Garbage collector of every process (ADR 28): the youngest generation is collected after this many
# allocations (Python's default 700; 0 keeps Python's settings and does not freeze start-up objects).
GC_THRESHOLD = env.int("GC_THRESHOLD", default=50_000)
SHUTDOWN_TIMEOUT_SECONDS = env.int("SHUTDOWN_TIMEOUT_SECONDS", default=30)

RELAY_BATCH_SIZE = env.int("RELAY_BATCH_SIZE", default=100)
RELAY_POLL_INTERVAL_SECONDS = env.float("RELAY_POLL_INTERVAL_SECONDS", default=1.0)
RELAY_PUBLISH_TIMEOUT_SECONDS = env.float("RELAY_PUBLISH_TIMEOUT_SECONDS", default=5)
RELAY_MAX_BACKOFF_SECONDS = env.float("RELAY_MAX_BACKOFF_SECONDS", default=30)
RELAY_STANDBY_POLL_SECONDS = env.float("RELAY_STANDBY_POLL_SECONDS", default=2)

CONSUMER_FETCH_BATCH = env.int("CONSUMER_FETCH_BATCH", default=10)
CONSUMER_ACK_WAIT_SECONDS = env.int("CONSUMER_ACK_WAIT_SECONDS", default=30)
CONSUMER_MAX_DELIVER = env.int("CONSUMER_MAX_DELIVER", default=5)
CONSUMER_BACKOFF_SECONDS = [float(s) for s in env.list("CONSUMER_BACKOFF_SECONDS", default=["1", "2", "5", "10", "30"])]

EVENTSTORE_SNAPSHOT_EVERY = env.int("EVENTSTORE_SNAPSHOT_EVERY", default=50)
# Committed aggregate states each process keeps in memory (eventstore.aggregate_cache, ADR 12); 0 = off.
EVENTSTORE_AGGREGATE_CACHE_SIZE = env.int("EVENTSTORE_AGGREGATE_CACHE_SIZE", default=2000)
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=7)
INBOX_RETENTION_DAYS = env.int("INBOX_RETENTION_DAYS", default=7)
LAG_WARN_SECONDS = env.int("LAG_WARN_SECONDS", default=60)
# manage.py audit: work younger than this is still in flight; event-store and outbox checks read the newest rows.
AUDIT_GRACE_SECONDS = env.int("AUDIT_GRACE_SECONDS", default=30)
AUDIT_SCAN_ROWS = env.int("AUDIT_SCAN_ROWS", default=200_000)

BASKET_ABANDON_AFTER_MINUTES = env.int("BASKET_ABANDON_AFTER_MINUTES", default=30)
SAGA_STEP_TIMEOUT_SECONDS = env.int("SAGA_STEP_TIMEOUT_SECONDS", default=300)
SAGA_MAX_RESENDS = env.int("SAGA_MAX_RESENDS", default=3)

SMS_BACKEND = env.str("SMS_BACKEND", default="console")
SMS_WEBHOOK_URL = env.str("SMS_WEBHOOK_URL", default="")
SMS_MAX_ATTEMPTS = env.int("SMS_MAX_ATTEMPTS", default=5)
BOARD_RECENT_MINUTES = env.int("BOARD_RECENT_MINUTES", default=60)

Q_WORKERS = env.int("Q_WORKERS", default=2)
Q_CLUSTER = {
    "name": "mallbots",
    "workers": Q_WORKERS,
    "orm": "default",
    "timeout": 60,
    "retry": 120,
    "catch_up": False,
    "poll": 1,
}

BOT_SIM_COUNT = env.int("BOT_SIM_COUNT", default=3)
BOT_SIM_BASE_URL = env.str("BOT_SIM_BASE_URL", default=f"http://{WEB_HOST}:{WEB_PORT}")
BOT_SIM_POLL_SECONDS = env.float("BOT_SIM_POLL_SECONDS", default=1.0)
BOT_SIM_TRAVEL_SECONDS = env.float("BOT_SIM_TRAVEL_SECONDS", default=2.0)
BOT_SIM_PICK_SECONDS = env.float("BOT_SIM_PICK_SECONDS", default=0.5)
BOT_SIM_UNAVAILABLE_RATE = env.float("BOT_SIM_UNAVAILABLE_RATE", default=0.1)

# Observability (architecture.md §18). Traces: ``none`` (default: no span is made, no OpenTelemetry import),
# ``console`` (one JSON line per span on stdout) or ``otlp`` (OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT); the
# standard OTEL_TRACES_EXPORTER is honoured when TRACING_EXPORTER is unset (mallbots_site/tracing.py).
TRACING_EXPORTER = env.str("TRACING_EXPORTER", default=env.str("OTEL_TRACES_EXPORTER", default="none")).lower()
# Relay and consumer processes serve their own histograms on this port (0 = off; ADR 21).
METRICS_PORT = env.int("METRICS_PORT", default=0)
# /metrics reads JetStream's per-durable pending counts at most this often, waiting at most the timeout.
METRICS_NATS_CACHE_SECONDS = env.float("METRICS_NATS_CACHE_SECONDS", default=10.0)
METRICS_NATS_TIMEOUT_SECONDS = env.float("METRICS_NATS_TIMEOUT_SECONDS", default=1.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "mallbots_site.logging.ContextFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s %(trace_id)s] %(message)s"},
        "json": {"()": "mallbots_site.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": "json" if ENVIRONMENT == "production" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {name: {"level": "WARNING"} for name in ("django.db.backends", "asyncio", "pgserver", "nats", "httpx", "httpcore")},
}

if ENVIRONMENT == "production":
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    # TLS is terminated in front of the web tier (README "Deployment checklist"): these stay off unless the
    # deployment serves HTTPS only (manage.py check --deploy warns W004 / W008 until then).
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
    if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
