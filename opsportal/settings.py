"""
Settings for opsportal, all from environment variables.

The embedded default (no variables set) runs the whole portal on one machine: SQLite in
``var/`` and a Celery broker on the filesystem, so web, worker and scheduler need no server.
``DATABASE_URL`` and ``CELERY_BROKER_URL`` switch to PostgreSQL and Redis.

``DJANGO_ENV=production`` turns on the production shape: it refuses to start without
``DJANGO_SECRET_KEY`` and ``DJANGO_ALLOWED_HOSTS`` and sets the security headers and cookie flags
that ``manage.py check --deploy`` asks for.
"""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from import_export.formats.base_formats import CSV, XLSX

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("OPSPORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# pytest sets PYTEST_VERSION: a test run gets the test shape unless told otherwise.
DJANGO_ENV = env.str("DJANGO_ENV", default="test" if env.str("PYTEST_VERSION", default="") else "development")
if DJANGO_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be development, production or test, not {DJANGO_ENV!r}.")
PRODUCTION = DJANGO_ENV == "production"
TESTING = DJANGO_ENV == "test"

# --- Core -------------------------------------------------------------------------------------

if PRODUCTION:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_ENV=production.")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS is required when DJANGO_ENV=production.")
    DEBUG = False
else:
    # A development key: never used in production, where the variable is required.
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
    DEBUG = env.bool("DJANGO_DEBUG", default=not TESTING)

CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "django_celery_beat",
    "django_celery_results",
    "auditlog",
    "axes",
    "apps.core",
    "apps.sops",
    "apps.vendors",
    "apps.invoices",
    "apps.refunds",
    "apps.inventory",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "apps.core.middleware.RequestLimitsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.AuditContextMiddleware",
    "apps.core.middleware.SessionTimeoutMiddleware",
    "apps.core.middleware.EnqueueFailureMessageMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "opsportal.urls"
WSGI_APPLICATION = "opsportal.wsgi.application"

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
                "apps.core.context_processors.notifications",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------

_sqlite_default = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db("DATABASE_URL", default=_sqlite_default)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the default database and the test database's file
    # Web, worker and scheduler share one file: WAL lets readers and a writer work side by side,
    # IMMEDIATE transactions take the write lock up front instead of failing half-way.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests get a file of their own too, not SQLite's shared in-memory database: the live server's request
    # threads then wait for each other's locks, where a shared in-memory database fails them at once.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

# --- Auth, sessions and login throttling ------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend's rules; loads a request's user with their permissions and unread count in one query.
    "apps.core.auth_backends.PortalModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks: the account, or the address
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "apps.core.views.locked_out"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_VERBOSE = False

# Sessions are read from the cache (CACHE_URL) and written through to the database: no session query
# on a page load while the session is cached.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_MAX_AGE_SECONDS", default=8 * 3600)
SESSION_COOKIE_SAMESITE = "Lax"
# Ended on the next request after this long without one; SESSION_COOKIE_AGE is the absolute limit from sign-in,
# which activity never extends (apps.core.middleware.SessionTimeoutMiddleware).
SESSION_IDLE_TIMEOUT_SECONDS = env.int("SESSION_IDLE_TIMEOUT_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = False
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# --- Internationalisation and time ------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("DISPLAY_TIME_ZONE", default="UTC")  # stored in UTC, shown in this zone
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 20

# --- E-mail -----------------------------------------------------------------------------------

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Ops Portal <opsportal@localhost>")
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# --- Celery -----------------------------------------------------------------------------------

BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://" if TESTING else "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: messages are files in one folder shared by every process.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
    for _folder in ("queue", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than the longest task: an un-acked task is redelivered only after this.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 3600),
        "socket_connect_timeout": 5,
        # A down broker fails fast: a request that enqueues is answered instead of hanging on retries.
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.5,
        "interval_max": 1,
    }
    if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] < 60:
        # A short timeout (the tests that kill a worker): look for abandoned tasks every second.
        CELERY_BROKER_TRANSPORT_OPTIONS.update(unacked_restore_interval=1, unacked_restore_throttle=1)
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_RESULT_EXPIRES = timedelta(days=7)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True  # a task is acknowledged once it has finished ...
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # ... and redelivered if its worker dies mid-way
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# Sending a task gives up after about a second when the broker is down (apps/core/enqueue.py records it for a resend).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_IMPORTS = ["apps.core.enqueue"]  # tasks outside the apps' tasks.py modules
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- REST API ---------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.core.api.permissions.ModelPermissions"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "apps.core.api.filter_backends.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exceptions.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + ([] if PRODUCTION else ["rest_framework.renderers.BrowsableAPIRenderer"]),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Ops Portal API",
    "DESCRIPTION": "Vendors, accounts payable, refunds, inventory counts and SOPs.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "VendorStatusEnum": "apps.vendors.models.Vendor.Status",
        "ReviewStatusEnum": "apps.vendors.models.PerformanceReview.Status",
        "JobStatusEnum": "apps.core.models.ImportJob.Status",  # import and export jobs share these states
    },
}

# --- Audit trail ------------------------------------------------------------------------------

AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    {"model": "auth.user", "mask_fields": ["password"], "exclude_fields": ["last_login"], "m2m_fields": ["groups"]},
    {"model": "auth.group", "m2m_fields": ["permissions"]},
    "django_celery_beat.periodictask",
    "django_celery_beat.crontabschedule",
    "django_celery_beat.intervalschedule",
)

# --- Import / export --------------------------------------------------------------------------

# Importing needs the model's add permission; auditors never get one.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_FORMATS = EXPORT_FORMATS = [CSV, XLSX]  # nothing a spreadsheet user would not open

# Import jobs: limits on what a file may hold, checked before any row is read.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=200_000)
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=60)
IMPORT_PROGRESS_EVERY = 1000  # rows between progress updates

# Exports: above this many rows an export becomes an export job the worker writes (a link when ready).
EXPORT_ASYNC_THRESHOLD_ROWS = env.int("EXPORT_ASYNC_THRESHOLD_ROWS", default=50_000)
# Export files (large exports, evidence packs) are deleted this many days after they were written.
EXPORT_FILE_RETENTION_DAYS = env.int("EXPORT_FILE_RETENTION_DAYS", default=7)

# --- Cache ------------------------------------------------------------------------------------

# Shared by web and worker processes (import progress): files in var/ by default, Redis in production.
CACHES = {
    "default": env.cache_url("CACHE_URL", default="locmemcache://" if TESTING else f"filecache://{VAR_DIR / 'cache'}")
}

# --- Reminders --------------------------------------------------------------------------------

REMINDER_DIGEST_HOUR = env.int("REMINDER_DIGEST_HOUR", default=7)

# --- SOPs -------------------------------------------------------------------------------------

SOP_REVIEW_DUE_DAYS = env.int("SOP_REVIEW_DUE_DAYS", default=14)
SOP_ACKNOWLEDGE_WITHIN_DAYS = env.int("SOP_ACKNOWLEDGE_WITHIN_DAYS", default=7)
SOP_REVIEW_WAITING_DAYS = env.int("SOP_REVIEW_WAITING_DAYS", default=3)
SOP_ATTACHMENT_MAX_BYTES = env.int("SOP_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)

# --- Accounts payable -------------------------------------------------------------------------

INVOICE_MATCH_MODE = env.str("INVOICE_MATCH_MODE", default="three_way")  # or two_way; overridable per vendor
INVOICE_QUANTITY_TOLERANCE_PERCENT = Decimal(env.str("INVOICE_QUANTITY_TOLERANCE_PERCENT", default="0"))
INVOICE_QUANTITY_TOLERANCE_ABSOLUTE = Decimal(env.str("INVOICE_QUANTITY_TOLERANCE_ABSOLUTE", default="0"))
INVOICE_PRICE_TOLERANCE_PERCENT = Decimal(env.str("INVOICE_PRICE_TOLERANCE_PERCENT", default="2"))
INVOICE_PRICE_TOLERANCE_ABSOLUTE = Decimal(env.str("INVOICE_PRICE_TOLERANCE_ABSOLUTE", default="5.00"))
INVOICE_SECOND_APPROVAL_THRESHOLD = Decimal(env.str("INVOICE_SECOND_APPROVAL_THRESHOLD", default="10000.00"))
INVOICE_DUE_SOON_DAYS = env.int("INVOICE_DUE_SOON_DAYS", default=7)
INVOICE_APPROVAL_SLA_DAYS = env.int("INVOICE_APPROVAL_SLA_DAYS", default=3)
INVOICE_EXCEPTION_SLA_DAYS = env.int("INVOICE_EXCEPTION_SLA_DAYS", default=5)

# --- Vendors ----------------------------------------------------------------------------------

VENDOR_REVIEW_INTERVAL_DAYS = env.int("VENDOR_REVIEW_INTERVAL_DAYS", default=120)

# --- Logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Production hardening ---------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

if TESTING:
    # Tests send to a queue of their own: a worker test never consumes another run's messages.
    CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TEST_QUEUE", default=f"opsportal-test-{os.getpid()}")
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
