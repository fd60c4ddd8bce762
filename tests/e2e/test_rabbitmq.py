"""The site on RabbitMQ instead of Redis (RESTYLE_BROKER_URL=amqp://...): a node of the test's own
(tests/e2e/rabbitmq.py), real Celery workers and gunicorn, and no Redis at all. Fault tests of
tests/e2e/test_faults.py run here unchanged with `broker` set to "rabbitmq": photos converted end
to end while workers are killed mid-job, the broker is frozen, killed, or down at upload time;
each time every job ends, once, with one result. One of them runs on quorum queues too.
"""
import pytest

from . import test_faults as faults
from .test_faults import api, stack  # noqa: F401  (the same fixtures, on this module's broker)

pytestmark = pytest.mark.e2e


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
    assert queues["conversions"] == "quorum", queues
