"""Settings for the TechParts platform, read from the environment.

Every value has a default that is safe for production; `make run` opts into DEBUG for local work.
See README.md ("Configuration") for the variables.
"""

import os
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {value!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}")
    return number


def env_decimal(name: str, default: str) -> Decimal:
    value = os.environ.get(name) or default
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise ImproperlyConfigured(f"{name} must be a decimal amount, got {value!r}") from exc
    if not amount.is_finite() or amount < 0:
        raise ImproperlyConfigured(f"{name} must be 0 or more, got {value!r}")
    return amount


def env_rate(name: str, default: str) -> str:
    """Return a rate such as '600/minute' (per second, minute, hour or day); empty means off."""
    value = os.environ.get(name, default).strip()
    if value and not re.fullmatch(r"[1-9][0-9]*/(?:s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name} must look like 600/minute (or be empty), got {value!r}")
    return value


DEBUG = env_bool("DEBUG", False)
# Without SECRET_KEY the app still starts (tests, local runs), but with a key that
# `manage.py check --deploy` reports as insecure, so no production deploy passes with it.
SECRET_KEY = (
    os.environ.get("SECRET_KEY") or "django-insecure-local-development-key-not-for-production"
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "techparts.apikeys",
    "techparts.idempotency",
    "axes",
    "techparts.ratelimit",
    "techparts.database",
    "techparts.events",
    "django_tasks",
    # Before django_tasks_db: our `db_worker` command (which schedules the sweeper first)
    # replaces the package's.
    "techparts.tasks",
    "django_tasks_db",
    "catalog",
    "inventory",
    "orders",
    "shop",
    "webhooks",
]

MIDDLEWARE = [
    "techparts.middleware.RequestIdMiddleware",
    "techparts.middleware.RejectNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "techparts.middleware.ChunkedBodyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # With read replicas: an API key owner that wrote reads the primary for a while.
    "techparts.database.replicas.WriteMarkMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "techparts.urls"
WSGI_APPLICATION = "techparts.wsgi.application"

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

# DATABASE_URL unset: the embedded SQLite file in the project folder (local runs only).
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 0),
    )
}
# Read replicas (PostgreSQL, comma-separated URLs): aliases replica_1, replica_2, ... Nothing
# reads them unless a view opts in (techparts.database.replicas); see docs/operations.md.
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URL")
for number, url in enumerate(DATABASE_REPLICA_URLS, start=1):
    DATABASES[f"replica_{number}"] = {
        **dj_database_url.parse(url, conn_max_age=env_int("CONN_MAX_AGE", 0)),
        # Tests: the alias is the primary under another name, so the suite runs unchanged.
        "TEST": {"MIRROR": "default"},
    }
# An API key owner whose last write is younger than this reads the primary, not a replica.
REPLICA_READ_YOUR_WRITES_SECONDS = env_int("REPLICA_READ_YOUR_WRITES_SECONDS", 10)
DATABASE_ROUTERS = ["techparts.database.replicas.ReplicaRouter"]

# PostgreSQL connections (docs/operations.md, "Connections"). DB_POOL (on by default): each
# app process keeps a psycopg pool per database alias, shared by its threads, of
# DB_POOL_MIN_SIZE..DB_POOL_MAX_SIZE connections (max: one per gunicorn thread, so a thread
# never waits for another's connection); a request borrows one and gives it back at its end.
# DB_POOL=false: Django's persistent connections instead (CONN_MAX_AGE). Health-checked either
# way: the pool checks a connection before lending it (techparts.database.postgresql).
# Behind PgBouncer in transaction mode (PGBOUNCER_TRANSACTION_MODE=true): no server-side
# cursors and no prepared statements, since consecutive transactions may reach different
# server connections.
# A client that vanishes mid-transaction must not keep its locks (an Idempotency-Key's
# try-lock, stock rows) for long (docs/operations.md, "Vanished clients"): the server ends a
# transaction left idle for DB_IDLE_IN_TRANSACTION_TIMEOUT seconds, and TCP keepalives on
# both ends find a vanished peer within 20 + 3 x 10 = 50 s. Behind PgBouncer, startup options
# may be refused: the server-side settings are then the role's (ALTER ROLE ... SET).
DB_IDLE_IN_TRANSACTION_TIMEOUT = env_int("DB_IDLE_IN_TRANSACTION_TIMEOUT", 30, minimum=0)
# A database host that drops packets silently must not hold a connection attempt for the
# operating system's TCP timeout (minutes): give up after DB_CONNECT_TIMEOUT seconds, answer
# 503, and try again on the next request.
DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 5, minimum=1)
DB_KEEPALIVES = {
    "connect_timeout": DB_CONNECT_TIMEOUT,
    "keepalives": 1,
    "keepalives_idle": 20,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}
DB_POOL = env_bool("DB_POOL", True)
PGBOUNCER_TRANSACTION_MODE = env_bool("PGBOUNCER_TRANSACTION_MODE", False)
for _database in DATABASES.values():
    if _database["ENGINE"] != "django.db.backends.postgresql":
        continue
    # Django's backend plus a checked pool and a flush that may empty the ledger (owner only).
    _database["ENGINE"] = "techparts.database.postgresql"
    _options = _database.setdefault("OPTIONS", {})
    _database["CONN_HEALTH_CHECKS"] = True
    if DB_POOL:
        _database["CONN_MAX_AGE"] = 0  # Django refuses persistent connections with a pool
        _options["pool"] = {
            "min_size": env_int("DB_POOL_MIN_SIZE", 1),
            # Enough for a web process's threads, or a worker's delivery threads and itself
            # (webhooks: WEBHOOK_DELIVERY_CONCURRENCY); connections open only when used.
            "max_size": env_int(
                "DB_POOL_MAX_SIZE",
                max(env_int("GUNICORN_THREADS", 4), env_int("WEBHOOK_DELIVERY_CONCURRENCY", 8) + 1),
            ),
            "timeout": env_int("DB_POOL_TIMEOUT", 10),
            # A connection that cannot be opened is retried with growing pauses (1, 2, 4 s...)
            # and then given up; a request that finds none opens a new one at once. Giving up
            # early keeps the pauses short, so that connections return as soon as the
            # database does, not up to a minute later.
            "reconnect_timeout": 2,
        }
    if PGBOUNCER_TRANSACTION_MODE:
        _database["DISABLE_SERVER_SIDE_CURSORS"] = True
        _options["prepare_threshold"] = None
    _database["DISABLE_SERVER_SIDE_CURSORS"] = env_bool(
        "DISABLE_SERVER_SIDE_CURSORS", _database.get("DISABLE_SERVER_SIDE_CURSORS", False)
    )
    # Vanished clients (above): keepalives always; the server-side limits as startup options.
    for _name, _value in DB_KEEPALIVES.items():
        _options.setdefault(_name, _value)
    if not PGBOUNCER_TRANSACTION_MODE:
        _server = [
            f"-c idle_in_transaction_session_timeout={DB_IDLE_IN_TRANSACTION_TIMEOUT}s",
            f"-c tcp_keepalives_idle={DB_KEEPALIVES['keepalives_idle']}",
            f"-c tcp_keepalives_interval={DB_KEEPALIVES['keepalives_interval']}",
            f"-c tcp_keepalives_count={DB_KEEPALIVES['keepalives_count']}",
        ]
        _options["options"] = " ".join([_options.get("options", ""), *_server]).strip()
# Production role split (docs/operations.md): migrations run as this role, which owns the
# tables; the app connects with DATABASE_URL as a role that cannot rewrite the stock ledger.
DATABASE_OWNER_URL = os.environ.get("DATABASE_OWNER_URL", "")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several server processes (gunicorn workers) or threads (runserver) write to one file.
    # Writers queue instead of failing with "database is locked": every transaction takes the
    # write lock when it begins (a deferred one that reads first cannot upgrade while another
    # writes, and SQLite fails that at once, busy timeout or not), a writer waits up to
    # `timeout` seconds for the lock, and WAL lets readers run while one writer writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# The store's own time zone: where its days begin and end for reports such as the stock
# overview ("today", "last month"). Times are stored and shown in UTC either way.
STORE_TIME_ZONE = os.environ.get("STORE_TIME_ZONE") or "UTC"
try:
    ZoneInfo(STORE_TIME_ZONE)
except (ValueError, ZoneInfoNotFoundError) as _exc:
    raise ImproperlyConfigured(
        f"STORE_TIME_ZONE must be an IANA time zone such as Europe/Berlin, got {STORE_TIME_ZONE!r}"
    ) from _exc
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Hashed, compressed, cache-forever files once `collectstatic` has run (production, `make
# serve`); plain files served by the finders otherwise (tests, `make run`).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if (STATIC_ROOT / "staticfiles.json").exists()
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Tests and `make run` serve static files straight from the app folders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Redis (REDIS_URL or CACHE_URL) holds the rate-limit counters when set; without it they are
# rows of the database (techparts.ratelimit), so every app process shares them either way.
# Redis also holds the API keys' change stamps (techparts.apikeys.cache; without Redis, the
# cache below) and, with read replicas, each API key owner's write mark (read-your-writes),
# which must be shared: replicas need Redis.
REDIS_URL = os.environ.get("REDIS_URL") or os.environ.get("CACHE_URL") or ""
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
if DATABASE_REPLICA_URLS and not REDIS_URL:
    # Read-your-writes needs each owner's write mark visible to every app process.
    raise ImproperlyConfigured("DATABASE_REPLICA_URL needs REDIS_URL (or CACHE_URL)")

# API resource caps and per-key rate limits ("<requests>/<second|minute|hour|day>"; empty = off).
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 64 * 1024)
# POST /v1/inventory/bulk only: 2,000 items of about 150 bytes need more than the general cap.
API_BULK_MAX_BODY_BYTES = env_int("API_BULK_MAX_BODY_BYTES", 1024 * 1024)
API_RATE_LIMIT_READ = env_rate("API_RATE_LIMIT_READ", "600/minute")
API_RATE_LIMIT_WRITE = env_rate("API_RATE_LIMIT_WRITE", "120/minute")
# Conditional GETs (If-None-Match) on tagged reads: their own, larger budget, so that polling
# for changes with 304 answers does not spend the read budget (techparts.api.throttling).
API_RATE_LIMIT_NOT_MODIFIED = env_rate("API_RATE_LIMIT_NOT_MODIFIED", "6000/minute")
# Public tracking page: requests per client address (an IPv6 client counts per /64).
TRACKING_RATE_LIMIT = env_rate("TRACKING_RATE_LIMIT", "60/minute")

# Behind a TLS-terminating proxy set TRUST_PROXY_HEADERS=true: its X-Forwarded-Proto tells the
# original scheme, and the last X-Forwarded-For entry is the client's address (rate limits,
# login lockouts; techparts.client_ip). Off, those headers are ignored: any client can send them.
TRUST_PROXY_HEADERS = env_bool("TRUST_PROXY_HEADERS", False)

# Admin login (django-axes, database-backed so all app processes share it): after this many
# failures for one username from one address, that pair is refused for the lockout time;
# a successful login clears the count. The callables read these
# two settings at request time.
ADMIN_LOGIN_MAX_FAILURES = env_int("ADMIN_LOGIN_MAX_FAILURES", 5)
ADMIN_LOGIN_LOCKOUT_SECONDS = env_int("ADMIN_LOGIN_LOCKOUT_SECONDS", 15 * 60)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = "techparts.admin_login.failure_limit"
AXES_COOLOFF_TIME = "techparts.admin_login.cool_off"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "techparts.client_ip.client_ip"
AXES_USERNAME_CALLABLE = "techparts.admin_login.lockout_username"
AXES_LOCKOUT_CALLABLE = "techparts.admin_login.locked_out_response"
# Attempts while locked out are refused unrecorded: the lockout runs from the failure that
# reached the limit, and hammering a locked login cannot grow its attempt row without bound.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]
AXES_VERBOSE = False

# HTTPS: on by default outside DEBUG.
HTTPS = env_bool("HTTPS", not DEBUG)
if TRUST_PROXY_HEADERS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
if HTTPS:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Public base URL used in links handed to integrators (tracking_url).
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Orders: shipping is free at or above FREE_SHIPPING_THRESHOLD (order subtotal, USD), a flat
# FLAT_SHIPPING_FEE below it; estimated delivery is DELIVERY_TRANSIT_DAYS after the order date.
FREE_SHIPPING_THRESHOLD = env_decimal("FREE_SHIPPING_THRESHOLD", "100.00")
FLAT_SHIPPING_FEE = env_decimal("FLAT_SHIPPING_FEE", "9.99")
# Most units one API key may hold reserved in pending orders at once (0 = no cap).
MAX_PENDING_UNITS_PER_API_KEY = env_int("MAX_PENDING_UNITS_PER_API_KEY", 5000)
DELIVERY_TRANSIT_DAYS = env_int("DELIVERY_TRANSIT_DAYS", 3)

# How long an Idempotency-Key's first answer is kept for replay (hours).
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24)
# Every this many stored Idempotency-Key answers, a process purges a batch of expired ones.
IDEMPOTENCY_PURGE_EVERY = env_int("IDEMPOTENCY_PURGE_EVERY", 20, minimum=1)
# Events (GET /v1/events, webhooks) are kept at least this many days; `manage.py prune_events`
# deletes older ones. Less than 30 is refused (techparts.events.checks).
EVENTS_RETENTION_DAYS = env_int("EVENTS_RETENTION_DAYS", 30)

# Background work (Django's tasks API, the django-tasks backport): the database backend by
# default, run by `manage.py db_worker` processes (docs/operations.md). Tasks are only ever
# enqueued after commit (techparts.tasks.queue); the rows they work on are the truth.
# TASKS_BACKEND=rq switches to django-tasks-rq on REDIS_URL, run by `manage.py rqworker default
# --with-scheduler --job-class django_tasks_rq.Job` (the scheduler runs delayed tasks).
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "db").strip().lower() or "db"
if TASKS_BACKEND == "db":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
elif TASKS_BACKEND == "rq":
    if not REDIS_URL:
        raise ImproperlyConfigured("TASKS_BACKEND=rq needs REDIS_URL")
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}}
else:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be 'db' or 'rq', not {TASKS_BACKEND!r}")
# The sweeper (techparts.tasks.tasks.sweep) runs every hook this often and keeps exactly one
# next sweep scheduled; task results finished longer ago than TASK_RESULTS_RETENTION_DAYS are
# pruned, and a task result still marked running after TASKS_LOST_AFTER_SECONDS is from a
# worker that died (django-tasks-db would show it running for ever) and is marked failed.
TASKS_SWEEP_INTERVAL_SECONDS = env_int("TASKS_SWEEP_INTERVAL_SECONDS", 15, minimum=1)
TASK_RESULTS_RETENTION_DAYS = env_int("TASK_RESULTS_RETENTION_DAYS", 7, minimum=1)
TASKS_LOST_AFTER_SECONDS = env_int("TASKS_LOST_AFTER_SECONDS", 900, minimum=1)

# Webhooks (docs/webhooks.md). Endpoint secrets are stored encrypted with the first of
# WEBHOOK_SECRET_KEYS (comma-separated Fernet keys; older keys still decrypt), or with a key
# derived from SECRET_KEY when unset. Rotating an endpoint's secret keeps the old one signing
# for WEBHOOK_SECRET_ROTATION_OVERLAP_HOURS. WEBHOOKS_ALLOW_LOOPBACK lets endpoints on this
# machine receive deliveries: development and tests only.
WEBHOOK_SECRET_KEYS = env_list("WEBHOOK_SECRET_KEYS")
WEBHOOK_SECRET_ROTATION_OVERLAP_HOURS = env_int("WEBHOOK_SECRET_ROTATION_OVERLAP_HOURS", 24)
WEBHOOKS_ALLOW_LOOPBACK = env_bool("WEBHOOKS_ALLOW_LOOPBACK", False)
# Most webhook endpoints one owner (integrator) may have.
WEBHOOK_ENDPOINTS_PER_OWNER = env_int("WEBHOOK_ENDPOINTS_PER_OWNER", 20)
# Delivery (docs/webhooks.md): a worker claims a delivery for WEBHOOK_DELIVERY_LEASE_SECONDS,
# which must stay well above one attempt's 10 s limit (a lease running out while its worker
# still waits for the answer lets another worker send the same event at the same time); a
# worker killed mid-delivery leaves its lease to run out, and the delivery is sent again.
# One delivery run sends up to WEBHOOK_DELIVERY_CONCURRENCY requests at a time. Finished
# deliveries and their attempts stay in the delivery log WEBHOOK_DELIVERY_LOG_DAYS days.
WEBHOOK_DELIVERY_LEASE_SECONDS = env_int("WEBHOOK_DELIVERY_LEASE_SECONDS", 60, minimum=1)
WEBHOOK_DELIVERY_CONCURRENCY = env_int("WEBHOOK_DELIVERY_CONCURRENCY", 8, minimum=1)
WEBHOOK_DELIVERY_LOG_DAYS = env_int("WEBHOOK_DELIVERY_LOG_DAYS", 30, minimum=1)

# `make bench` only: route the bare floor views (shop/floor/) under /bench/floor/. Production
# never turns it on; `manage.py check --deploy` fails while it is on.
BENCH_FLOOR_VIEWS = env_bool("BENCH_FLOOR_VIEWS", False)

# How often an API key's last-used time is written at most (seconds).
API_KEY_LAST_USED_INTERVAL = env_int("API_KEY_LAST_USED_INTERVAL", 60)
# How long a process trusts its in-memory copy of an API key (seconds; 0 = read it every time).
# With Redis every change is seen at once anyway (a stamp per key in the shared cache); without
# it a revocation or scope change made in another process takes effect within this bound.
API_KEY_CACHE_SECONDS = env_int("API_KEY_CACHE_SECONDS", 5)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["techparts.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [
        "techparts.api.permissions.HasScope",
        "techparts.api.query.KnownQueryParameters",
    ],
    "DEFAULT_METADATA_CLASS": "techparts.api.metadata.AllowedMethodsMetadata",
    "DEFAULT_RENDERER_CLASSES": ["techparts.api.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["techparts.api.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["techparts.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "techparts.api.negotiation.JSONOnlyNegotiation",
    "DEFAULT_FILTER_BACKENDS": [
        "techparts.api.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "techparts.api.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "techparts.api.pagination.PageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "techparts.api.schema.ScopedAutoSchema",
    "EXCEPTION_HANDLER": "techparts.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": False,
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%SZ",
    "PAGE_SIZE": 20,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "TechParts Developer API",
    "DESCRIPTION": (
        "Programmatic access to the TechParts catalog, inventory and orders. "
        "Authenticate with `Authorization: Bearer <key>`; each operation names the scope "
        'its key needs. Every error is `{"error": code, "message": text}`, '
        "plus `details` or other documented fields."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # PATCH /v1/inventory/{sku} takes the same required fields as a full update.
    "COMPONENT_SPLIT_PATCH": False,
    # The ledger's reason codes appear in several components (movements, the change feed):
    # one enum, under the name the schema has always used.
    "ENUM_NAME_OVERRIDES": {
        "StockMovementReasonCodeEnum": "inventory.reasons.ALL_CODES",
        "EventTypeEnum": "techparts.events.types.ALL_TYPES",
        "ApprovalStatusEnum": "inventory.models.ApprovalRequest.Status",
        # An order's status keeps the name it had before approval requests had one too.
        "StatusEnum": "orders.models.Order.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "techparts.api.schema.postprocess_schema",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # One JSON line per request (techparts.middleware); runserver's own line is redundant,
        # and so are Django's warnings for 4xx answers ("Bad Request: /v1/..."). Server errors
        # are still logged, with their traceback.
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        # django-axes narrates every login at INFO, with the username and address masked;
        # techparts.security logs failures and lockouts with both (techparts.admin_login).
        "axes": {"level": "WARNING"},
    },
}
