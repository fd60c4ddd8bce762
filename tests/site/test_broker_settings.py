"""Which broker Celery talks to, and with which options: config/settings.py read fresh by a new
interpreter, as each web and worker process reads it. Redis is the default; an amqp:// URL in
RESTYLE_BROKER_URL makes it RabbitMQ, and Redis's options must then be nowhere in the way.
(tests/e2e/test_rabbitmq.py runs the real site on a real RabbitMQ.)"""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHOW = (
    "import json; from config import settings as s; print(json.dumps({k: getattr(s, k, None) for k in ["
    "'CELERY_BROKER_URL', 'BROKER_TRANSPORT', 'CELERY_BROKER_TRANSPORT_OPTIONS', 'CELERY_WORKER_DISABLE_PREFETCH',"
    "'CELERY_TASK_ACKS_LATE', 'CELERY_TASK_DEFAULT_QUEUE_TYPE', 'CELERY_TASK_CREATE_MISSING_QUEUE_TYPE']}"
    " | {'cache': s.CACHES['default']['LOCATION']}))"
)


def run_python(tmp_path, code, **variables):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTYLE_")}
    env.update(RESTYLE_VAR_DIR=str(tmp_path), **variables)
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def broker_settings(tmp_path, **variables):
    done = run_python(tmp_path, SHOW, **variables)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_by_default_the_broker_is_redis_with_its_visibility_timeout_and_no_prefetch(tmp_path):
    got = broker_settings(tmp_path, RESTYLE_REDIS_PORT="6580")
    assert got["CELERY_BROKER_URL"] == got["cache"] == "redis://127.0.0.1:6580/0"
    assert got["BROKER_TRANSPORT"] == "redis"
    assert got["CELERY_BROKER_TRANSPORT_OPTIONS"]["visibility_timeout"] == 3600
    assert got["CELERY_WORKER_DISABLE_PREFETCH"] is True
    assert got["CELERY_TASK_DEFAULT_QUEUE_TYPE"] is None  # Celery's own default, untouched


def test_an_amqp_url_makes_rabbitmq_the_broker_and_leaves_the_cache_on_redis(tmp_path):
    url = "amqp://restyle:secret@mq.internal:5672/restyle"
    got = broker_settings(tmp_path, RESTYLE_BROKER_URL=url, RESTYLE_REDIS_URL="redis://cache.internal:6379/0")
    assert (got["CELERY_BROKER_URL"], got["BROKER_TRANSPORT"]) == (url, "amqp")
    assert got["cache"] == "redis://cache.internal:6379/0"
    # Redis's options mean nothing to RabbitMQ (which gives unacknowledged messages back itself).
    assert got["CELERY_BROKER_TRANSPORT_OPTIONS"] == {}
    assert got["CELERY_WORKER_DISABLE_PREFETCH"] is False  # Celery refuses it on AMQP, with a warning
    assert got["CELERY_TASK_ACKS_LATE"] is False  # the same early acknowledgement on both brokers
    assert got["CELERY_TASK_DEFAULT_QUEUE_TYPE"] == got["CELERY_TASK_CREATE_MISSING_QUEUE_TYPE"] == "classic"


def test_quorum_queues_are_asked_for_by_one_setting(tmp_path):
    got = broker_settings(tmp_path, RESTYLE_BROKER_URL="amqps://mq.internal/", RESTYLE_BROKER_QUEUE_TYPE="quorum")
    assert got["CELERY_TASK_DEFAULT_QUEUE_TYPE"] == got["CELERY_TASK_CREATE_MISSING_QUEUE_TYPE"] == "quorum"


@pytest.mark.parametrize(
    "variables, message",
    [
        ({"RESTYLE_BROKER_URL": "http://:secret@mq.internal/"}, "RESTYLE_BROKER_URL: a broker URL starts with redis://"),
        ({"RESTYLE_BROKER_URL": "amqp://mq/", "RESTYLE_BROKER_QUEUE_TYPE": "stream"},
         "RESTYLE_BROKER_QUEUE_TYPE must be one of classic, quorum, not 'stream'"),
    ],
)
def test_a_bad_broker_setting_stops_start_up_naming_the_variable(tmp_path, variables, message):
    done = run_python(tmp_path, SHOW, **variables)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and message in done.stderr
    assert "secret" not in done.stderr


SEND = """
import django, json, time
django.setup()
from translator.models import Conversion
from translator.services import delivery
seconds = []
for pk in ("a", "b"):
    started = time.monotonic()
    sent = delivery._send_message(Conversion, pk, "conversions")
    seconds.append((sent, time.monotonic() - started))
print(json.dumps(seconds))
"""


def test_a_rabbitmq_that_accepts_connections_but_never_answers_holds_a_send_half_a_second_once(tmp_path):
    """A frozen broker: the kernel completes the TCP connection, the broker never speaks AMQP."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"amqp://guest:guest@127.0.0.1:{silent.getsockname()[1]}//"
        done = run_python(tmp_path, SEND, DJANGO_SETTINGS_MODULE="config.settings_test", RESTYLE_BROKER_URL=url,
                          RESTYLE_BROKER_TIMEOUT_SECONDS="0.5", RESTYLE_BROKER_RETRY_SECONDS="30")
    assert done.returncode == 0, done.stderr
    (first_sent, first), (second_sent, second) = json.loads(done.stdout)
    assert (first_sent, second_sent) == (False, False)
    assert 0.4 < first < 1.5  # the bounded wait, once
    assert second < 0.05  # the breaker: not even tried
    assert "could not send the message" in done.stderr
