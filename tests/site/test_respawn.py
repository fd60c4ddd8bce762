"""site/respawn.sh around a real process: a child killed with SIGKILL comes back, a stop is a stop,
and under honcho (as `make run` starts it) one dead process no longer takes the others down."""
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RESPAWN = REPO / "site" / "respawn.sh"

# The child writes a line when it starts and when SIGTERM stops it; it ignores nothing itself.
CHILD = """
import os, signal, sys, time
log = open(sys.argv[1], "a", buffering=1)
log.write(f"started {os.getpid()}\\n")
def stop(*_):
    log.write(f"stopped {os.getpid()}\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
while True:
    time.sleep(0.05)
"""


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def processes_marked(marker):
    """Pids of live processes whose environment carries `marker` (every descendant inherits it)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if f"RESPAWN_TEST={marker}".encode() in (proc / "environ").read_bytes().split(b"\0"):
                if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    found.append(int(proc.name))
        except OSError:  # gone meanwhile
            pass
    return found


def alive(pid):
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Child:
    """The child's own record of its starts and stops."""

    def __init__(self, tmp_path):
        self.script = tmp_path / "child.py"
        self.script.write_text(CHILD)
        self.log = tmp_path / "child.log"
        self.command = [sys.executable, str(self.script), str(self.log)]

    def events(self, kind):
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [int(line.split()[1]) for line in lines if line.startswith(kind)]


@pytest.fixture
def marker():
    marker = uuid.uuid4().hex
    yield marker
    for pid in processes_marked(marker):  # a failed test must not leave its processes behind
        os.kill(pid, signal.SIGKILL)


def start(command, marker, tmp_path, **env):
    return subprocess.Popen(
        command, env={**os.environ, "RESPAWN_TEST": marker, **env}, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )


def test_a_child_killed_with_sigkill_is_started_again_and_sigterm_stops_both(tmp_path, marker):
    child = Child(tmp_path)
    respawn = start([str(RESPAWN), *child.command], marker, tmp_path)
    first = wait_for(lambda: child.events("started"), 10, "the child to start")[0]

    os.kill(first, signal.SIGKILL)
    killed_at = time.monotonic()
    second = wait_for(lambda: child.events("started")[1:], 5, "the child to be started again")[0]
    assert time.monotonic() - killed_at < 3
    assert second != first and not alive(first) and alive(second)

    respawn.send_signal(signal.SIGTERM)  # to the script alone: it must pass the stop on
    assert respawn.wait(5) == 0
    assert child.events("stopped") == [second]
    assert processes_marked(marker) == []


def test_ctrl_c_reaches_the_child_and_stops_everything_promptly(tmp_path, marker):
    """A terminal's Ctrl-C is SIGINT to the whole group; a script's background child ignores
    SIGINT, so the script must turn it into SIGTERM for the child."""
    child = Child(tmp_path)
    respawn = start([str(RESPAWN), *child.command], marker, tmp_path)
    pid = wait_for(lambda: child.events("started"), 10, "the child to start")[0]

    os.killpg(respawn.pid, signal.SIGINT)
    respawn.wait(5)
    assert child.events("stopped") == [pid]
    assert child.events("started") == [pid]
    assert processes_marked(marker) == []


def test_a_stop_during_the_pause_before_a_restart_starts_nothing(tmp_path, marker):
    child = Child(tmp_path)
    respawn = start([str(RESPAWN), *child.command], marker, tmp_path, RESPAWN_DELAY="30")
    pid = wait_for(lambda: child.events("started"), 10, "the child to start")[0]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not alive(pid), 5, "the child to die")
    time.sleep(0.3)  # now in the 30 s pause

    respawn.send_signal(signal.SIGTERM)
    respawn.wait(3)
    assert child.events("started") == [pid]
    assert processes_marked(marker) == []


def test_a_clean_exit_ends_the_script_without_a_restart(tmp_path, marker):
    log = tmp_path / "runs"
    respawn = start([str(RESPAWN), "sh", "-c", f"echo run >> {log}; exit 0"], marker, tmp_path)
    assert respawn.wait(5) == 0
    assert log.read_text() == "run\n"


def test_a_process_that_keeps_dying_young_is_given_up_with_its_status(tmp_path, marker):
    log = tmp_path / "runs"
    respawn = start(
        [str(RESPAWN), "sh", "-c", f"echo run >> {log}; exit 3"], marker, tmp_path,
        RESPAWN_DELAY="0.1", RESPAWN_TRIES="3",
    )
    assert respawn.wait(10) == 3
    assert log.read_text() == "run\n" * 3
    output = respawn.stdout.read()
    assert output.count("exited with status 3; starting it again in 0.1s") == 2
    assert "sh exited with status 3, 3 times in a row within 10s of starting; giving up" in output


def test_under_honcho_one_killed_process_comes_back_and_the_rest_keep_running(tmp_path, marker):
    child = Child(tmp_path)
    (tmp_path / "Procfile").write_text(
        f"victim: exec {RESPAWN} {' '.join(child.command)}\n"
        f"bystander: exec {RESPAWN} sleep 600\n"
    )
    honcho = start([sys.executable, "-m", "honcho", "-f", "Procfile", "start"], marker, tmp_path)
    first = wait_for(lambda: child.events("started"), 15, "honcho to start the victim")[0]
    bystander = wait_for(
        lambda: [p for p in processes_marked(marker) if Path(f"/proc/{p}/cmdline").read_bytes() == b"sleep\x00600\x00"],
        10, "the bystander",
    )[0]

    os.kill(first, signal.SIGKILL)
    killed_at = time.monotonic()
    wait_for(lambda: child.events("started")[1:], 5, "the victim to be started again")
    assert time.monotonic() - killed_at < 3  # the default one-second pause
    time.sleep(0.5)
    assert honcho.poll() is None and alive(bystander)

    os.killpg(honcho.pid, signal.SIGINT)  # Ctrl-C in the terminal running `make run`
    honcho.wait(10)
    assert len(child.events("stopped")) == 1
    assert processes_marked(marker) == []
