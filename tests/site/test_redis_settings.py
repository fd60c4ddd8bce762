"""Where every process dials Redis: config/settings.py, read fresh by a new interpreter each time,
as the web server, the workers and `make run` read it."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHOW = (
    "import json; from config import settings as s; "
    "print(json.dumps([s.REDIS_URL, s.REDIS_PORT, s.CELERY_BROKER_URL, s.CACHES['default']['LOCATION']]))"
)


def settings_with(tmp_path, **variables):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTYLE_")}
    env.update(RESTYLE_VAR_DIR=str(tmp_path), **variables)
    return subprocess.run([sys.executable, "-c", SHOW], cwd=REPO, env=env, capture_output=True, text=True)


def redis_settings(tmp_path, **variables):
    done = settings_with(tmp_path, **variables)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_by_default_everything_dials_the_redis_make_run_starts(tmp_path):
    assert redis_settings(tmp_path) == ["redis://127.0.0.1:6479/0", 6479] + ["redis://127.0.0.1:6479/0"] * 2


def test_the_port_alone_moves_the_broker_and_the_cache(tmp_path):
    url = "redis://127.0.0.1:6580/0"
    assert redis_settings(tmp_path, RESTYLE_REDIS_PORT="6580") == [url, 6580, url, url]


def test_a_full_url_wins_and_names_the_port_make_runs_redis_listens_on(tmp_path):
    url = "redis://:secret@127.0.0.1:7001/2"
    assert redis_settings(tmp_path, RESTYLE_REDIS_URL=url, RESTYLE_REDIS_PORT="6580") == [url, 7001, url, url]
    assert redis_settings(tmp_path, RESTYLE_REDIS_URL="redis://broker.internal/0")[1] == 6379


def test_a_separate_cache_url_still_wins_for_the_cache(tmp_path):
    got = redis_settings(tmp_path, RESTYLE_REDIS_PORT="6580", RESTYLE_CACHE_URL="redis://127.0.0.1:6999/1")
    assert got == ["redis://127.0.0.1:6580/0", 6580, "redis://127.0.0.1:6580/0", "redis://127.0.0.1:6999/1"]


@pytest.mark.parametrize(
    "variables, message",
    [
        ({"RESTYLE_REDIS_PORT": "redis"}, "RESTYLE_REDIS_PORT must be a TCP port (1-65535), not 'redis'"),
        ({"RESTYLE_REDIS_PORT": "70000"}, "RESTYLE_REDIS_PORT must be a TCP port (1-65535), not '70000'"),
        ({"RESTYLE_REDIS_URL": "redis://127.0.0.1:port/0"}, "RESTYLE_REDIS_URL has a bad port"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(tmp_path, variables, message):
    done = settings_with(tmp_path, **variables)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and message in done.stderr
