"""config/settings.py read by a fresh interpreter with only the given variables, as every web and
worker process reads it: a bad value stops start-up with a message naming the variable, and the
database URL picks the database."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHOW = "import json; from config import settings as s; print(json.dumps(s.DATABASES['default'], default=str))"


def start(tmp_path, **variables):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTYLE_") and k != "DATABASE_URL"}
    env.update(RESTYLE_VAR_DIR=str(tmp_path), **variables)
    return subprocess.run([sys.executable, "-c", SHOW], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


def database_with(tmp_path, **variables):
    done = start(tmp_path, **variables)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    "variables, message",
    [
        ({"RESTYLE_MIN_SIDE": "16px"}, "RESTYLE_MIN_SIDE must be a whole number, not '16px'"),
        ({"RESTYLE_MIN_SIDE": "0"}, "RESTYLE_MIN_SIDE must be at least 1, not 0"),
        ({"RESTYLE_JOB_LEASE_SECONDS": "30s"}, "RESTYLE_JOB_LEASE_SECONDS must be a number, not '30s'"),
        ({"RESTYLE_JOB_LEASE_SECONDS": "0"}, "RESTYLE_JOB_LEASE_SECONDS must be a number above 0, not 0"),
        ({"RESTYLE_WORKER_CACHE_MAX_GB": "20GB"}, "RESTYLE_WORKER_CACHE_MAX_GB must be a number, not '20GB'"),
        ({"RESTYLE_WORKER_CACHE_MAX_GB": "-1"}, "RESTYLE_WORKER_CACHE_MAX_GB must be at least 0, not -1"),
        ({"RESTYLE_WORKER_TORCH_THREADS": "all"}, "RESTYLE_WORKER_TORCH_THREADS must be a whole number, not 'all'"),
        ({"RESTYLE_WORKER_TORCH_THREADS": "0"}, "RESTYLE_WORKER_TORCH_THREADS must be at least 1, not 0"),
        ({"RESTYLE_DEBUG": "ture"}, "RESTYLE_DEBUG must be 1 or 0 (or true/false, yes/no, on/off), not 'ture'"),
        ({"RESTYLE_INFERENCE_DTYPE": "fp64"}, "RESTYLE_INFERENCE_DTYPE must be one of fp32, bf16, fp16, not 'fp64'"),
        ({"RESTYLE_UPLOAD_RATE": "60 an hour"}, "RESTYLE_UPLOAD_RATE must be a rate such as 60/hour"),
        ({"RESTYLE_REDIS_URL": "http://127.0.0.1:6379/0"}, "RESTYLE_REDIS_URL must be a URL starting with redis://"),
        ({"DATABASE_URL": "mysql://restyle:secret@db.internal/restyle"},
         "DATABASE_URL must be a URL starting with sqlite:// or postgres://"),
        ({"DATABASE_URL": "postgres://restyle:secret@db.internal:5432/"},
         "DATABASE_URL must name the database (postgres://user:password@host:port/name), "
         "not 'postgres://restyle:***@db.internal:5432/'"),
        ({"DATABASE_URL": "postgres://restyle@db.internal:54x2/restyle"}, "DATABASE_URL has a bad port"),
        ({"RESTYLE_DATABASE_URL": "sqlite://"}, "RESTYLE_DATABASE_URL must name a SQLite file"),
        ({"DATABASE_URL": "postgres://db.internal/restyle?conn_max_age=-1"},
         "DATABASE_URL's conn_max_age must be a whole number of seconds or None, not -1"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(tmp_path, variables, message):
    done = start(tmp_path, **variables)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and message in done.stderr, done.stderr
    assert "secret" not in done.stderr  # a password in a URL is never repeated


def test_an_empty_value_counts_as_unset(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "from config import settings as s; print(s.RESTYLE_MIN_SIDE, s.DEBUG)"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
        env={**os.environ, "RESTYLE_VAR_DIR": str(tmp_path), "RESTYLE_MIN_SIDE": "", "RESTYLE_DEBUG": " "},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["16", "False"]


def test_without_a_database_url_the_database_is_the_sqlite_file(tmp_path):
    db = database_with(tmp_path)
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "db.sqlite3")
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert database_with(tmp_path, RESTYLE_DB_PATH=str(tmp_path / "other.sqlite3"))["NAME"] == str(tmp_path / "other.sqlite3")


def test_database_url_selects_postgresql_with_connections_fit_for_many_processes(tmp_path):
    db = database_with(tmp_path, DATABASE_URL="postgres://restyle:p%40ss@db.internal:5433/restyle?sslmode=require")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "restyle", "restyle", "p@ss", "db.internal", 5433)
    assert db["CONN_MAX_AGE"] == 60 and db["CONN_HEALTH_CHECKS"] is True
    assert db["OPTIONS"] == {"sslmode": "require", "connect_timeout": 10}


def test_the_url_overrides_the_connection_defaults(tmp_path):
    db = database_with(tmp_path, DATABASE_URL="postgres://db.internal/restyle?conn_max_age=0&connect_timeout=3")
    assert db["CONN_MAX_AGE"] == 0 and db["OPTIONS"]["connect_timeout"] == 3


def test_restyle_database_url_wins_over_database_url(tmp_path):
    db = database_with(tmp_path, DATABASE_URL="postgres://elsewhere/theirs",
                       RESTYLE_DATABASE_URL="postgresql://db.internal/restyle")
    assert (db["HOST"], db["NAME"]) == ("db.internal", "restyle")


def test_the_worker_cache_bound_and_torch_threads_are_read_from_the_environment(tmp_path):
    show = "from config import settings as s; print(s.RESTYLE_WORKER_CACHE_MAX_GB, s.RESTYLE_WORKER_TORCH_THREADS)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTYLE_")}

    def read(**variables):
        done = subprocess.run([sys.executable, "-c", show], cwd=REPO, capture_output=True, text=True, timeout=60,
                              env={**env, "RESTYLE_VAR_DIR": str(tmp_path), **variables})
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert read() == ["20.0", "None"]  # 20 GB; torch's own default
    assert read(RESTYLE_WORKER_CACHE_MAX_GB="2.5", RESTYLE_WORKER_TORCH_THREADS="4") == ["2.5", "4"]
