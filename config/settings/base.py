"""Settings shared by every environment; everything that differs comes from the environment."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "insecure-development-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "import_export",
    "django_htmx",
    "axes",
    "csp",
    "regions",
    "workbooks",
    "households",
    "industries",
    "cooperatives",
    "funds",
    "assessment",
    "api",
    "operations",
    "changes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "regions.middleware.SignedInNoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages (it says why it logged a session out), before anything that answers for a signed-in user.
    "regions.middleware.SessionTimeoutMiddleware",
    "regions.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

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
            ],
        },
    },
]

# Embedded default: a SQLite file next to manage.py. DATABASE_URL switches to PostgreSQL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the list page read while a clerk saves; the timeout rides out short write locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False

elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Page queries are short; JIT compilation only adds its own cost to them (measured in bench/).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "regions.User"
LOGIN_URL = "login"
# Login throttling (django-axes): the backend refuses a (username, address) pair after
# AXES_FAILURE_LIMIT failures for LOGIN_LOCKOUT_MINUTES; an administrator unlocks it in the admin.
AUTHENTICATION_BACKENDS = [
    "regions.backends.LoginThrottleBackend",
    "regions.backends.StaffBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# How many reverse proxies in front of the application append to X-Forwarded-For (0: none, use REMOTE_ADDR).
LOGIN_TRUSTED_PROXIES = int(os.environ.get("LOGIN_TRUSTED_PROXIES", "0"))
AXES_CLIENT_IP_CALLABLE = "regions.backends.login_client_address"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "regions.views.login_locked_out"
AXES_COOLOFF_MESSAGE = "登录失败次数过多，账号已暂时锁定，请稍后再试或联系管理员解锁。"
AXES_PERMALOCK_MESSAGE = "登录失败次数过多，账号已锁定，请联系管理员解锁。"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# The password policy (等保 level 3) for every password chosen through a page; messages in Chinese.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "regions.passwords.UsernameValidator"},
    {"NAME": "regions.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "regions.passwords.CharacterClassesValidator", "OPTIONS": {"required": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "regions.passwords.CommonBaseValidator"},
    {"NAME": "regions.passwords.PasswordHistoryValidator", "OPTIONS": {"count": 5}},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = False

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end libraries are copied from node_modules into static/vendor by `make assets`.
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES: dict[str, dict[str, object]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Uploads, error workbooks and exports: one storage every web node and worker shares, reached only
# through Django's storage API. A directory from STORAGE_ROOT (a shared filesystem when there are
# several machines), or S3-compatible object storage when STORAGE_S3_BUCKET is set (django-storages;
# boto3 reads the credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
MEDIA_ROOT = Path(os.environ.get("STORAGE_ROOT", "") or BASE_DIR / "media")
if os.environ.get("STORAGE_S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["STORAGE_S3_BUCKET"],
            "endpoint_url": os.environ.get("STORAGE_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("STORAGE_S3_REGION") or None,
            "location": os.environ.get("STORAGE_S3_PREFIX", ""),
            # Personal data: never public, never overwritten, downloads only through the application.
            "default_acl": "private",
            "file_overwrite": False,
        },
    }

# A signed-in session ends SESSION_COOKIE_AGE after the login, whatever the user does, and earlier when no
# request of the user's comes for SESSION_IDLE_SECONDS (regions/session_expiry.py).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_IDLE_SECONDS = int(os.environ.get("SESSION_IDLE_SECONDS", str(30 * 60)))
# Signed-in pages warn this long before the session ends, with a 继续 button that restarts the idle limit.
SESSION_EXPIRY_WARNING_SECONDS = int(os.environ.get("SESSION_EXPIRY_WARNING_SECONDS", "300"))
# A stale CSRF token (a form opened before a new login) gets a Chinese page that says what to do.
CSRF_FAILURE_VIEW = "regions.views.csrf_failure"

# Content-Security-Policy (django-csp): scripts and styles only from our own static files — no inline
# <script>, no on*= handlers, no style="" attributes (ECharts, Bootstrap and htmx set styles through the
# CSSOM, which CSP does not govern); data: images for ECharts' "save as image". Checked in the browser
# tests, which fail on any violation Chromium reports. A view that needs more says so with
# csp.decorators.csp_update, allowing exactly what it has by hash (two third-party admin pages).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# Celery: with no REDIS_URL tasks run in process (embedded default); with it, on workers.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# A page that queues a task answers at once when the broker is down (the sweeper sends it later).
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    # /healthz reports the age of the last one; a heartbeat nobody ran within two minutes is dropped.
    "worker-heartbeat": {
        "task": "operations.tasks.worker_heartbeat_task",
        "schedule": 60.0,
        "options": {"expires": 120},
    },
    "import-batches-sweep": {"task": "workbooks.tasks.import_batches_sweep_task", "schedule": 60.0},
    "export-jobs-sweep": {"task": "households.tasks.export_jobs_sweep_task", "schedule": 60.0},
    "export-jobs-purge-expired": {"task": "households.tasks.export_jobs_purge_expired_task", "schedule": 3600.0},
    # Indicators: every night for the current quarter; on the first day of a quarter for the one just ended.
    "indicators-nightly": {"task": "assessment.tasks.compute_all_task", "schedule": crontab(hour=1, minute=15)},
    "indicators-quarter-start": {
        "task": "assessment.tasks.compute_quarter_just_ended_task",
        "schedule": crontab(hour=2, minute=15, day_of_month=1, month_of_year="1,4,7,10"),
    },
    # Sweeper for debounced recomputes whose delayed message was lost.
    "indicators-recompute-due": {"task": "assessment.tasks.recompute_due_task", "schedule": 60.0},
    "data-changes-prune": {"task": "regions.tasks.data_changes_prune_task", "schedule": crontab(hour=3, minute=45)},
    "api-calls-prune": {"task": "api.tasks.api_calls_prune_task", "schedule": crontab(hour=3, minute=50)},
    "api-idempotency-keys-prune": {
        "task": "api.tasks.idempotency_keys_prune_task",
        "schedule": crontab(minute=20),
    },
    "purge-expired-import-files": {
        "task": "workbooks.tasks.import_files_purge_task",
        "schedule": crontab(hour=3, minute=30),
    },
}

# /healthz?require=worker fails when the last worker heartbeat (written every minute) is older than this.
WORKER_HEARTBEAT_MAX_AGE_SECONDS = int(os.environ.get("WORKER_HEARTBEAT_MAX_AGE_SECONDS", "180"))

HOUSEHOLD_LIST_PAGE_SIZE = 50

# The REST API (api/): bearer tokens only, one error format, keyset pages, per-client throttling.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ClientRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["api.renderers.FastJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JsonParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "振兴台账 数据接口",
    "DESCRIPTION": "供省级平台同步县级台账数据的接口。每个请求须在请求头携带 Authorization: Bearer <令牌>；"
    "客户端只能读取其区划范围内、已授权资源的记录，范围外的记录一律 404。错误统一为 "
    '{"code", "message", "errors"} 格式。',
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.order_tags"],
    "ENUM_NAME_OVERRIDES": {
        "RegisterStatusEnum": "households.models.HouseholdStatus",
        "IndicatorStatusEnum": "assessment.models.Status",
        "ProjectStatusEnum": "funds.models.ProjectStatus",
        "AlertStatusEnum": "assessment.models.AlertStatus",
        "ReconciliationKindEnum": "api.models.EntryKind",
    },
}
# A token lives this long; after a rotation the old one still works for the grace period.
API_TOKEN_LIFETIME_DAYS = int(os.environ.get("API_TOKEN_LIFETIME_DAYS", "365"))
API_TOKEN_ROTATION_GRACE_HOURS = int(os.environ.get("API_TOKEN_ROTATION_GRACE_HOURS", "24"))
# The call log keeps this many days (every call, refused ones included).
API_CALL_RETENTION_DAYS = int(os.environ.get("API_CALL_RETENTION_DAYS", "180"))
# A POST's Idempotency-Key answers a retry with the stored response this long after its first use.
API_IDEMPOTENCY_KEY_HOURS = int(os.environ.get("API_IDEMPOTENCY_KEY_HOURS", "24"))
# A batch write carries up to 5,000 records (households with their members: several MB of JSON).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("API_MAX_BODY_MB", "32")) * 1024 * 1024
# Reconciliation reports kept per client and county (older ones are deleted when a new one finishes).
API_RECONCILIATIONS_KEPT = int(os.environ.get("API_RECONCILIATIONS_KEPT", "5"))

# A county's figures are recomputed this long after the first change of a burst of saves (once,
# not once per save); on the embedded default, at most once per this many seconds.
RECOMPUTE_DELAY_SECONDS = int(os.environ.get("RECOMPUTE_DELAY_SECONDS", "60"))
# A run still 计算中 after this long whose scope's lock nobody holds lost its worker: it is re-queued.
COMPUTE_STALE_SECONDS = int(os.environ.get("COMPUTE_STALE_SECONDS", "60"))

# Progress of long computations, read by the page that shows the progress bar: Redis with workers.
CACHES = (
    {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    if REDIS_URL
    else {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
)

# Excel/CSV imports: refuse oversized uploads, absurd row counts and zip bombs before parsing.
IMPORT_MAX_UPLOAD_BYTES = int(os.environ.get("IMPORT_MAX_UPLOAD_MB", "50")) * 1024 * 1024
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "300000"))
IMPORT_MAX_UNCOMPRESSED_BYTES = int(os.environ.get("IMPORT_MAX_UNCOMPRESSED_MB", "600")) * 1024 * 1024
# The parser runs in a child process with this address-space limit, so a hostile file cannot
# take the web process or the worker down with it.
IMPORT_PARSER_MEMORY_BYTES = int(os.environ.get("IMPORT_PARSER_MEMORY_MB", "1536")) * 1024 * 1024
# Uploads, error workbooks and export files are deleted this many days after they were made.
IMPORT_FILE_RETENTION_DAYS = int(os.environ.get("IMPORT_FILE_RETENTION_DAYS", "30"))

# Exports: above this many households (and never for one village) the workbook is written by a
# worker while the page shows progress; one running export per user, at most EXPORT_MAX_RUNNING
# at once; a running export whose progress stops for EXPORT_STALE_MINUTES is failed by the sweeper.
EXPORT_IMMEDIATE_MAX_HOUSEHOLDS = int(os.environ.get("EXPORT_IMMEDIATE_MAX_HOUSEHOLDS", "5000"))
EXPORT_MAX_RUNNING = int(os.environ.get("EXPORT_MAX_RUNNING", "2"))
EXPORT_STALE_MINUTES = int(os.environ.get("EXPORT_STALE_MINUTES", "10"))

# An import check or confirmation whose task shows no sign of life for this long is re-sent (a
# lost message, a killed worker) or, after three tries, ended 失败. The largest checks take ~30 s.
IMPORT_TASK_STALE_SECONDS = int(os.environ.get("IMPORT_TASK_STALE_SECONDS", "180"))
# A queued export whose task has not started it this long after it was sent is sent again, as an
# import check is; a second message for the same job is harmless (only one claims it).
EXPORT_TASK_STALE_SECONDS = int(os.environ.get("EXPORT_TASK_STALE_SECONDS", str(IMPORT_TASK_STALE_SECONDS)))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
