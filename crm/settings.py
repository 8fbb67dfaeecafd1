"""Settings for the CRM. Everything deployment-specific comes from the environment.

`stack.py` (run by `make run` / `make test`) starts an embedded PostgreSQL and
Redis and sets DATABASE_URL / REDIS_URL when they are not given.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from crm.env import database_from_url, env_bool, env_int, env_list, env_str, mailer_from_url, redis_url
from crm.observability import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
# The product's name: top bar, page titles, sign-in and error pages, e-mails (invitation, password reset),
# the calendar feed's name, the two-factor issuer and the API's title.
APP_NAME = env_str("APP_NAME", "CRM")
# A filter select's empty choice outside the list component (the board, reports): "All", not "---------".
FILTERS_EMPTY_CHOICE_LABEL = _("All")
VAR_DIR = Path(env_str("CRM_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or ("insecure-dev-key-only-for-local-runs-change-me" if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set: with DEBUG off the CRM needs a long random secret, for example the output of "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
    )
# Former keys, comma-separated, while a rotation is under way: sessions, signed links and the stored secrets
# (crm/encryption.py) made with them still read; `manage.py rotate_secrets` re-encrypts under SECRET_KEY.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "crm",
    "accounts",
    "contacts",
    "sales",
    "service",
    "portal",
    "activities",
    "marketing",
    "reports",
    "demo",
    "webhooks",
    "imports",
    "exports",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "pgtrigger",
    "pghistory",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "crm.metrics.metrics_middleware",  # first: it times everything below
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "crm.middleware.DatabaseUnavailableMiddleware",  # outside everything that reads the database
    "django.contrib.sessions.middleware.SessionMiddleware",
    "crm.middleware.IdleSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "crm.middleware.RefuseNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "crm.observability.request_context_middleware",  # request id and user on every log line; slow requests
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "crm.middleware.TwoFactorRequiredMiddleware",
    "crm.middleware.UserTimezoneMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crm.middleware.FriendlyNotFoundMiddleware",
    "crm.replica.ReplicaReadMiddleware",  # reports' GET views read from a replica when one is configured
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.context_processors.navigation",
                "crm.context_processors.notifications",
            ],
            # The formatting layer's filters (money, day, moment, ago, or_empty) in every template; `{% url %}`
            # keeping the URLs of constant names without arguments (crm/templatetags/cached_url.py).
            "builtins": ["crm.templatetags.formatting", "crm.templatetags.cached_url"],
        },
    },
]

# --- Data stores -------------------------------------------------------------
DATABASES = {"default": database_from_url(env_str("DATABASE_URL"), conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
# Behind PgBouncer in transaction mode a named cursor does not survive between transactions:
# .iterator() then fetches in chunks on the client (docs/scaling.md).
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("PGBOUNCER_TRANSACTION_MODE", False)
# A server that does not answer must give a fast error (the friendly 503 page, /healthz within 2 s),
# not a request that waits for the operating system's TCP timeout.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 2))
# No JIT compilation for our connections: our queries are short, and a plan whose estimate crosses
# jit_above_cost (a search over 1,000,000 tickets) spent 60 ms compiling for 36 ms of work
# (docs/benchmarks.md). PgBouncer refuses startup options: there, set `ALTER DATABASE … SET jit = off`
# (docs/scaling.md). Nothing else does it: the reports no longer repeat it per transaction
# (crm/tests/test_db_settings.py runs them both ways).
if not DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"]:
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
# A streaming read replica (crm/replica.py, docs/scaling.md): reports, dashboards and exports read from it while
# it is no more than REPLICA_MAX_LAG seconds behind; everything else, and every write, uses the primary.
if env_str("DATABASE_REPLICA_URL", ""):
    DATABASES["replica"] = database_from_url(env_str("DATABASE_REPLICA_URL"),
                                             conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    DATABASES["replica"]["DISABLE_SERVER_SIDE_CURSORS"] = DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"]
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 2))
    if "options" in DATABASES["default"]["OPTIONS"]:
        DATABASES["replica"]["OPTIONS"].setdefault("options", DATABASES["default"]["OPTIONS"]["options"])
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # tests read "the replica" from the test database
DATABASE_ROUTERS = ["crm.replica.ReplicaRouter"]
REPLICA_READ_APPS = ["reports"]
# Audit history is partitioned by month (crm/partitions.py); months older than this many are dropped whole.
# 0 keeps everything (the default: the history is the audit trail).
HISTORY_RETENTION_MONTHS = env_int("HISTORY_RETENTION_MONTHS", 0)
# Finished activities older than this many months move to the partitioned archive (activities/archive.py); 0: never.
ACTIVITY_ARCHIVE_MONTHS = env_int("ACTIVITY_ARCHIVE_MONTHS", 24)
REPLICA_MAX_LAG = env_int("REPLICA_MAX_LAG", 30)
REPLICA_CHECK_SECONDS = env_int("REPLICA_CHECK_SECONDS", 10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = redis_url(env_str("REDIS_URL"))
CACHES = {
    "default": {
        "BACKEND": "crm.cache_backend.RedisCache",  # Django's, with one client per pool (crm/cache_backend.py)
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "crm"),
        # A stalled Redis must give a fast error, never a request that hangs (and with it a
        # gunicorn worker): every call gives up after a second.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}

# --- Celery ------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "crm")
CELERY_TASK_ROUTES = ("crm.queues.route",)  # crm.mail, crm.imports, crm.reports: see crm/queues.py
CELERY_TASK_ACKS_LATE = True  # a task whose worker dies is redelivered, so tasks must be idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Enqueueing from a web request waits at most a few seconds for a stalled broker, then fails
# with an error the page can show; the worker itself keeps reconnecting.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_timeout": 2, "socket_connect_timeout": 2}
CELERY_REDIS_SOCKET_TIMEOUT = 2
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
CELERY_TIMEZONE = "UTC"
# Background jobs beat while they run (crm/jobs.py); one not heard from for JOB_STALE_SECONDS lost its
# worker and is taken over by the scheduler tick (which runs every minute).
JOB_HEARTBEAT_SECONDS = env_int("JOB_HEARTBEAT_SECONDS", 10)
JOB_STALE_SECONDS = env_int("JOB_STALE_SECONDS", 60)
CELERY_BEAT_SCHEDULE = {
    # The only periodic entry: everything "due" lives in our own tables (see crm/scheduler.py).
    "scheduler-tick": {"task": "crm.tasks.scheduler_tick", "schedule": 60.0},
}

# --- Auth and sessions -------------------------------------------------------
AUTH_USER_MODEL = "crm.User"
AUTHENTICATION_BACKENDS = ["crm.backends.EmailBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sessions are read from Redis (no query per request) and written through to PostgreSQL, which
# stays the record: when Redis is down or has lost the entry, the row is read instead
# (crm/sessions.py; crm.models.UserSession.end_all_for clears both).
SESSION_ENGINE = "crm.sessions"
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = False  # crm.middleware.IdleSessionMiddleware renews it once a minute
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600  # invitations use the same token
# Lockout (crm/security.py): this many wrong passwords within the window lock the address for the
# window; this many failures from one IP (any addresses) lock the IP.
SIGNIN_LOCKOUT_FAILURES = env_int("SIGNIN_LOCKOUT_FAILURES", 5)
SIGNIN_LOCKOUT_MINUTES = env_int("SIGNIN_LOCKOUT_MINUTES", 15)
SIGNIN_IP_FAILURES = env_int("SIGNIN_IP_FAILURES", 50)
PASSWORD_RESET_PER_HOUR = env_int("PASSWORD_RESET_PER_HOUR", 3)
DUPLICATE_CHECKS_PER_MINUTE = env_int("DUPLICATE_CHECKS_PER_MINUTE", 30)
SECURITY_LOG_DAYS = env_int("SECURITY_LOG_DAYS", 365)
# Roles that must use two-factor sign-in unless an admin decides otherwise (Admin tools → Security).
TWO_FACTOR_REQUIRED_ROLES = env_list("TWO_FACTOR_REQUIRED_ROLES", "admin")
TWO_FACTOR_ISSUER = env_str("TWO_FACTOR_ISSUER", APP_NAME)  # the name authenticator apps show

# --- Security ----------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# The Secure flag whenever HTTPS is configured (redirect or proxy), unless explicitly switched off.
SESSION_COOKIE_SECURE = env_bool(
    "SECURE_COOKIES", env_bool("SECURE_SSL_REDIRECT", False) or env_bool("BEHIND_TLS_PROXY", False))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- E-mail ------------------------------------------------------------------
# EMAIL_URL like smtp://user:pass@host:587?tls=1. Unset: mail goes to the
# outbox folder (var/mail/), readable by admins in the app.
EMAIL_OUTBOX_DIR = VAR_DIR / "mail"
# The support mailbox, a Maildir (new/, cur/, tmp/) that an MTA or fetchmail/getmail delivers into; the
# scheduler tick turns each message into a ticket or a reply (service/inbound.py, docs/service.md).
SERVICE_MAILDIR = Path(env_str("SERVICE_MAILDIR", str(VAR_DIR / "support-mailbox")))
# IMAP mailboxes the desk reads itself (Desk set-up → IMAP mailboxes, service/imap.py): an extra certificate
# authority to trust (a mail server with a private CA; the system's authorities are always trusted), and
# how long to wait for the server, in seconds.
SERVICE_IMAP_CA_FILE = env_str("SERVICE_IMAP_CA_FILE", "")
SERVICE_IMAP_TIMEOUT = 30
# Which tickets a support agent sees and works: "all" (whoever answers the phone helps; the default) or
# "team-queues" (the tickets of the queues their team serves, and those assigned to them). docs/service.md.
# Field service: the time a specialist needs between two visits (dispatch refuses a tighter slot).
SERVICE_TRAVEL_MINUTES = env_int("SERVICE_TRAVEL_MINUTES", 30)
if not 0 <= SERVICE_TRAVEL_MINUTES <= 24 * 60:
    raise ImproperlyConfigured(f"SERVICE_TRAVEL_MINUTES={SERVICE_TRAVEL_MINUTES}: between 0 and 1440 minutes.")
SERVICE_AGENTS_SEE = env_str("SERVICE_AGENTS_SEE", "all")
if SERVICE_AGENTS_SEE not in ("all", "team-queues"):
    raise ImproperlyConfigured(f"SERVICE_AGENTS_SEE={SERVICE_AGENTS_SEE!r}: use all or team-queues.")
MAILERS = {"default": mailer_from_url(env_str("EMAIL_URL", "outbox://"))}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{APP_NAME} <crm@localhost>")
# Marketing mail (docs/marketing.md): how long a preference link works, a site-wide hourly limit on mailing
# messages (0: none; a mailing may set a lower one of its own).
MARKETING_PREFERENCE_LINK_DAYS = env_int("MARKETING_PREFERENCE_LINK_DAYS", 60)
MARKETING_HOURLY_LIMIT = env_int("MARKETING_HOURLY_LIMIT", 0)
# SMTP connections one mailing sends over at once (each with its own batches; docs/marketing.md, "Speed").
MARKETING_SMTP_CONNECTIONS = env_int("MARKETING_SMTP_CONNECTIONS", 1)
# Bounces: mailing messages carry the return path <local>+<delivery>-<signature>@<domain> built from this
# address (empty: bounce@ the DEFAULT_FROM_EMAIL domain); the MTA delivers what comes back to it into the
# Maildir MARKETING_BOUNCE_MAILDIR, read by the scheduler tick. An address is no longer mailed after a
# hard bounce, or after MARKETING_SOFT_BOUNCE_LIMIT soft ones.
MARKETING_BOUNCE_ADDRESS = env_str("MARKETING_BOUNCE_ADDRESS", "")
MARKETING_BOUNCE_MAILDIR = Path(env_str("MARKETING_BOUNCE_MAILDIR", str(VAR_DIR / "bounce-mailbox")))
MARKETING_SOFT_BOUNCE_LIMIT = env_int("MARKETING_SOFT_BOUNCE_LIMIT", 3)
# Public web-to-lead forms: submissions from one IP address in an hour, across all forms.
WEBFORM_PER_IP_PER_HOUR = env_int("WEBFORM_PER_IP_PER_HOUR", 5)
PUBLIC_URL = env_str("PUBLIC_URL", "http://localhost:8000")  # links in e-mails sent outside a request (surveys)
# The site's domain: the right-hand side of every Message-ID we make (outbox, mailings). Defaults to PUBLIC_URL's host.
SITE_DOMAIN = env_str("SITE_DOMAIN", urlsplit(PUBLIC_URL).hostname or "localhost").strip().lower()
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- i18n --------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian")), ("uk", _("Ukrainian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION", "GB")  # for numbers typed without a country code
# Search and the caller lookup also read a typed number in these countries (after the user's own).
PHONE_SEARCH_REGIONS = [code.upper() for code in env_list("PHONE_SEARCH_REGIONS", "RU,UA,GB")]
# ISO 4217 code of the currency targets, forecasts and board sums are shown in.
DEFAULT_CURRENCY = env_str("DEFAULT_CURRENCY", "EUR").upper()
USE_I18N = True
USE_TZ = True
# One date style and one date-time style per language (crm/formats/<language>/formats.py).
FORMAT_MODULE_PATH = ["crm.formats"]

# --- Static files ------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Front-end libraries come from npm (package-lock.json) and are served from node_modules.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap/dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons/font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org/dist"),
    ("vendor/tom-select", NODE_MODULES / "tom-select/dist"),
    ("vendor/sortablejs", NODE_MODULES / "sortablejs"),
    ("vendor/chart.js", NODE_MODULES / "chart.js/dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = VAR_DIR / "media"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

PGHISTORY_MIDDLEWARE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# --- Logs and metrics (crm/observability.py, crm/metrics.py, docs/operations.md) -----------
LOG_FORMAT = env_str("LOG_FORMAT", "plain")  # plain or json; every line carries request_id and user_id
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use plain or json.")
LOGGING = logging_config(json_format=LOG_FORMAT == "json", level=env_str("LOG_LEVEL", "INFO"))
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # the worker logs through LOGGING too, with the request id
SLOW_REQUEST_MS = env_int("SLOW_REQUEST_MS", 1000)  # logged as "slow request" on crm.slow
SLOW_QUERY_MS = env_int("SLOW_QUERY_MS", 500)  # logged as "slow query" on crm.slow
METRICS_TOKEN = env_str("METRICS_TOKEN", "")  # /metrics answers only with "Authorization: Bearer <token>"

# --- REST API (crm/api/, docs/api.md) ------------------------------------------
API_RATE_LIMIT = env_str("API_RATE_LIMIT", "600/minute")  # per token (per user for the browser session)
_count, _, _period = API_RATE_LIMIT.partition("/")
if not _count.isdigit() or _period not in {"s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day"}:
    raise ImproperlyConfigured(f"API_RATE_LIMIT={API_RATE_LIMIT!r}: use requests per second/minute/hour/day.")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.authentication.ApiTokenAuthentication",  # first: a 401 says "WWW-Authenticate: Token"
        "rest_framework.authentication.SessionAuthentication",  # the browser; enforces CSRF
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["crm.api.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["crm.api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": API_RATE_LIMIT},
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.ApiCursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend",
                                "crm.api.pagination.AllowListOrdering"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "crm.api.views.exception_handler",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": f"{APP_NAME} API",
    "DESCRIPTION": "Accounts, contacts, activities, leads, opportunities, products, quotes, orders, invoices "
                   "and payments. Authenticate with `Authorization: Token <key>` "
                   "(keys are made on /profile/tokens/). See docs/api.md.",
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,  # read-only fields are not asked for in request bodies
    "SWAGGER_UI_DIST": "SIDECAR",  # served by staticfiles: no CDN, CSP stays 'self'
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None, "displayRequestDuration": True},
    "ENUM_NAME_OVERRIDES": {
        "LeadSourceEnum": "crm.choices.LeadSource",
        "ActivityKindEnum": "activities.models.ActivityKind",
        "StageKindEnum": "sales.models.StageKind",
        "PriceBookKindEnum": "sales.models.PriceBookKind",
    },
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "crm.api.schema.add_error_responses"],
}
