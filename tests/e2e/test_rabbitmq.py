"""The site on RabbitMQ instead of Redis (RESTYLE_BROKER_URL=amqp://...): a node of the test's own
(tests/e2e/rabbitmq.py), real Celery workers and gunicorn, and no Redis at all. Fault tests of
tests/e2e/test_faults.py run here unchanged with `broker` set to "rabbitmq": photos converted end
to end while workers are killed mid-job, the broker is frozen, killed, or down at upload time;
each time every job ends, once, with one result. One of them runs on quorum queues too.
"""
import signal

import pytest

from config.queues import CPU, queue_name

from . import test_faults as faults
from .stack import wait_for
from .test_faults import api, stack  # noqa: F401  (the same fixtures, on this module's broker)

pytestmark = pytest.mark.e2e
CONVERSIONS = queue_name("conversions", CPU)  # the queue a CPU conversion is sent to


@pytest.fixture
def broker():
    return "rabbitmq"


test_a_pool_child_killed_mid_job_loses_nothing_and_converts_each_photo_once = (
    faults.test_a_pool_child_killed_mid_job_loses_nothing_and_converts_each_photo_once
)
test_a_worker_main_process_killed_mid_job_then_started_again_loses_nothing = (
    faults.test_a_worker_main_process_killed_mid_job_then_started_again_loses_nothing
)
test_a_frozen_rabbitmq_never_stalls_uploads_or_pages = faults.test_a_frozen_redis_never_stalls_uploads_or_pages
test_rabbitmq_killed_and_restarted_loses_no_queued_job = faults.test_redis_killed_and_restarted_empty_loses_no_queued_job
test_uploads_while_rabbitmq_is_down_are_accepted_at_once_and_run_once_it_is_back = (
    faults.test_uploads_while_redis_is_down_are_accepted_at_once_and_run_once_it_is_back
)


@pytest.mark.parametrize("broker", ["rabbitmq-quorum"])
def test_on_quorum_queues_a_pool_child_killed_mid_job_loses_nothing(broker, stack, api, data_dir):
    faults.test_a_pool_child_killed_mid_job_loses_nothing_and_converts_each_photo_once(stack, api, data_dir)
    queues = dict(line.split("\t") for line in stack.broker.ctl("list_queues", "-q", "name", "type").splitlines()[1:])
    assert queues[CONVERSIONS] == "quorum", queues


def unacknowledged(stack, queue=CONVERSIONS):
    rows = stack.broker.ctl("list_queues", "-q", "name", "messages_unacknowledged").splitlines()[1:]
    return dict(line.split("\t") for line in rows).get(queue)


def test_a_busy_worker_holds_one_message_ahead_and_rabbitmq_gives_it_back_when_the_worker_dies(stack, api, data_dir):
    """Celery's worker_disable_prefetch is Redis's only: on RabbitMQ a worker running a job holds
    the next message (README: "One message ahead"). Killed, it loses neither job."""
    worker = stack.start_worker("conversions", "conversions")
    ids = [faults.upload(api, data_dir)[0], faults.upload(api, data_dir, "chelsea.png")[0]]
    wait_for(faults.running(ids[0]), 60, "the first job to run")
    # The running job's message was acknowledged as it started; the one held is the second job's.
    wait_for(lambda: unacknowledged(stack) == "1", 10, "the worker to hold the next message")
    worker.signal(signal.SIGKILL)
    wait_for(lambda: unacknowledged(stack) == "0", 10, "RabbitMQ to take the held message back")
    stack.start_worker("conversions-again", "conversions")

    jobs = faults.settle(stack, ids)
    assert [jobs[i].status for i in ids] == ["succeeded"] * 2
    assert jobs[ids[1]].attempts == 1 and jobs[ids[1]].worker.startswith("conversions-again@")
