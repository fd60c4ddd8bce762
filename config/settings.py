"""Restyle settings.

Every setting a deployment may change is read from an environment variable (RESTYLE_*, and
DATABASE_URL) through config/env.py, and has an embedded default that runs the whole site on
one machine: SQLite and a media folder under var/, Redis on a local port. A bad value stops
start-up with ImproperlyConfigured naming the variable. The README lists them all.
"""
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from .database import database
from .env import env

BASE_DIR = Path(__file__).resolve().parent.parent

# Run-time state (database, uploaded and generated files, secret key) lives in one folder.
VAR_DIR = env.path("RESTYLE_VAR_DIR", default=BASE_DIR / "var").resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key():
    if env.str("RESTYLE_SECRET_KEY", default=""):
        return env.str("RESTYLE_SECRET_KEY")
    # Generated once per installation and kept beside the database, so sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("RESTYLE_DEBUG", default=False)
ALLOWED_HOSTS = env.list("RESTYLE_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("RESTYLE_CSRF_TRUSTED_ORIGINS", default=[])

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

# SQLite (RESTYLE_DB_PATH) unless RESTYLE_DATABASE_URL or DATABASE_URL names a database
# (PostgreSQL for several hosts): config/database.py.
DB_PATH = env.path("RESTYLE_DB_PATH", default=VAR_DIR / "db.sqlite3")
DATABASES = {"default": database(env, sqlite_path=DB_PATH, sqlite_test_path=VAR_DIR / "test_db.sqlite3")}

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
TIME_ZONE = env.str("RESTYLE_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("RESTYLE_STATIC_ROOT", default=VAR_DIR / "static")

# Uploaded photos and results. They are never served from a public URL: views check the owner.
MEDIA_ROOT = env.path("RESTYLE_MEDIA_ROOT", default=VAR_DIR / "media")
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

RESTYLE_STORAGE = env.str("RESTYLE_STORAGE", default="local")
STORAGES["default"] = _default_storage(
    kind=RESTYLE_STORAGE,
    bucket=env.str("RESTYLE_STORAGE_BUCKET", default=None),
    endpoint_url=env.str("RESTYLE_STORAGE_ENDPOINT_URL", default=None),
    region=env.str("RESTYLE_STORAGE_REGION", default=None),
    access_key_id=env.str("RESTYLE_STORAGE_ACCESS_KEY_ID", default=None),
    secret_access_key=env.str("RESTYLE_STORAGE_SECRET_ACCESS_KEY", default=None),
    prefix=env.str("RESTYLE_STORAGE_PREFIX", default=None),
    addressing_style=env.str("RESTYLE_STORAGE_ADDRESSING_STYLE", default=None),
)
RESTYLE_WORKER_CACHE_DIR = env.path("RESTYLE_WORKER_CACHE_DIR", default=VAR_DIR / "worker-cache")
# The cache's bound: after each fetch or unpack the least recently used entries go until it is
# under this (never the one just fetched, nor one a job of this machine is using:
# translator/worker/cache.py).
RESTYLE_WORKER_CACHE_MAX_GB = env.float("RESTYLE_WORKER_CACHE_MAX_GB", default=20.0, minimum=0)

# --- Restyle ---------------------------------------------------------------------------------

# Real images and pretrained networks we may use but must not copy into the repository.
_shared_data = BASE_DIR.parent / "shared" / "data"
RESTYLE_DATA_DIR = env.path("RESTYLE_DATA_DIR", default=_shared_data if _shared_data.exists() else None)
# Where `manage.py install_demo_models` looks for the ml5.js fast-style checkpoints first;
# without it (or with --online) it downloads them from the ml5 public repository.
RESTYLE_DEMO_MODELS_DIR = env.path(
    "RESTYLE_DEMO_MODELS_DIR", default=RESTYLE_DATA_DIR / "pretrained" / "fast-style-ml5" if RESTYLE_DATA_DIR else None
)

# Upload limits, checked before anything is stored.
RESTYLE_MAX_UPLOAD_BYTES = int(env.float("RESTYLE_MAX_UPLOAD_MB", default=20, above=0) * 1024 * 1024)
RESTYLE_MAX_PIXELS = int(env.float("RESTYLE_MAX_MEGAPIXELS", default=16, above=0) * 1_000_000)
RESTYLE_MIN_SIDE = env.int("RESTYLE_MIN_SIDE", default=16, minimum=1)
# Django refuses larger request bodies outright; leave room for the multipart envelope.
DATA_UPLOAD_MAX_MEMORY_SIZE = RESTYLE_MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Larger uploads go to a temporary file named by us, never after the client's file name.
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "translator.upload_handlers.TemporaryFileUploadHandler",
]

# The precision workers run the networks in (their device: RESTYLE_WORKER_DEVICE, under "Routing
# by capability" below).
RESTYLE_INFERENCE_DTYPE = env.choice("RESTYLE_INFERENCE_DTYPE", default="fp32", choices=("fp32", "bf16", "fp16"))
# Memory one conversion may use besides the loaded network. A photo whose conversion would need
# more is converted in tiles, or at the largest size that fits (mlcore works the need out per
# network), so a worker's peak memory does not grow with the photo, whatever the upload limit.
# 2304 (2.25 GiB): what fast style's tiled estimate asks for a 4096x4096 photo (2112 MiB; 1644
# measured), so it converts at full size, while a process with the network loaded (about 750
# MiB) plus the budget stays under 3 GiB (python -m mlcore.bench memory --tiled).
RESTYLE_CONVERSION_MEMORY_MB = env.float("RESTYLE_CONVERSION_MEMORY_MB", default=2304, above=0)
# Networks kept loaded per worker process (each fast-style network is ~7 MB).
RESTYLE_INFERER_CACHE_SIZE = env.int("RESTYLE_INFERER_CACHE_SIZE", default=8, minimum=0)
RESTYLE_THUMBNAIL_SIDE = 480
# The perceptual loss network (VGG19 for Gatys jobs): "imagenet" needs torchvision's published
# weights (downloaded when online, or the file RESTYLE_VGG19_WEIGHTS names); "random" is for
# tests and demos only, and every result made with it says so.
RESTYLE_LOSS_NETWORK = env.choice("RESTYLE_LOSS_NETWORK", default="imagenet", choices=("imagenet", "random"))
RESTYLE_VGG19_WEIGHTS = env.str("RESTYLE_VGG19_WEIGHTS", default=None)
RESTYLE_VGG16_WEIGHTS = env.str("RESTYLE_VGG16_WEIGHTS", default=None)
# Training: run folders (checkpoints, samples, metrics), where server-side datasets may live,
# and limits on uploaded dataset archives.
RESTYLE_RUNS_ROOT = env.path("RESTYLE_RUNS_ROOT", default=VAR_DIR / "runs")
_dataset_roots = [VAR_DIR / "datasets"] + ([RESTYLE_DATA_DIR] if RESTYLE_DATA_DIR else [])
RESTYLE_DATASET_ROOTS = [Path(p) for p in env.list("RESTYLE_DATASET_ROOTS", default=_dataset_roots)]
RESTYLE_DATASET_MAX_MB = env.int("RESTYLE_DATASET_MAX_MB", default=2048, minimum=1)
RESTYLE_DATASET_MAX_FILES = env.int("RESTYLE_DATASET_MAX_FILES", default=100000, minimum=1)
RESTYLE_TRAINING_DEVICES = env.list("RESTYLE_TRAINING_DEVICES", default=["cpu"])
# A running run whose worker has not been heard of for this long is marked failed (resumable).
RESTYLE_TRAINING_HEARTBEAT_TIMEOUT = env.int("RESTYLE_TRAINING_HEARTBEAT_TIMEOUT", default=180, minimum=1)
RESTYLE_TRAINING_TIME_LIMIT_HOURS = env.float("RESTYLE_TRAINING_TIME_LIMIT_HOURS", default=72, above=0)
RESTYLE_TRAINING_DATA_WORKERS = env.int("RESTYLE_TRAINING_DATA_WORKERS", default=2, minimum=0)
# The most GPUs one training run may ask for (the GPUs of the biggest training worker): a run
# with more than one trains under torchrun, one process per GPU, all on one worker.
RESTYLE_TRAINING_MAX_GPUS = env.int("RESTYLE_TRAINING_MAX_GPUS", default=1, minimum=1)
# Tests only: lets a run on the CPU ask for several processes too (torchrun with gloo), so the
# torchrun path is tested on a machine without GPUs. Never set it in production.
RESTYLE_TRAINING_ALLOW_CPU_PROCESSES = env.bool("RESTYLE_TRAINING_ALLOW_CPU_PROCESSES", default=False)
# A Gatys job shows its intermediate image every this many steps.
RESTYLE_GATYS_PROGRESS_EVERY = env.int("RESTYLE_GATYS_PROGRESS_EVERY", default=10, minimum=1)
# "Put my photo into this model" (StyleGAN2 projection, on the slow queue). 300 steps at 256 px
# take about 9 minutes on a 2-core CPU worker (the figure: 1000 steps, about 30 minutes);
# a GPU worker can afford the paper's 1000. A version's config may name its own
# ("projection_steps", "projection_space"). The distance is LPIPS-VGG16 where its weights are
# (RESTYLE_VGG16_WEIGHTS, RESTYLE_LPIPS_WEIGHTS), else mlcore's labelled fallback.
RESTYLE_PROJECTION_STEPS = env.int("RESTYLE_PROJECTION_STEPS", default=300, minimum=1)
RESTYLE_PROJECTION_SPACE = env.choice("RESTYLE_PROJECTION_SPACE", default="w", choices=("w", "w+"))
RESTYLE_PROJECTION_PROGRESS_EVERY = env.int("RESTYLE_PROJECTION_PROGRESS_EVERY", default=10, minimum=1)
RESTYLE_PROJECTION_DISTANCE = env.choice("RESTYLE_PROJECTION_DISTANCE", default="lpips", choices=("lpips", "fallback"))

# Generated images (StyleGAN2 grids): an image not saved to the gallery is removed by the sweeper
# this many hours after it was made; at most this many seeds per request.
RESTYLE_UNSAVED_GENERATIONS_HOURS = env.float("RESTYLE_UNSAVED_GENERATIONS_HOURS", default=24, above=0)
RESTYLE_MAX_SEEDS_PER_REQUEST = env.int("RESTYLE_MAX_SEEDS_PER_REQUEST", default=16, minimum=1)

# Delivery guarantees (README: "No job lost or done twice"). A worker holds a lease on the job it
# runs and renews it every third of its length; the sweeper, in every worker, gives an expired
# lease's job back to the queue (or fails it after the last attempt) and resends the message of
# a job that has waited too long for one, with the wait doubling each time.
RESTYLE_JOB_LEASE_SECONDS = env.float("RESTYLE_JOB_LEASE_SECONDS", default=30, above=0)
RESTYLE_JOB_MAX_ATTEMPTS = env.int("RESTYLE_JOB_MAX_ATTEMPTS", default=3, minimum=1)
# 0 turns the sweeper off (the unit tests call it themselves).
RESTYLE_SWEEP_SECONDS = env.float("RESTYLE_SWEEP_SECONDS", default=10, minimum=0)
RESTYLE_REDISPATCH_SECONDS = env.float("RESTYLE_REDISPATCH_SECONDS", default=60, above=0)
# A conversion that no worker has taken this long after it was queued fails, in words.
RESTYLE_QUEUE_TIMEOUT_MINUTES = env.float("RESTYLE_QUEUE_TIMEOUT_MINUTES", default=60, above=0)
# A web request waits at most this long for the broker, and after a failure stops asking for a
# while: the job is stored either way and the sweeper sends it once the broker is back.
RESTYLE_BROKER_TIMEOUT_SECONDS = env.float("RESTYLE_BROKER_TIMEOUT_SECONDS", default=0.5, above=0)
RESTYLE_BROKER_RETRY_SECONDS = env.float("RESTYLE_BROKER_RETRY_SECONDS", default=5, minimum=0)

# Broker for Celery and store for shared counters. `make run` starts its own Redis on
# RESTYLE_REDIS_PORT, so that variable alone moves the server and everything that dials it (web,
# workers, cache). A full RESTYLE_REDIS_URL (another host, a password) wins over the port.
REDIS_SCHEMES = ("redis", "rediss", "unix")


def _redis_url():
    url = env.url("RESTYLE_REDIS_URL", default=None, schemes=REDIS_SCHEMES)
    if url:
        return url
    port = env.str("RESTYLE_REDIS_PORT", default="6479")
    if not (port.isdigit() and 0 < int(port) < 65536):
        raise ImproperlyConfigured(f"RESTYLE_REDIS_PORT must be a TCP port (1-65535), not {port!r}")
    return f"redis://127.0.0.1:{port}/0"


REDIS_URL = _redis_url()
# The port `make run`'s own Redis listens on (site/Procfile asks for it): the one dialled here.
try:
    REDIS_PORT = urlsplit(REDIS_URL).port or 6379
except ValueError as exc:
    raise ImproperlyConfigured(f"RESTYLE_REDIS_URL has a bad port ({exc}): {REDIS_URL!r}") from None

# --- Organising the gallery (albums, bulk actions, zip downloads) ----------------------------------
# The most items one zip download (or one bulk action) may take: a clear 400 beyond it.
RESTYLE_ZIP_MAX_ITEMS = env.int("RESTYLE_ZIP_MAX_ITEMS", default=200, minimum=1)

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
def _rate(var, default):
    # As DRF's throttles read it: a count, "/", and a period of which only the first letter counts.
    value = env.str(var, default=default)
    if not re.fullmatch(r"[0-9]+/[smhd][a-z]*", value):
        raise ImproperlyConfigured(f"{var} must be a rate such as 60/hour (per second, minute, hour or day), not {value!r}")
    return value


RESTYLE_UPLOAD_RATE = _rate("RESTYLE_UPLOAD_RATE", "60/hour")
RESTYLE_SIGNUP_RATE = _rate("RESTYLE_SIGNUP_RATE", "20/hour")
# Generate requests (a grid of up to RESTYLE_MAX_SEEDS_PER_REQUEST images, or one mix), per user.
RESTYLE_GENERATE_RATE = _rate("RESTYLE_GENERATE_RATE", "120/hour")

# --- batch uploads (several photos, several models: a job per pair) -------------------------
# What one request may carry; more is refused in words before anything is stored.
RESTYLE_BATCH_MAX_PHOTOS = env.int("RESTYLE_BATCH_MAX_PHOTOS", default=20, minimum=1)
RESTYLE_BATCH_MAX_JOBS = env.int("RESTYLE_BATCH_MAX_JOBS", default=60, minimum=1)

# Throttle counters are shared by every web process, so they live in Redis.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.url("RESTYLE_CACHE_URL", default=REDIS_URL, schemes=REDIS_SCHEMES),
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


# How many reverse proxies of ours stand in front of gunicorn. 0: the client is REMOTE_ADDR and
# X-Forwarded-For is ignored (anyone can write it). N: the client is the N-th address from the
# right of X-Forwarded-For, the one our outermost proxy saw. DRF's throttles (NUM_PROXIES) and
# the login lockouts (translator.client_address) both read it, so they agree on who a client is.
RESTYLE_TRUSTED_PROXY_COUNT = env.int("RESTYLE_TRUSTED_PROXY_COUNT", default=0, minimum=0)
REST_FRAMEWORK["NUM_PROXIES"] = RESTYLE_TRUSTED_PROXY_COUNT

# Failed logins (web, admin and POST /api/v1/auth/token/) are counted per account and per client
# address in the database; after RESTYLE_LOGIN_FAILURE_LIMIT of either within the cool-off, that
# account or address cannot log in until RESTYLE_LOGIN_COOLOFF_MINUTES after its last failure.
# 10 leaves a person room to fumble (and a few people behind one NAT); 10 guesses per 15 minutes
# is under 1,000 a day per account or address, useless against passwords that pass the
# validators above. 15 minutes is a short wait for someone whose account a stranger locked.
RESTYLE_LOGIN_FAILURE_LIMIT = env.int("RESTYLE_LOGIN_FAILURE_LIMIT", default=10, minimum=1)
RESTYLE_LOGIN_COOLOFF_MINUTES = env.int("RESTYLE_LOGIN_COOLOFF_MINUTES", default=15, minimum=1)
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
RESTYLE_HTTPS = env.bool("RESTYLE_HTTPS", default=False)
if RESTYLE_HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env.int("RESTYLE_HSTS_SECONDS", default=365 * 24 * 3600, minimum=1)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("RESTYLE_HSTS_PRELOAD", default=False)
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

# --- Broker (README: "RabbitMQ instead of Redis") ----------------------------------------------
# Redis is the default broker. RESTYLE_BROKER_URL=amqp://user:password@host:5672/vhost makes it
# RabbitMQ; the cache (rate-limit counters) stays at RESTYLE_CACHE_URL either way.
from config import broker as _broker  # noqa: E402

RESTYLE_BROKER_URL = env.str("RESTYLE_BROKER_URL", default="") or REDIS_URL
try:
    BROKER_TRANSPORT = _broker.transport(RESTYLE_BROKER_URL)
except ValueError as exc:
    raise ImproperlyConfigured(f"RESTYLE_BROKER_URL: {exc}") from None
# RabbitMQ only: the type of the queues Celery declares. "classic" (durable, one node) or
# "quorum" (replicated over a cluster). A queue keeps the type it was declared with.
RESTYLE_BROKER_QUEUE_TYPE = env.choice("RESTYLE_BROKER_QUEUE_TYPE", default="classic", choices=_broker.QUEUE_TYPES)

# --- Celery ----------------------------------------------------------------------------------
CELERY_BROKER_URL = RESTYLE_BROKER_URL
CELERY_TASK_IGNORE_RESULT = True  # job state lives in the database, not in a result backend
CELERY_TASK_DEFAULT_QUEUE = "conversions.cpu"
# Conversions are short and must never wait behind a slow job or a training run.
# The queue is named when a job is sent (config/queues.py): its kind, "conversions" (feed-forward
# networks, seconds), "slow" (Gatys optimisation, minutes on a CPU) or "training" (hours), and the
# device class it needs, "cpu" or "gpu" ("Routing by capability" below).
# A message is a wake-up call for a job row (see translator.services.delivery): acknowledged as
# the task starts, and never reserved behind a running job, so a worker that dies holds no
# message back from the others. (On RabbitMQ, which Celery cannot stop from pushing one message
# ahead, that one comes back when the worker's connection closes; the README says more.)
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_DISABLE_PREFETCH = BROKER_TRANSPORT == "redis"  # Celery supports it on Redis only
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None  # a worker waits for the broker as long as it takes
CELERY_BROKER_TRANSPORT_OPTIONS = _broker.transport_options(RESTYLE_BROKER_URL)
if BROKER_TRANSPORT == "amqp":
    CELERY_TASK_DEFAULT_QUEUE_TYPE = CELERY_TASK_CREATE_MISSING_QUEUE_TYPE = RESTYLE_BROKER_QUEUE_TYPE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Routing by capability -------------------------------------------------------------------
# A worker's device (RESTYLE_WORKER_DEVICE: cpu, cuda, cuda:1) is where it runs networks, and
# decides which queues it may serve: a CPU worker the ".cpu" queues, a GPU worker every queue
# (config/queues.py). RESTYLE_WORKER_QUEUES narrows them: full names ("conversions.gpu") or kinds
# ("conversions": that kind's queues of every class the device may serve); empty, all of them.
# A worker consumes CELERY_TASK_QUEUES when it is started without -Q. Whether a "cuda" device
# really has a GPU is checked when the worker starts (translator/worker/device.py): settings
# must not load torch. RESTYLE_INFERENCE_DEVICE is the older name of RESTYLE_WORKER_DEVICE.
from kombu import Exchange, Queue  # noqa: E402

from config import queues as _queues  # noqa: E402


def _worker_device():
    raw = env.str("RESTYLE_WORKER_DEVICE", default=env.str("RESTYLE_INFERENCE_DEVICE", default="cpu"))
    try:
        return _queues.parse_device(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"RESTYLE_WORKER_DEVICE {exc}") from None


RESTYLE_WORKER_DEVICE = _worker_device()
RESTYLE_INFERENCE_DEVICE = RESTYLE_WORKER_DEVICE
# Torch threads per worker process (intra-op and inter-op), set as each process that runs jobs
# starts (translator/worker/threads.py). Unset: torch's default, one per core, right for a host
# with one worker; several workers on one host divide its cores between them (README: "How many
# conversion workers per host").
RESTYLE_WORKER_TORCH_THREADS = env.int("RESTYLE_WORKER_TORCH_THREADS", default=None, minimum=1)
try:
    RESTYLE_WORKER_QUEUES = list(_queues.worker_queues(env.str("RESTYLE_WORKER_QUEUES", default=""), RESTYLE_WORKER_DEVICE))
except ValueError as exc:
    raise ImproperlyConfigured(f"RESTYLE_WORKER_QUEUES: {exc}") from None
# Declared as Celery makes a queue it is asked to send to (exchange and routing key named after
# it), so senders and consumers agree whichever of them declares it first.
# On RabbitMQ a queue keeps the type it was first declared with: the worker's own queues are
# declared with RESTYLE_BROKER_QUEUE_TYPE too, as the senders' missing queues are.
_QUEUE_ARGUMENTS = {"x-queue-type": RESTYLE_BROKER_QUEUE_TYPE} if BROKER_TRANSPORT == "amqp" else None
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name, queue_arguments=_QUEUE_ARGUMENTS) for name in RESTYLE_WORKER_QUEUES
]


def _device_classes(name, raw):
    try:
        return sorted({_queues.device_class_of_device(item) for item in raw}, key=_queues.DEVICE_CLASSES.index)
    except ValueError as exc:
        raise ImproperlyConfigured(f"RESTYLE_{name}: {exc}") from None


# The device classes the admin may ask a training run for. RESTYLE_TRAINING_DEVICES once named
# torch devices, so "cuda" or "cuda:1" there mean "gpu".
RESTYLE_TRAINING_DEVICE_CLASSES = _device_classes("TRAINING_DEVICES", RESTYLE_TRAINING_DEVICES)


def _family_device_classes():
    """RESTYLE_FAMILY_DEVICE_CLASSES, e.g. "ugatit=gpu,gatys=gpu": what a model version of each
    family asks for unless it names a class itself. Families not named ask for "cpu"."""
    classes = {}
    for item in env.list("RESTYLE_FAMILY_DEVICE_CLASSES", default=[]):
        family, _, device_class = item.partition("=")
        family, device_class = family.strip(), device_class.strip().lower()
        if not family or device_class not in _queues.DEVICE_CLASSES:
            raise ImproperlyConfigured(
                f"RESTYLE_FAMILY_DEVICE_CLASSES: {item!r} is not family=cpu or family=gpu"
            )
        classes[family] = device_class
    return classes


RESTYLE_FAMILY_DEVICE_CLASSES = _family_device_classes()

# Webhooks (translator/webhooks/, README "Webhooks"). A webhook URL must be https and reach a public
# internet address; RESTYLE_WEBHOOKS_ALLOW_HTTP=1 also allows http://, and
# RESTYLE_WEBHOOKS_ALLOW_PRIVATE=1 allows loopback, private and link-local addresses (a receiver on
# your own network, or the tests' receiver on 127.0.0.1). Both are the site administrator's choice.
RESTYLE_WEBHOOKS_ALLOW_HTTP = env.bool("RESTYLE_WEBHOOKS_ALLOW_HTTP", default=False)
RESTYLE_WEBHOOKS_ALLOW_PRIVATE = env.bool("RESTYLE_WEBHOOKS_ALLOW_PRIVATE", default=False)
# Seconds to wait before each retry of a delivery that met a network error, a timeout, a 408, a
# 429 or a 5xx; one more attempt than there are waits, then it fails.
def _retry_seconds():
    raw = env.list("RESTYLE_WEBHOOK_RETRY_SECONDS", default=["10", "60", "300", "1800", "7200"])
    try:
        waits = [float(item) for item in raw]
    except ValueError:
        waits = None
    if not waits or any(not (0 <= w < float("inf")) for w in waits):
        raise ImproperlyConfigured(
            f"RESTYLE_WEBHOOK_RETRY_SECONDS must be comma-separated seconds (e.g. 10,60,300), not {','.join(raw)!r}"
        )
    return waits


RESTYLE_WEBHOOK_RETRY_SECONDS = _retry_seconds()
RESTYLE_WEBHOOK_CONNECT_TIMEOUT = env.float("RESTYLE_WEBHOOK_CONNECT_TIMEOUT", default=3, above=0)
RESTYLE_WEBHOOK_READ_TIMEOUT = env.float("RESTYLE_WEBHOOK_READ_TIMEOUT", default=10, above=0)
# Deliveries are short (the timeouts above bound them), so they ride with conversions.
RESTYLE_WEBHOOK_QUEUE = env.choice("RESTYLE_WEBHOOK_QUEUE", default="conversions.cpu", choices=_queues.QUEUES)
# The site's address as receivers should see it in payload links (e.g. https://restyle.example.org);
# empty: the address the owner used when they saved the webhook.
# A delivery's status is a choice set of its own in the API schema; conversions keep the name
# StatusEnum they had before it came.
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update({
    "WebhookDeliveryStatusEnum": "translator.models.WebhookDelivery.Status",
    "WebhookEventEnum": "translator.models.WebhookDelivery.Event",
    "StatusEnum": "translator.models.Conversion.Status",
})
RESTYLE_PUBLIC_URL = (env.url("RESTYLE_PUBLIC_URL", default=None, schemes=("http", "https")) or "").rstrip("/")

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.choice("RESTYLE_LOG_LEVEL", default="INFO", choices=LOG_LEVELS)},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "mlcore": {"level": env.choice("RESTYLE_MLCORE_LOG_LEVEL", default="WARNING", choices=LOG_LEVELS)},
    },
}
