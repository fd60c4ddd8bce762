"""A RabbitMQ node of a test's own: Debian's rabbitmq-server as an unprivileged process, with its
data, logs, Erlang cookie (in its HOME) and port-mapper daemon (epmd) in a temporary folder and
on free ports, so it never meets the machine's RabbitMQ or another test run's.

Debian's /usr/sbin/rabbitmq-server insists on the `rabbitmq` user and /var/lib/rabbitmq; the
script it wraps (/usr/lib/rabbitmq/bin/rabbitmq-server) takes its places from RABBITMQ_*
variables. As root the node runs as the `rabbitmq` user the package creates; otherwise as the
user running the tests. epmd is started here, in the foreground, so that it is a child of ours
that ends with the node (the node would otherwise start a daemon that outlives the tests).
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
AMQP_HEADER = b"AMQP\x00\x00\x09\x01"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def answers_amqp(port):
    """True once the node speaks AMQP on `port` (it sends Connection.Start, a method frame)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.settimeout(1)
            s.sendall(AMQP_HEADER)
            return s.recv(1) == b"\x01"
    except OSError:
        return False


class RabbitMQ:
    """One node on `port`. start() again after a kill brings the same node (data and all) back.
    Looks like a tests.e2e.stack.Process to the Stack: name, pid, log, signal, stop, log_text."""

    name = "rabbitmq"

    def __init__(self, workdir: Path, port: int):
        if not SERVER.exists():
            raise RuntimeError("rabbitmq-server is not installed (site/install-system-packages.sh rabbitmq-server)")
        self.port = port
        self.log = Path(workdir) / "rabbitmq.log"
        self.popen = self.epmd = None
        self.start_seconds = []  # how long each start took, for the report
        # Its own folder outside the test's (pytest's are private to the user running the tests).
        self.home = Path(tempfile.mkdtemp(prefix="restyle-rabbitmq-"))
        self.user = "rabbitmq" if os.geteuid() == 0 else None
        epmd_port = _free_port()
        (self.home / "home").mkdir()
        (self.home / "enabled_plugins").write_text("[].\n")
        (self.home / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{port}\n"
            "loopback_users.guest = true\n"
            # A test machine's disk may be nearly full; the node must not refuse publishers for it.
            "disk_free_limit.absolute = 1MB\n"
        )
        if self.user:
            entry = pwd.getpwnam(self.user)
            for path in [self.home, *self.home.rglob("*")]:
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self.env = {
            "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
            "LANG": "C.UTF-8",
            "HOME": str(self.home / "home"),  # the Erlang cookie is written here
            "RABBITMQ_NODENAME": f"restyle-test-{uuid.uuid4().hex[:8]}@localhost",
            "RABBITMQ_NODE_PORT": str(port),
            "RABBITMQ_DIST_PORT": str(_free_port()),
            "ERL_EPMD_PORT": str(epmd_port),
            "RABBITMQ_MNESIA_BASE": str(self.home / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.home / "log"),
            "RABBITMQ_LOGS": "-",  # to our log file
            "RABBITMQ_CONFIG_FILE": str(self.home / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.home / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.home / "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": str(self.home / "rabbitmq-env.conf"),  # not /etc/rabbitmq's
        }
        self.epmd = self._spawn([shutil.which("epmd") or "epmd", "-port", str(epmd_port), "-address", "127.0.0.1"])

        def epmd_listens():
            try:
                socket.create_connection(("127.0.0.1", epmd_port), timeout=0.2).close()
                return True
            except OSError:
                return False

        _wait_for(epmd_listens, 15, f"epmd on port {epmd_port}")

    def _spawn(self, argv):
        return subprocess.Popen(
            argv, env=self.env, cwd=self.home, user=self.user, group=self.user and self.user,
            extra_groups=[] if self.user else None, stdin=subprocess.DEVNULL,
            stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )

    @property
    def url(self):
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    @property
    def pid(self):
        return self.popen.pid

    def start(self, timeout=90):
        started = time.monotonic()
        self.popen = self._spawn([str(SERVER)])

        def ready():
            if self.popen.poll() is not None:
                raise AssertionError(f"rabbitmq-server exited:\n{self.log_text()[-4000:]}")
            return answers_amqp(self.port)

        _wait_for(ready, timeout, f"rabbitmq-server on port {self.port}")
        self.start_seconds.append(time.monotonic() - started)
        return self

    def ctl(self, *args):
        """rabbitmqctl against this node (its cookie is in the node's HOME)."""
        done = subprocess.run([str(SERVER.with_name("rabbitmqctl")), "-n", self.env["RABBITMQ_NODENAME"], *args],
                              env=self.env, user=self.user, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def signal(self, signum):
        """To the whole node (the script, the Erlang VM and its helpers), as a machine's fault would."""
        if self.popen is not None and self.popen.poll() is None:
            os.killpg(self.popen.pid, signum)

    def kill(self):
        self.signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, timeout=30):
        if self.popen is not None and self.popen.poll() is None:
            self.signal(signal.SIGCONT)  # a frozen node cannot stop
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        for process in (self.epmd,):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(10)
        shutil.rmtree(self.home, ignore_errors=True)

    def log_text(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""
