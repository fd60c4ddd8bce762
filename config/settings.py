"""Restyle settings.

Every setting a deployment may change is read from a RESTYLE_* environment variable and has an
embedded default that runs the whole site on one machine: SQLite and a media folder under var/,
Redis on a local port. The README lists them all.
"""
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    return os.environ.get(f"RESTYLE_{name}", default)


def env_bool(name, default=False):
    return env(name, "1" if default else "0").strip().lower() in ("1", "true", "yes", "on")


def env_list(name, default):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


# Run-time state (database, uploaded and generated files, secret key) lives in one folder.
VAR_DIR = Path(env("VAR_DIR", BASE_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key():
    if env("SECRET_KEY"):
        return env("SECRET_KEY")
    # Generated once per installation and kept beside the database, so sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

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
    "translator",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"

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

WSGI_APPLICATION = "config.wsgi.application"

DB_PATH = Path(env("DB_PATH", VAR_DIR / "db.sqlite3"))
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DB_PATH,
        "OPTIONS": {
            # The web server and the workers write to the same file: WAL lets readers go on
            # while one writes, IMMEDIATE takes the write lock up front instead of failing
            # half-way through a transaction, and the timeout waits for a busy writer.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
        # A file, not memory: integration tests share the test database with a worker process.
        "TEST": {"NAME": str(VAR_DIR / "test_db.sqlite3")},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "translator:gallery"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", VAR_DIR / "static"))

# Uploaded photos and results. They are never served from a public URL: views check the owner.
MEDIA_ROOT = Path(env("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- File storage ----------------------------------------------------------------------------
# Photos, results, thumbnails and checkpoints: the MEDIA_ROOT folder above ("local", the default)
# or an S3-compatible object store ("s3"), which workers on other machines share with the web
# host. Objects are never public; config/storage.py says how. Workers keep what they fetch from
# the store (model checkpoints) in a cache folder of their own, keyed by content hash.
from .storage import default_storage as _default_storage  # noqa: E402

RESTYLE_STORAGE = env("STORAGE", "local")
STORAGES["default"] = _default_storage(
    kind=RESTYLE_STORAGE,
    bucket=env("STORAGE_BUCKET"),
    endpoint_url=env("STORAGE_ENDPOINT_URL"),
    region=env("STORAGE_REGION"),
    access_key_id=env("STORAGE_ACCESS_KEY_ID"),
    secret_access_key=env("STORAGE_SECRET_ACCESS_KEY"),
    prefix=env("STORAGE_PREFIX"),
    addressing_style=env("STORAGE_ADDRESSING_STYLE"),
)
RESTYLE_WORKER_CACHE_DIR = Path(env("WORKER_CACHE_DIR", VAR_DIR / "worker-cache"))

# --- Restyle ---------------------------------------------------------------------------------

# Real images and pretrained networks we may use but must not copy into the repository.
_shared_data = BASE_DIR.parent / "shared" / "data"
RESTYLE_DATA_DIR = Path(env("DATA_DIR", _shared_data)) if env("DATA_DIR") or _shared_data.exists() else None
# Where `manage.py install_demo_models` looks for the ml5.js fast-style checkpoints first;
# without it (or with --online) it downloads them from the ml5 public repository.
RESTYLE_DEMO_MODELS_DIR = (
    Path(env("DEMO_MODELS_DIR"))
    if env("DEMO_MODELS_DIR")
    else (RESTYLE_DATA_DIR / "pretrained" / "fast-style-ml5" if RESTYLE_DATA_DIR else None)
)

# Upload limits, checked before anything is stored.
RESTYLE_MAX_UPLOAD_BYTES = int(float(env("MAX_UPLOAD_MB", "20")) * 1024 * 1024)
RESTYLE_MAX_PIXELS = int(float(env("MAX_MEGAPIXELS", "16")) * 1_000_000)
RESTYLE_MIN_SIDE = int(env("MIN_SIDE", "16"))
# Django refuses larger request bodies outright; leave room for the multipart envelope.
DATA_UPLOAD_MAX_MEMORY_SIZE = RESTYLE_MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Larger uploads go to a temporary file named by us, never after the client's file name.
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "translator.upload_handlers.TemporaryFileUploadHandler",
]

# Where workers run the networks: "cpu", "cuda", "cuda:1"...; precision "fp32", "bf16", "fp16".
RESTYLE_INFERENCE_DEVICE = env("INFERENCE_DEVICE", "cpu")
RESTYLE_INFERENCE_DTYPE = env("INFERENCE_DTYPE", "fp32")
# Memory one conversion may use besides the loaded network. A photo whose conversion would need
# more is converted at the largest size that fits (mlcore works the need out per network), so
# a worker's peak memory does not grow with the photo, whatever the upload limit.
RESTYLE_CONVERSION_MEMORY_MB = float(env("CONVERSION_MEMORY_MB", "2048"))
# Networks kept loaded per worker process (each fast-style network is ~7 MB).
RESTYLE_INFERER_CACHE_SIZE = int(env("INFERER_CACHE_SIZE", "8"))
RESTYLE_THUMBNAIL_SIDE = 480
# The perceptual loss network (VGG19 for Gatys jobs): "imagenet" needs torchvision's published
# weights (downloaded when online, or the file RESTYLE_VGG19_WEIGHTS names); "random" is for
# tests and demos only, and every result made with it says so.
RESTYLE_LOSS_NETWORK = env("LOSS_NETWORK", "imagenet")
RESTYLE_VGG19_WEIGHTS = env("VGG19_WEIGHTS") or None
RESTYLE_VGG16_WEIGHTS = env("VGG16_WEIGHTS") or None
# Training: run folders (checkpoints, samples, metrics), where server-side datasets may live,
# and limits on uploaded dataset archives.
RESTYLE_RUNS_ROOT = Path(env("RUNS_ROOT", VAR_DIR / "runs"))
_dataset_roots = [VAR_DIR / "datasets"] + ([RESTYLE_DATA_DIR] if RESTYLE_DATA_DIR else [])
RESTYLE_DATASET_ROOTS = [Path(p) for p in env_list("DATASET_ROOTS", ",".join(map(str, _dataset_roots)))]
RESTYLE_DATASET_MAX_MB = int(env("DATASET_MAX_MB", "2048"))
RESTYLE_DATASET_MAX_FILES = int(env("DATASET_MAX_FILES", "100000"))
RESTYLE_TRAINING_DEVICES = env_list("TRAINING_DEVICES", "cpu")
# A running run whose worker has not been heard of for this long is marked failed (resumable).
RESTYLE_TRAINING_HEARTBEAT_TIMEOUT = int(env("TRAINING_HEARTBEAT_TIMEOUT", "180"))
RESTYLE_TRAINING_TIME_LIMIT_HOURS = float(env("TRAINING_TIME_LIMIT_HOURS", "72"))
RESTYLE_TRAINING_DATA_WORKERS = int(env("TRAINING_DATA_WORKERS", "2"))
# A Gatys job shows its intermediate image every this many steps.
RESTYLE_GATYS_PROGRESS_EVERY = int(env("GATYS_PROGRESS_EVERY", "10"))

# Delivery guarantees (README: "No job lost or done twice"). A worker holds a lease on the job it
# runs and renews it every third of its length; the sweeper, in every worker, gives an expired
# lease's job back to the queue (or fails it after the last attempt) and resends the message of
# a job that has waited too long for one, with the wait doubling each time.
RESTYLE_JOB_LEASE_SECONDS = float(env("JOB_LEASE_SECONDS", "30"))
RESTYLE_JOB_MAX_ATTEMPTS = int(env("JOB_MAX_ATTEMPTS", "3"))
RESTYLE_SWEEP_SECONDS = float(env("SWEEP_SECONDS", "10"))
RESTYLE_REDISPATCH_SECONDS = float(env("REDISPATCH_SECONDS", "60"))
# A conversion that no worker has taken this long after it was queued fails, in words.
RESTYLE_QUEUE_TIMEOUT_MINUTES = float(env("QUEUE_TIMEOUT_MINUTES", "60"))
# A web request waits at most this long for the broker, and after a failure stops asking for a
# while: the job is stored either way and the sweeper sends it once the broker is back.
RESTYLE_BROKER_TIMEOUT_SECONDS = float(env("BROKER_TIMEOUT_SECONDS", "0.5"))
RESTYLE_BROKER_RETRY_SECONDS = float(env("BROKER_RETRY_SECONDS", "5"))

# Broker for Celery and store for shared counters. `make run` starts its own Redis on
# RESTYLE_REDIS_PORT, so that variable alone moves the server and everything that dials it (web,
# workers, cache). A full RESTYLE_REDIS_URL (another host, a password) wins over the port.
def _redis_url():
    url = env("REDIS_URL")
    if url:
        return url
    port = env("REDIS_PORT", "6479")
    if not (port.isdigit() and 0 < int(port) < 65536):
        raise ImproperlyConfigured(f"RESTYLE_REDIS_PORT must be a TCP port (1-65535), not {port!r}")
    return f"redis://127.0.0.1:{port}/0"


REDIS_URL = _redis_url()
# The port `make run`'s own Redis listens on (site/Procfile asks for it): the one dialled here.
try:
    REDIS_PORT = urlsplit(REDIS_URL).port or 6379
except ValueError as exc:
    raise ImproperlyConfigured(f"RESTYLE_REDIS_URL has a bad port ({exc}): {REDIS_URL!r}") from None

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "translator.api.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "translator.api.errors.exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Restyle API",
    "DESCRIPTION": (
        "Upload photos, convert them with a model, and fetch the results. Authenticate with "
        "`Authorization: Token <key>` (POST /api/v1/auth/token/) or a browser session."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page's JavaScript is served from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}
# Per-user limit on new conversions, site and API together ("N/second|minute|hour|day").
RESTYLE_UPLOAD_RATE = env("UPLOAD_RATE", "60/hour")
RESTYLE_SIGNUP_RATE = env("SIGNUP_RATE", "20/hour")

# Throttle counters are shared by every web process, so they live in Redis.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("CACHE_URL", REDIS_URL),
        "KEY_PREFIX": "restyle-cache",
        "TIMEOUT": 3600,
        # A frozen Redis must not hold a page up: give up fast (the rate limits then let requests in).
        "OPTIONS": {
            "socket_connect_timeout": RESTYLE_BROKER_TIMEOUT_SECONDS,
            "socket_timeout": RESTYLE_BROKER_TIMEOUT_SECONDS,
        },
    }
}

# --- Security --------------------------------------------------------------------------------
# Login lockouts (django-axes), the client address behind proxies, the Content-Security-Policy
# (django-csp) and the HTTPS switch for production. The README's "Production" part says how to
# turn them on.
from datetime import timedelta  # noqa: E402

from django.core.exceptions import ImproperlyConfigured  # noqa: E402


def env_int(name, default, *, minimum=0):
    raw = env(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"RESTYLE_{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"RESTYLE_{name} must be at least {minimum}, not {value}")
    return value


# How many reverse proxies of ours stand in front of gunicorn. 0: the client is REMOTE_ADDR and
# X-Forwarded-For is ignored (anyone can write it). N: the client is the N-th address from the
# right of X-Forwarded-For, the one our outermost proxy saw. DRF's throttles (NUM_PROXIES) and
# the login lockouts (translator.client_address) both read it, so they agree on who a client is.
RESTYLE_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
REST_FRAMEWORK["NUM_PROXIES"] = RESTYLE_TRUSTED_PROXY_COUNT

# Failed logins (web, admin and POST /api/v1/auth/token/) are counted per account and per client
# address in the database; after RESTYLE_LOGIN_FAILURE_LIMIT of either within the cool-off, that
# account or address cannot log in until RESTYLE_LOGIN_COOLOFF_MINUTES after its last failure.
# 10 leaves a person room to fumble (and a few people behind one NAT); 10 guesses per 15 minutes
# is under 1,000 a day per account or address, useless against passwords that pass the
# validators above. 15 minutes is a short wait for someone whose account a stranger locked.
RESTYLE_LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
RESTYLE_LOGIN_COOLOFF_MINUTES = env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1)
INSTALLED_APPS += ["axes", "csp"]
# axes' backend goes first: it refuses a locked-out account or address before ModelBackend
# checks any password. (With two backends, login() of a new account must name its backend.)
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"  # the login never depends on Redis
AXES_FAILURE_LIMIT = RESTYLE_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=RESTYLE_LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "translator.client_address.client_ip"
# Refused attempts during a lockout are not counted, so the time we tell the client holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A success must not wipe the address's failures: an attacker with an account of their own
# could otherwise log into it between guesses at other accounts.
AXES_RESET_ON_SUCCESS = False
AXES_DISABLE_ACCESS_LOG = True  # keep failures only, not every login's address and browser
AXES_LOCKOUT_CALLABLE = "translator.lockout.lockout_response"

# Every page: scripts, styles, fonts and connections from our own origin only, nothing inline.
# A response that already carries a policy (the files views set a stricter one) keeps its own.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Swagger UI's stylesheet draws its icons as data: SVGs.
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Production: RESTYLE_HTTPS=1 when the site is reached over HTTPS only.
RESTYLE_HTTPS = env_bool("HTTPS", False)
if RESTYLE_HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600, minimum=1)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if not SECURE_HSTS_PRELOAD:
        # Asking for the browsers' preload list is a lasting choice for the whole domain, made by
        # its owner (RESTYLE_HSTS_PRELOAD=1), so its absence is not a warning here.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
if RESTYLE_TRUSTED_PROXY_COUNT:
    # Only our proxy can have set this header: it tells Django the client spoke HTTPS to it.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Rendered with the request, so the page has the site's header (Django's default has no request).
CSRF_FAILURE_VIEW = "config.error_pages.csrf_failure"

# Last: it turns the lockout axes flags on a request into the lockout page.
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")

# --- Celery ----------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True  # job state lives in the database, not in a result backend
CELERY_TASK_DEFAULT_QUEUE = "conversions"
# Conversions are short and must never wait behind a slow job or a training run.
# The queue is named when a job is sent: "conversions" (feed-forward networks, seconds),
# "slow" (Gatys optimisation, minutes on a CPU) and "training" (hours).
# A message is a wake-up call for a job row (see translator.services.delivery): acknowledged as
# the task starts, and never reserved behind a running job, so a worker that dies holds no
# message back from the others.
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_DISABLE_PREFETCH = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None  # a worker waits for the broker as long as it takes
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 3,
    "socket_timeout": 10,
    # A message taken but not acknowledged (the moment between a worker's fetch and the task's
    # start) comes back after this long; the sweeper resends lost messages sooner anyway.
    "visibility_timeout": 3600,
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "mlcore": {"level": env("MLCORE_LOG_LEVEL", "WARNING")},
    },
}
