"""Soak: minutes of mixed load on a real site while its workers are killed and Redis restarts.

    .venv/bin/python -m tests.e2e.soak --minutes 3

It builds a site of its own in a temporary folder (SQLite, media, a Redis with an append-only
file as `make run` has, two conversion workers, gunicorn) and drives it over HTTP from several
client threads: gallery reads, uploads, status polls. Every `--kill-every` seconds it kill -9s a
conversion worker (its pool child and its main process in turn) and starts a new one after a
second, as a supervisor would; half-way through it kill -9s Redis and starts it again. When the
load stops it waits for the queue to drain, then counts, from the database and the stored files:
accepted, completed, failed (with their reasons), cancelled, lost (accepted but never ended) and
duplicated (more than one result) jobs, and prints p50/p99 latency per request kind.

Not a test: it prints figures. The delivery settings are the production defaults unless given.
"""
from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import signal
import sqlite3
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import requests
from PIL import Image

from .stack import (
    REPO,
    Stack,
    api_session,
    free_port,
    own_database,
    percentile,
    prepare_site,
    wait_for,
)

FINISHED = ("succeeded", "failed", "cancelled")


def photo_bytes(rng):
    """A JPEG photo-like picture of 0.1 to 1 megapixel (a tint over noise)."""
    width = rng.choice([400, 640, 800, 1024, 1200])
    height = rng.choice([300, 480, 600, 768, 800])
    image = Image.effect_noise((width, height), rng.uniform(20, 60)).convert("RGB")
    tint = Image.new("RGB", (width, height), tuple(rng.randrange(256) for _ in range(3)))
    buf = io.BytesIO()
    Image.blend(image, tint, 0.6).save(buf, "JPEG", quality=88)
    return buf.getvalue()


class Load:
    """Client threads: each logs in as its own user and loops over reads, uploads and polls."""

    def __init__(self, base, users, upload_interval, seed=0):
        self.base = base
        self.users = users
        self.upload_interval = upload_interval
        self.latencies = defaultdict(list)
        self.statuses = Counter()
        self.accepted = []
        self.refused = Counter()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.seed = seed
        self._next_upload = time.monotonic()

    def _timed(self, kind, call):
        started = time.monotonic()
        try:
            response = call()
            code = response.status_code
        except requests.RequestException as exc:
            response, code = None, type(exc).__name__
        with self.lock:
            self.latencies[kind].append(time.monotonic() - started)
            self.statuses[(kind, code)] += 1
        return response

    def _upload_due(self):
        with self.lock:
            now = time.monotonic()
            if now < self._next_upload:
                return False
            self._next_upload = now + self.upload_interval
            return True

    def client(self, index, model_id):
        rng = random.Random(self.seed + index)
        http = api_session(self.base, *self.users[index])
        mine = []
        while not self.stop.is_set():
            if self._upload_due():
                response = self._timed("upload", lambda: http.post(
                    f"{self.base}/conversions/", files={"image": ("photo.jpg", photo_bytes(rng))},
                    data={"model": model_id}, timeout=30))
                if response is not None and response.status_code == 202:
                    with self.lock:
                        self.accepted.append(response.json()["id"])
                    mine.append(response.json()["id"])
                elif response is not None:
                    self.refused[response.status_code] += 1
            elif mine and rng.random() < 0.6:
                job = rng.choice(mine[-5:])
                self._timed("poll", lambda: http.get(f"{self.base}/conversions/{job}/", timeout=30))
            else:
                self._timed("gallery", lambda: http.get(f"{self.base}/conversions/", timeout=30))
            time.sleep(rng.uniform(0.05, 0.2))


def running_workers(db):
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("SELECT worker FROM translator_conversion WHERE status = 'running'")}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="conversion worker processes")
    parser.add_argument("--kill-every", type=float, default=60, help="seconds between worker kills")
    parser.add_argument("--upload-interval", type=float, default=2, help="seconds between uploads (all clients)")
    parser.add_argument("--drain-timeout", type=float, default=900)
    parser.add_argument("--data-dir", default=os.environ.get("RESTYLE_DATA_DIR", str(REPO.parent / "shared" / "data")))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, database)")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="restyle-soak-"))
    var = workdir / "var"
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "RESTYLE_VAR_DIR": str(var),
        "RESTYLE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "RESTYLE_UPLOAD_RATE": "100000/hour",
    }
    users = [(f"soak{i}", f"soak-password-{i}-x") for i in range(args.clients)]
    drop_database = own_database(env, "soak")
    prepare_site(env, data_dir=args.data_dir, users=users)

    stack = Stack(workdir, env)
    stack.start_redis(persist=True)
    workers = [stack.start_worker(f"conversions{i}", "conversions") for i in range(args.workers)]
    stack.start_web()
    base = f"{stack.web_url}/api/v1"
    model_id = api_session(base, *users[0]).get(f"{base}/models/").json()[0]["id"]

    print(f"soak: {args.minutes:g} min, {args.clients} clients, {args.workers} conversion workers, an upload every "
          f"{args.upload_interval:g} s, a worker killed every {args.kill_every:g} s, Redis restarted once; in {workdir}")
    load = Load(base, users, args.upload_interval)
    threads = [threading.Thread(target=load.client, args=(i, model_id), daemon=True) for i in range(args.clients)]
    for thread in threads:
        thread.start()

    faults = []
    started = time.monotonic()
    end = started + args.minutes * 60
    next_kill = started + args.kill_every
    redis_restart_at = started + args.minutes * 30
    kills = 0
    while time.monotonic() < end:
        now = time.monotonic()
        if now >= next_kill:
            # A worker in the middle of a job, when there is one: that is the fault that matters.
            busy = running_workers(var / "db.sqlite3")
            victim = next((w for w in workers if w.hostname in busy), workers[kills % len(workers)])
            children = stack.pool_children(victim)
            if kills % 2 == 0 and children:
                os.kill(children[0], signal.SIGKILL)
                faults.append(f"{now - started:5.0f} s  kill -9 pool child of {victim.name}"
                              f"{' mid-job' if victim.hostname in busy else ' (idle)'}")
            else:
                victim.signal(signal.SIGKILL)
                victim.popen.wait(10)
                time.sleep(1)
                workers[workers.index(victim)] = stack.start_worker(f"{victim.name.split('-')[0]}-{kills}", "conversions")
                faults.append(f"{now - started:5.0f} s  kill -9 main process of {victim.name}"
                              f"{' mid-job' if victim.hostname in busy else ' (idle)'}; a new one started")
            kills += 1
            next_kill += args.kill_every
        if redis_restart_at and now >= redis_restart_at:
            stack.kill_redis()
            time.sleep(1)
            stack.start_redis(persist=True)
            faults.append(f"{now - started:5.0f} s  kill -9 redis-server; started again")
            redis_restart_at = None
        time.sleep(0.2)
    load.stop.set()
    for thread in threads:
        thread.join(30)

    drain_started = time.monotonic()
    db = var / "db.sqlite3"

    def states():
        with sqlite3.connect(db) as conn:
            return dict(conn.execute("SELECT id, status FROM translator_conversion").fetchall())

    accepted = {job.replace("-", "") for job in load.accepted}
    try:
        wait_for(lambda: all(states().get(job) in FINISHED for job in accepted), args.drain_timeout,
                 "the queue to drain", interval=1)
        drained = time.monotonic() - drain_started
    except AssertionError:
        drained = None
    final = states()
    with sqlite3.connect(db) as conn:
        reasons = Counter(row[0][:90] for row in conn.execute(
            "SELECT error FROM translator_conversion WHERE status = 'failed'").fetchall())
        attempts = Counter(row[0] for row in conn.execute("SELECT attempts FROM translator_conversion").fetchall())
    results = Counter()
    for path in (var / "media" / "results").rglob("*-result.*"):
        results[path.name.split("-", 1)[0]] += 1
    finished = Counter(final.get(job, "missing") for job in accepted)
    lost = sorted(job for job in accepted if final.get(job) not in FINISHED)
    duplicated = sorted(job for job, n in results.items() if n > 1)
    done_lines = Counter()
    for log in workdir.glob("conversions*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if " done in " in line and "conversion " in line:
                done_lines[line.split("conversion ", 1)[1].split()[0].replace("-", "")] += 1
    ran_twice = sorted(job for job, n in done_lines.items() if n > 1)

    print()
    print("faults:")
    for fault in faults:
        print(f"  {fault}")
    print()
    print(f"accepted   {len(accepted)}")
    print(f"completed  {finished['succeeded']}")
    print(f"failed     {finished['failed']}" + "".join(f"\n  {n} x {reason}" for reason, n in reasons.items()))
    print(f"cancelled  {finished['cancelled']}")
    print(f"lost       {len(lost)}" + (f"  {lost[:5]}" if lost else ""))
    print(f"duplicated {len(duplicated)} (jobs with more than one stored result); {len(ran_twice)} finished twice in the logs")
    print("attempts   " + ", ".join(f"{n} job(s) took {k}" for k, n in sorted(attempts.items())))
    print(f"refused uploads {dict(load.refused) or 'none'}")
    print(f"queue drained {drained:.1f} s after the load stopped" if drained is not None else
          f"queue NOT drained after {args.drain_timeout:g} s")
    print()
    print(f"{'request':<8} {'count':>6} {'p50 ms':>8} {'p99 ms':>8}  status codes")
    for kind in ("upload", "poll", "gallery"):
        values = load.latencies[kind]
        codes = {code: n for (k, code), n in load.statuses.items() if k == kind}
        print(f"{kind:<8} {len(values):>6} {percentile(values, 0.5) * 1000:>8.0f} {percentile(values, 0.99) * 1000:>8.0f}  {codes}")
    stack.stop()
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
        drop_database()
    return 1 if lost or duplicated or ran_twice else 0


if __name__ == "__main__":
    raise SystemExit(main())
