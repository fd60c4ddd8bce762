"""The database, from RESTYLE_DATABASE_URL or DATABASE_URL: SQLite by default, or PostgreSQL.

RESTYLE_DATABASE_URL wins over DATABASE_URL: hosting platforms and other programs on a machine
set DATABASE_URL for themselves, and the RESTYLE_ name lets Restyle point elsewhere without
unsetting it. With neither, the database is the SQLite file RESTYLE_DB_PATH. django-environ
reads the URL (`postgres://user:password@host:port/name?sslmode=require`); query parameters
other than Django's own (conn_max_age, conn_health_checks...) are psycopg connection options.

Connections (PostgreSQL): every web process (each of its threads, and its sweeper thread) and
every worker process (the task, and the thread renewing a job's lease) holds its own connection.
They are persistent (CONN_MAX_AGE) with a health check before reuse (CONN_HEALTH_CHECKS), so a
request or a task does not pay for a new connection each time, and one that the server closed
(a restart, a fail-over, a proxy's idle timeout) is replaced rather than failing the next query.
We chose this over psycopg's pool: a pool is shared by the threads of one process only, and the
workers fork (Celery's prefork pool, the training data loader), which a pool's own threads do
not survive; persistent connections have no state a fork could break, since Celery's Django
fix-up closes them in each new child.
"""
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from .env import boolean, check_url, redacted

URL_VARIABLES = ("RESTYLE_DATABASE_URL", "DATABASE_URL")  # the first one set wins
SQLITE_SCHEMES = ("sqlite",)
POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql", "psql")

# The web server and the workers write to the same file: WAL lets readers go on while one
# writes, IMMEDIATE takes the write lock up front instead of failing half-way through a
# transaction, and the timeout waits for a busy writer.
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
# Seconds a connection is kept for reuse; the URL's ?conn_max_age= overrides it.
POSTGRES_CONN_MAX_AGE = 60
# A server that does not answer must not hold a request or a worker up for minutes (the
# operating system's TCP timeout); the URL's ?connect_timeout= overrides it.
POSTGRES_CONNECT_TIMEOUT = 10


def database(env, *, sqlite_path, sqlite_test_path):
    """The DATABASES["default"] entry the environment asks for."""
    var = next((name for name in URL_VARIABLES if env.str(name, default="")), None)
    if var is None:
        return sqlite(sqlite_path, test_path=sqlite_test_path)
    url = env.url(var, schemes=SQLITE_SCHEMES + POSTGRES_SCHEMES)
    config = env.db_url_config(url)
    if urlsplit(url).scheme in SQLITE_SCHEMES:
        if config["NAME"] in ("", ":memory:"):
            raise ImproperlyConfigured(
                f"{var} must name a SQLite file (sqlite:////absolute/path.sqlite3): an in-memory database "
                "cannot be shared by the web and worker processes"
            )
        return sqlite(config["NAME"], test_path=sqlite_test_path)
    if not config["NAME"]:
        raise ImproperlyConfigured(
            f"{var} must name the database (postgres://user:password@host:port/name), not {redacted(url)!r}"
        )
    max_age = config.get("CONN_MAX_AGE", POSTGRES_CONN_MAX_AGE)
    # django-environ reads the query's value as a Python literal: 600, None (for ever) or a string.
    if not (max_age is None or (type(max_age) is int and max_age >= 0)):
        raise ImproperlyConfigured(f"{var}'s conn_max_age must be a whole number of seconds or None, not {max_age!r}")
    try:
        health_checks = boolean(config.get("CONN_HEALTH_CHECKS", True))
    except ValueError:
        raise ImproperlyConfigured(f"{var}'s conn_health_checks must be true or false") from None
    config.update(CONN_MAX_AGE=max_age, CONN_HEALTH_CHECKS=health_checks)
    config.setdefault("OPTIONS", {}).setdefault("connect_timeout", POSTGRES_CONNECT_TIMEOUT)
    return config


def sqlite(path, *, test_path):
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": dict(SQLITE_OPTIONS),
        # A file, not memory: integration tests share the test database with worker processes.
        "TEST": {"NAME": str(test_path)},
    }
