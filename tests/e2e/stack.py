"""A Restyle site made of real processes on free ports: redis-server, Celery workers, gunicorn.

The fault tests and the soak script (tests/e2e/soak.py) start one, then break it the way
production breaks: kill -9 of a worker's pool child or main process, of redis-server; SIGSTOP.
The throughput benchmark (tests/e2e/throughput.py) times conversions through one. The scripts
build their site in a folder (and, on PostgreSQL, a database: `own_database`) of their own with
`prepare_site` and talk to it with `api_session`;
the tests build theirs in their own database with `prepare_site_here` and `api_user`.
Every process inherits one environment (database, media folder, broker URL; `database_env` gives
the database's), so the stack is
whatever that environment says; nothing here knows about pytest.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlparse, urlsplit, urlunsplit

import requests

REPO = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_env(settings_dict, environ=os.environ):
    """The variables that point another process at the database `settings_dict` describes (the
    test database, in a test run): the SQLite file, or the PostgreSQL URL of this run with the
    test database's name in it (Django's test runner made it beside the one the URL names)."""
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        return {"RESTYLE_DB_PATH": str(settings_dict["NAME"])}
    url = environ.get("RESTYLE_DATABASE_URL") or environ["DATABASE_URL"]
    return {"RESTYLE_DATABASE_URL": urlunsplit(urlsplit(url)._replace(path="/" + quote(settings_dict["NAME"])))}


def own_database(env, name, environ=os.environ):
    """A database of the script's own: on the PostgreSQL server that RESTYLE_DATABASE_URL or
    DATABASE_URL names, a new database `restyle_<name>_<random>`, set in `env` (the URL's own
    database is left alone: rows an earlier run left there, naming media files of a folder since
    removed, would be taken for this run's). Returns what drops it again; the caller runs that
    once its processes are stopped. Without a URL the site keeps SQLite in its own folder, and
    there is nothing to drop."""
    url = environ.get("RESTYLE_DATABASE_URL") or environ.get("DATABASE_URL")
    if not url:
        return lambda: None
    import psycopg
    from psycopg import sql

    database = f"restyle_{name}_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    env["RESTYLE_DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path="/" + database))

    def drop():
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))

    return drop


def prepare_site(env, *, data_dir, users, styles="wave"):
    """A site's database and files, made as `make run` makes them: migrations, static files, the
    demo models `styles` from `data_dir`, and the `users` ((username, password) pairs). `env`
    holds the RESTYLE_* settings, as Stack takes them; it gets RESTYLE_DEMO_MODELS_DIR."""
    env["RESTYLE_DEMO_MODELS_DIR"] = str(Path(data_dir) / "pretrained" / "fast-style-ml5")
    # One Django start for all of it (each costs seconds): migrate, static files, models, users.
    script = "\n".join([
        "import io",
        "from django.core.management import call_command",
        "from django.contrib.auth.models import User",
        "call_command('migrate', interactive=False, verbosity=0)",
        "call_command('collectstatic', interactive=False, verbosity=0)",
        f"call_command('install_demo_models', styles={styles!r}, stdout=io.StringIO())",
        *(f"User.objects.create_user({u!r}, password={p!r})" for u, p in users),
    ])
    subprocess.run([sys.executable, "manage.py", "shell", "-v0", "-c", script], cwd=REPO, env={**os.environ, **env},
                   check=True)


def prepare_site_here(database_env, *, data_dir, styles="wave", cache=True):
    """What the e2e tests' sites share, made in this process on its database (the test database,
    migrated by the test runner), which the site's processes are then given: the demo models
    `styles` from `data_dir` installed as `make run` installs them, and the environment every
    process of the site gets (the settings module, `database_env`, a Redis URL on a free port
    for the broker and, with `cache`, for the rate limits' counters too). The caller adds its
    media folders and the rest, and points Django's MEDIA_ROOT somewhere first (the install
    stores the checkpoints there)."""
    import io

    from django.core.management import call_command

    call_command("install_demo_models", source=str(Path(data_dir) / "pretrained" / "fast-style-ml5"), styles=styles,
                 stdout=io.StringIO(), stderr=io.StringIO())
    redis_url = f"redis://127.0.0.1:{free_port()}/0"
    env = {"DJANGO_SETTINGS_MODULE": "config.settings_test", **database_env, "RESTYLE_REDIS_URL": redis_url}
    if cache:
        env["RESTYLE_CACHE_URL"] = redis_url
    return env


def api_session(base, username, password):
    """A requests session holding `username`'s API token, for the REST API at `base` (…/api/v1),
    which it keeps as `.base`."""
    http = requests.Session()
    response = http.post(f"{base}/auth/token/", data={"username": username, "password": password}, timeout=30)
    response.raise_for_status()
    http.headers["Authorization"] = f"Token {response.json()['token']}"
    http.base = base
    return http


def api_user(site, username):
    """A new user of `site` (made in this process's database, the site's, as prepare_site_here
    has it) and an api_session of theirs."""
    from django.contrib.auth import get_user_model

    password = f"{username}-password-1"
    get_user_model().objects.create_user(username, password=password)
    return api_session(f"{site.web_url}/api/v1", username, password)


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def wait_for(check, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def children(pid):
    """The pids of `pid`'s child processes (from /proc, so no extra package is needed)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the ppid follows the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def cpu_seconds(pid):
    """CPU seconds (user + system) used so far by `pid` and its living children (a worker and its
    pool): from /proc, 0 for a process gone."""
    total = 0.0
    for each in [pid, *children(pid)]:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return total


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) != "Z"
    except OSError:
        return False


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self):
        return self.popen.pid

    def signal(self, signum):
        if self.popen.poll() is None:
            os.kill(self.pid, signum)

    def stop(self, timeout=20):
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)

    def log_text(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Stack:
    """`env` holds the RESTYLE_* settings every process shares (database, media, broker)."""

    workdir: Path
    env: dict
    processes: list = field(default_factory=list)
    redis: Process | None = None
    broker: object = None  # the process behind RESTYLE_BROKER_URL: redis-server or tests.e2e.rabbitmq.RabbitMQ
    web_url: str = ""

    @property
    def redis_url(self):
        return self.env["RESTYLE_REDIS_URL"]

    def _spawn(self, name, argv, extra_env=None, cwd=None):
        """`cwd`: another working folder than the checkout (a host of its own); the code is then
        found through PYTHONPATH."""
        log = self.workdir / f"{name}.log"
        env = {**os.environ, **self.env, **(extra_env or {})}
        if cwd is not None:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        popen = subprocess.Popen(
            argv, cwd=cwd or REPO, env=env,
            stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    # --- redis -----------------------------------------------------------------------------

    def start_redis(self, persist=False):
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        port = urlparse(self.redis_url).port
        data = self.workdir / "redis"
        data.mkdir(exist_ok=True)
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if persist else ["--save", "", "--appendonly", "no"]
        self.redis = self._spawn("redis", [exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data),
                                           "--maxmemory-policy", "noeviction", *persistence])
        wait_for(self.redis_answers, 15, f"redis-server on port {port}")
        return self.redis

    def redis_answers(self):
        try:
            with socket.create_connection(("127.0.0.1", urlparse(self.redis_url).port), timeout=0.5) as s:
                s.settimeout(0.5)
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill_redis(self):
        self.redis.signal(signal.SIGKILL)
        self.redis.popen.wait(10)

    # --- the broker: Redis, or RabbitMQ when RESTYLE_BROKER_URL says amqp:// ------------------

    @property
    def broker_url(self):
        return self.env.get("RESTYLE_BROKER_URL") or self.redis_url

    def start_broker(self):
        """Start the broker, or the same one again after kill_broker (Redis comes back empty)."""
        if not urlparse(self.broker_url).scheme.startswith("amqp"):
            self.broker = self.start_redis()
            return self.broker
        if self.broker is None:
            from .rabbitmq import RabbitMQ

            self.broker = RabbitMQ(self.workdir, urlparse(self.broker_url).port)
            self.processes.append(self.broker)
        return self.broker.start()

    def kill_broker(self):
        self.broker.signal(signal.SIGKILL)
        self.broker.popen.wait(10)

    # --- workers -----------------------------------------------------------------------------

    def start_worker(self, name, queues, *, pool="prefork", concurrency=1, extra_env=None, wait=True, cwd=None):
        """`queues` as RESTYLE_WORKER_QUEUES takes them (config/queues.py): "conversions" is every
        conversions queue the worker's device may serve, "conversions.cpu" that queue alone.
        `cwd`: the worker's working folder (default: the checkout)."""
        hostname = f"{name}@{socket.gethostname()}"
        worker = self._spawn(
            name,
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-n", hostname,
             "--pool", pool, "--concurrency", str(concurrency), "--without-gossip", "--without-mingle",
             "--loglevel", "INFO"],
            {"PYTHONUNBUFFERED": "1", "RESTYLE_WORKER_QUEUES": queues, **(extra_env or {})}, cwd=cwd,
        )
        worker.hostname = hostname
        if wait:
            self.wait_ready(worker)
        return worker

    def wait_ready(self, worker, timeout=90):
        def ready():
            if worker.popen.poll() is not None:
                raise AssertionError(f"the worker {worker.name} exited:\n{worker.log_text()[-4000:]}")
            return " ready." in worker.log_text()

        wait_for(ready, timeout, f"the worker {worker.name} to be ready")

    def pool_children(self, worker):
        """The prefork pool's child processes, where the tasks run (not the sweeper beside it)."""
        return [pid for pid in children(worker.pid) if b"sweep" not in _cmdline(pid)]

    # --- web -----------------------------------------------------------------------------

    def start_web(self, workers=2, threads=4, extra_env=None):
        port = free_port()
        web = self._spawn(
            "web", [sys.executable, "-m", "gunicorn", "-c", "site/gunicorn.conf.py", "config.wsgi"],
            {"RESTYLE_HOST": "127.0.0.1", "RESTYLE_PORT": str(port), "RESTYLE_WEB_WORKERS": str(workers),
             "RESTYLE_WEB_THREADS": str(threads), **(extra_env or {})},
        )
        self.web_url = f"http://127.0.0.1:{port}"

        def answers():
            if web.popen.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{web.log_text()[-4000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return True
            except OSError:
                return False

        wait_for(answers, 60, "gunicorn")
        return web

    def stop(self):
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()

    def logs(self, tail=3000):
        return "\n".join(f"--- {p.name} ---\n{p.log_text()[-tail:]}" for p in self.processes)
