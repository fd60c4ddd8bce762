#!/usr/bin/env python3
"""The fresh-machine path, end to end: what `make run` gives someone who has just cloned Restyle.

1. A virtualenv with requirements.txt alone, built by `make install` as `make run` builds one
   (and from nothing whenever requirements.txt changed), so that a package only
   requirements-dev.txt brings cannot hide.
2. The real `make run` from it, on free ports for web and Redis and in a temporary var folder,
   so that a developer's running site is never touched.
3. A photo converted through the REST API as a phone app does it (a token for the demo account
   from its password file, upload, poll, download), and proof that the workers, the web process
   and its cache all use the chosen Redis port.
4. The conversions worker and redis-server killed with SIGKILL: both come back (site/respawn.sh)
   and a second photo converts.
5. Ctrl-C (SIGINT to make's process group, as a terminal sends it): everything stops, and no
   process of this run is left.

    python3 site/smoke.py [--venv .venv-smoke] [--keep]

Standard library only; the HTTP client is urllib, and the result is decoded by the new
virtualenv's Pillow. Exit status 0 when all of it worked; otherwise the failure, the logs, 1.
Linux only: the processes of this run are found through /proc by their RESTYLE_VAR_DIR.
"""
import argparse
import json
import mimetypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PHOTO = Path("images/content/chelsea.png")  # inside the shared data folder
MODEL = "wave"
WORKERS = ("conversions", "slow", "training")  # the Celery processes of site/Procfile
LOG_TAIL = 250  # lines of each log printed on failure


class SmokeFailure(Exception):
    pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", default=".venv-smoke", help="the runtime-only virtualenv (relative to the repository)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary var folder")
    args = parser.parse_args()
    venv = (REPO / args.venv).resolve()
    var_dir = Path(tempfile.mkdtemp(prefix="restyle-smoke-"))
    timings = []
    site = None
    try:
        data_dir = shared_data_dir()
        with timed("runtime-only virtualenv (make install)", timings):
            build_runtime_venv(venv, var_dir)
        site = Site(venv, var_dir, data_dir)
        with timed("make run, until web and the three workers answer", timings):
            site.start()
            site.wait_until_ready()
        site.check_printed_logins()
        site.check_redis_port()
        site.check_torch_threads()
        with timed(f"convert {PHOTO.name} with '{MODEL}' through the API", timings):
            site.convert(data_dir / PHOTO)
        site.check_cache_uses_its_redis()
        with timed("kill -9 the conversions worker and redis-server, until both are back", timings):
            site.kill_worker_and_redis()
        with timed("convert again", timings):
            site.convert(data_dir / PHOTO)
        with timed("Ctrl-C, until every process has stopped", timings):
            site.stop()
    except Exception as failure:  # noqa: BLE001 - whatever went wrong, the logs say more
        if site:
            site.print_log()
        if not isinstance(failure, SmokeFailure):
            traceback.print_exc()
        print(f"\nsmoke: FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        if site:
            site.kill_leftovers()
        if args.keep:
            print(f"smoke: var folder kept at {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)
    print("\nsmoke: the fresh-machine path works")
    for what, seconds in timings:
        print(f"  {seconds:6.1f} s  {what}")
    return 0


def shared_data_dir():
    """The real photo and the ml5.js checkpoints `make run` installs the demo models from."""
    default = REPO.parent / "shared" / "data"
    data_dir = (REPO / os.environ["RESTYLE_DATA_DIR"]) if os.environ.get("RESTYLE_DATA_DIR") else default
    needed = [data_dir / PHOTO, data_dir / "pretrained" / "fast-style-ml5" / MODEL]
    missing = [str(path) for path in needed if not path.exists()]
    if missing:
        raise SmokeFailure(
            f"the shared data folder is not at {data_dir} (set RESTYLE_DATA_DIR): the smoke converts "
            f"{PHOTO} with the '{MODEL}' demo model from it; missing: {', '.join(missing)}"
        )
    return data_dir.resolve()


def build_runtime_venv(venv, var_dir):
    if venv == (REPO / ".venv").resolve():
        raise SmokeFailure(".venv holds the test requirements too; the smoke needs a virtualenv of its own")
    marker, requirements = venv / ".installed-runtime", REPO / "requirements.txt"
    if venv.exists() and (not marker.exists() or marker.stat().st_mtime < requirements.stat().st_mtime):
        # From nothing: pip never removes a package that requirements.txt no longer lists.
        shutil.rmtree(venv)
    log = var_dir / "make-install.log"
    with open(log, "wb") as out:
        done = subprocess.run(["make", "--no-print-directory", "install", f"VENV={venv}"], cwd=REPO,
                              env=fresh_environment(), stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        print_tail(log)
        raise SmokeFailure(f"make install VENV={venv} failed with status {done.returncode}")
    if subprocess.run([venv / "bin" / "python", "-c", "import pytest"], capture_output=True).returncode == 0:
        raise SmokeFailure(f"{venv} has pytest: it is not a runtime-only virtualenv")


def fresh_environment(**settings):
    """This environment without Restyle's settings or make's own variables, as in a new terminal."""
    inherited = {
        name: value for name, value in os.environ.items()
        if not name.startswith(("RESTYLE_", "MAKE", "MFLAGS"))
        and name not in ("VENV", "PORT", "DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV")
    }
    return {**inherited, **settings}


class Site:
    """One `make run`, its log, and the processes it started."""

    def __init__(self, venv, var_dir, data_dir):
        self.venv, self.var_dir = venv, var_dir
        self.web_port, self.redis_port = free_ports(2)
        self.url = f"http://127.0.0.1:{self.web_port}"
        self.log = var_dir / "make-run.log"
        # Every process of this run inherits RESTYLE_VAR_DIR: that is how they are found.
        self.env = fresh_environment(
            RESTYLE_VAR_DIR=str(var_dir), RESTYLE_PORT=str(self.web_port),
            RESTYLE_REDIS_PORT=str(self.redis_port), RESTYLE_DATA_DIR=str(data_dir),
        )
        self.make = None
        self.sessions = set()  # of the processes of this run, remembered after their leaders end
        self.token = None

    # --- starting and stopping -------------------------------------------------------------

    def start(self):
        print(f"smoke: make run VENV={self.venv} on web port {self.web_port}, Redis port {self.redis_port}, "
              f"RESTYLE_VAR_DIR={self.var_dir}")
        self.make = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"VENV={self.venv}"], cwd=REPO, env=self.env,
            stdout=open(self.log, "wb"), stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives it
        )
        self.sessions.add(self.make.pid)

    def wait_until_ready(self, timeout=900):
        def ready():
            self.check_running()
            return self.web_answers() and all(self.ready_count(worker) for worker in WORKERS)

        wait_for(ready, timeout, "the web server and the workers of make run")

    def stop(self):
        os.killpg(self.make.pid, signal.SIGINT)
        try:
            self.make.wait(30)
        except subprocess.TimeoutExpired:
            raise SmokeFailure("make run was still running 30 s after Ctrl-C") from None
        try:
            wait_for(lambda: not self.processes(), 5, "the last processes to exit")
        except SmokeFailure:
            left = "\n".join(f"  {pid} {' '.join(argv)}" for pid, _, argv in self.processes())
            raise SmokeFailure(f"after Ctrl-C and make's exit these processes were left:\n{left}") from None

    def kill_leftovers(self):
        if self.make and self.make.poll() is None:
            os.killpg(self.make.pid, signal.SIGKILL)
        for pid, _, argv in self.processes():
            print(f"smoke: killing what is left: {pid} {' '.join(argv)[:120]}", file=sys.stderr)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def check_running(self):
        if self.make.poll() is not None:
            raise SmokeFailure(f"make run exited with status {self.make.returncode}")

    # --- what the site says ----------------------------------------------------------------

    def lines(self, process):
        """What one Procfile process printed (honcho prefixes each line with its name)."""
        prefix = re.compile(rf"^\d\d:\d\d:\d\d {process}\.1 +\| ?(.*)$")
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [m.group(1) for m in map(prefix.match, text.splitlines()) if m]

    def ready_count(self, worker):
        return sum(1 for line in self.lines(worker) if re.search(rf"\b{worker}@\S+ ready\.$", line))

    def check_printed_logins(self):
        text = self.log.read_text()
        demo = (self.var_dir / "demo_password").read_text().strip()
        admin = (self.var_dir / "admin_password").read_text().strip()
        if demo == admin:
            raise SmokeFailure("the demo and admin accounts have the same password")
        for line in (f"Demo account:  demo / {demo}", f"Admin account: admin / {admin}"):
            if line not in text:
                raise SmokeFailure(f"make run did not print {line!r}")

    def check_redis_port(self):
        """Every worker's banner names the Redis of this run, and that Redis is the one listening."""
        for worker in WORKERS:
            banner = [line for line in self.lines(worker) if ".> transport:" in line]
            if not banner or not re.search(rf"redis://\S*127\.0\.0\.1:{self.redis_port}/", banner[0]):
                raise SmokeFailure(f"the {worker} worker does not use Redis on port {self.redis_port}: {banner}")
        if not any(f"port={self.redis_port}." in line for line in self.lines("redis")):
            raise SmokeFailure(f"make run's redis-server did not start on port {self.redis_port}")
        if not redis_ping(self.redis_port):
            raise SmokeFailure(f"nothing answers PING on port {self.redis_port}")

    def check_torch_threads(self):
        """make run divides the cores between its three workers: each process that runs jobs says
        how many threads torch has there (translator/worker/threads.py)."""
        expected = max(1, len(os.sched_getaffinity(0)) // 3)

        def said(worker):
            return [int(m.group(1)) for m in (re.search(r"torch threads in this .*?: (\d+) intra-op", line)
                                              for line in self.lines(worker)) if m]

        wait_for(lambda: all(said(worker) for worker in WORKERS), 30, "each worker to say its torch threads")
        for worker in WORKERS:
            if any(count != expected for count in said(worker)):
                raise SmokeFailure(f"the {worker} worker's torch threads are {said(worker)}, not {expected} (cores / 3)")

    def check_cache_uses_its_redis(self):
        """The API's upload throttle counts in the web process's cache: it must be in this Redis."""
        keys = self.venv_python(
            "import redis, sys; print(len(redis.Redis(port=int(sys.argv[1])).keys('restyle-cache:*')))",
            self.redis_port,
        )
        if int(keys) == 0:
            raise SmokeFailure(f"the web process's cache wrote nothing to Redis on port {self.redis_port}")

    def print_log(self):
        for log in (self.log, self.var_dir / "make-install.log"):
            print_tail(log)

    # --- the processes -----------------------------------------------------------------------

    def processes(self):
        """(pid, parent pid, argv) of every live process of this run: those whose environment
        names this run's var folder, and the other members of sessions that such a process leads
        (honcho starts each Procfile process as the leader of a new session). redis-server needs
        the second: it writes its title over its environment."""
        mark = f"RESTYLE_VAR_DIR={self.var_dir}".encode()
        table = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                # stat: "pid (comm) state ppid pgrp session ..."; comm may hold spaces or ")".
                state, ppid, _, session = (proc / "stat").read_text().rsplit(")", 1)[1].split()[:4]
                marked = mark in (proc / "environ").read_bytes().split(b"\0")
                argv = (proc / "cmdline").read_bytes().rstrip(b"\0").decode(errors="replace").split("\0")
            except OSError:  # it ended meanwhile
                continue
            if state != "Z":
                table.append((int(proc.name), int(ppid), int(session), marked, argv))
        # A session counts only when a process of this run leads it; remembered, because its
        # leader may die before the rest (that is what is looked for at the end).
        self.sessions |= {pid for pid, _, session, marked, _ in table if marked and session == pid}
        ours = {pid for pid, _, session, marked, _ in table if marked or session in self.sessions}
        ours -= {1, os.getpid(), os.getppid()}
        return [(pid, ppid, argv) for pid, ppid, _, _, argv in table if pid in ours]

    def worker_main_pid(self, worker):
        """The Celery main process (its parent is respawn.sh; the pool's children are below it)."""
        procs = self.processes()
        respawns = {pid for pid, _, argv in procs if any(a.endswith("respawn.sh") for a in argv)}
        return next((pid for pid, ppid, argv in procs
                     if ppid in respawns and "worker" in argv and f"{worker}@%h" in argv), None)

    def redis_pid(self):
        title = f"127.0.0.1:{self.redis_port}"
        return next((pid for pid, _, argv in self.processes() if "redis-server" in argv[0] and title in argv[0]), None)

    def kill_worker_and_redis(self):
        worker, redis_server = self.worker_main_pid("conversions"), self.redis_pid()
        if not (worker and redis_server):
            raise SmokeFailure(f"could not find the conversions worker ({worker}) or redis-server ({redis_server})")
        ready_before = self.ready_count("conversions")
        os.kill(worker, signal.SIGKILL)
        os.kill(redis_server, signal.SIGKILL)
        killed = time.monotonic()

        def redis_back():
            self.check_running()
            pid = self.redis_pid()
            return pid not in (None, redis_server) and redis_ping(self.redis_port)

        wait_for(redis_back, 10, "redis-server to be started again")
        print(f"smoke: redis-server answers again {time.monotonic() - killed:.1f} s after kill -9")

        def worker_back():
            self.check_running()
            return self.ready_count("conversions") > ready_before

        wait_for(worker_back, 60, "the conversions worker to be started again and ready")
        print(f"smoke: the conversions worker is ready again {time.monotonic() - killed:.1f} s after kill -9")
        for process, name in (("conversions", "celery"), ("redis", "redis-server")):
            if not any(f"respawn: {name} exited with status 137" in line for line in self.lines(process)):
                raise SmokeFailure(f"respawn.sh did not report the death of {name}")

    # --- the API, as a phone app uses it -----------------------------------------------------

    def convert(self, photo, timeout=180):
        if self.token is None:
            password = (self.var_dir / "demo_password").read_text().strip()
            form = urllib.parse.urlencode({"username": "demo", "password": password}).encode()
            self.token = self.api("POST", "/api/v1/auth/token/", form,
                                  {"Content-Type": "application/x-www-form-urlencoded"})["token"]
        model = next((m for m in self.api("GET", "/api/v1/models/") if m["slug"] == MODEL), None)
        if model is None:
            raise SmokeFailure(f"the '{MODEL}' demo model is not offered by /api/v1/models/")
        body, content_type = multipart({"model": str(model["id"])}, {"image": photo})
        job = self.api("POST", "/api/v1/conversions/", body, {"Content-Type": content_type}, expect=202)

        deadline = time.monotonic() + timeout
        while job["status"] not in ("succeeded", "failed", "cancelled"):
            if time.monotonic() > deadline:
                raise SmokeFailure(f"conversion {job['id']} still {job['status']} after {timeout} s")
            time.sleep(0.3)
            job = self.api("GET", job["url"])
        if job["status"] != "succeeded":
            raise SmokeFailure(f"conversion {job['id']} {job['status']}: {job['error']}")

        result = self.var_dir / f"result-{job['id']}"
        result.write_bytes(self.request("GET", job["result_url"], headers={"Accept": "image/*"}))
        sizes = self.venv_python(
            "import sys; from PIL import Image\n"
            "def size(path):\n"
            "    with Image.open(path) as image:\n"
            "        image.load()  # decodes every pixel: a truncated file fails here\n"
            "        return image.size\n"
            "print(size(sys.argv[1]) == size(sys.argv[2]), size(sys.argv[1]), size(sys.argv[2]))",
            result, photo,
        )
        if not sizes.startswith("True"):
            raise SmokeFailure(f"the result is not an image of the photo's size (result, photo): {sizes}")
        print(f"smoke: conversion {job['id']} succeeded, result {sizes.split(' ', 1)[1]}")

    def api(self, method, path, body=None, headers=None, expect=200):
        return json.loads(self.request(method, path, body, headers, expect))

    def request(self, method, path, body=None, headers=None, expect=200):
        url = path if path.startswith("http") else self.url + path
        headers = {"Accept": "application/json", **(headers or {})}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        try:
            with urllib.request.urlopen(urllib.request.Request(url, body, headers, method=method), timeout=30) as r:
                status, content = r.status, r.read()
        except urllib.error.HTTPError as error:
            status, content = error.code, error.read()
        except OSError as error:
            raise SmokeFailure(f"{method} {url}: {error}") from None
        if status != expect:
            raise SmokeFailure(f"{method} {url}: {status} (expected {expect}): {content[:500]!r}")
        return content

    def web_answers(self):
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def venv_python(self, code, *args):
        done = subprocess.run([self.venv / "bin" / "python", "-c", code, *map(str, args)],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise SmokeFailure(f"check in the runtime virtualenv failed:\n{done.stderr}")
        return done.stdout.strip()


def multipart(fields, files):
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    for name, path in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{path.name}"\r\n'
                     f"Content-Type: {mimetypes.guess_type(path.name)[0]}\r\n\r\n".encode() + path.read_bytes() + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def redis_ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def wait_for(check, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise SmokeFailure(f"timed out after {timeout} s waiting for {what}")


@contextmanager
def timed(what, timings):
    print(f"smoke: {what} ...", flush=True)
    started = time.monotonic()
    yield
    timings.append((what, time.monotonic() - started))
    print(f"smoke: {what}: {timings[-1][1]:.1f} s", flush=True)


def print_tail(log):
    if log.exists():
        lines = log.read_text(errors="replace").splitlines()
        print(f"\n----- {log.name} (last {min(len(lines), LOG_TAIL)} of {len(lines)} lines) -----", file=sys.stderr)
        print("\n".join(lines[-LOG_TAIL:]), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
