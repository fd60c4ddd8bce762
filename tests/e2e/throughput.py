"""Throughput: conversions per minute with 1 and with 2 conversion worker processes, through the real stack.

    .venv/bin/python -m tests.e2e.throughput --photos 24 --size 512
    .venv/bin/python -m tests.pgcluster -- .venv/bin/python -m tests.e2e.throughput   (on PostgreSQL)

It builds a site of its own in a temporary folder (the database DATABASE_URL names, else SQLite
there; the media folder; a redis-server; gunicorn) with the demo 'wave' fast-style network, then
for each setting of torch threads per worker and each worker count: starts that many `celery
worker` processes (prefork, concurrency 1, the conversions queue), converts one photo per worker
untimed (each worker loads the network once, and the first run of a network is slower), uploads
`--photos` photos through the REST API as fast as it accepts them and waits for every job to
end. A measurement lasts from the first upload to the last job's finished_at; conversions/min is
the succeeded jobs over that time, latency a job's finished_at minus its created_at (queueing
included). The photos are real (the content images of the shared data), cropped and scaled to
`--size` pixels square, in turn.

Torch threads: "default" is torch's own choice, one per core; with as many workers as cores that
oversubscribes the cores. A number sets OMP_NUM_THREADS in each worker, which torch reads when it
starts. Not a test: it prints figures (tests/e2e/test_throughput.py runs it at its smallest).
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageOps

from mlcore.bench.harness import (
    Column,
    Report,
    Table,
    add_output_options,
    machine,
    ratio,
)

from .stack import (
    REPO,
    Stack,
    api_session,
    cpu_seconds,
    free_port,
    own_database,
    percentile,
    prepare_site,
)

FINISHED = ("succeeded", "failed", "cancelled")
USER = ("throughput", "throughput-password-1")


def photos(data_dir, size):
    """Each content image of the shared data as a `size` x `size` JPEG (centre crop, scaled)."""
    found = []
    for path in sorted((Path(data_dir) / "images" / "content").iterdir()):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            continue
        with Image.open(path) as image:
            square = ImageOps.fit(image.convert("RGB"), (size, size), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        square.save(buf, "JPEG", quality=90)
        found.append((f"{path.stem}.jpg", buf.getvalue()))
    if not found:
        raise SystemExit(f"no content images in {Path(data_dir) / 'images' / 'content'}")
    return found


def upload(http, base, model_id, photo):
    name, data = photo
    response = http.post(f"{base}/conversions/", files={"image": (name, data)}, data={"model": model_id}, timeout=60)
    if response.status_code != 202:
        raise SystemExit(f"upload refused: {response.status_code} {response.text[:300]}")
    return response.json()["id"]


def wait_all(http, base, ids, timeout):
    """Every job's final state, polling the oldest unfinished one (few requests: the web process
    shares the cores with the workers)."""
    ended = {}
    deadline = time.monotonic() + timeout
    pending = list(ids)
    while pending:
        if time.monotonic() > deadline:
            raise SystemExit(f"{len(pending)} of {len(ids)} jobs had not ended after {timeout:g} s")
        job = http.get(f"{base}/conversions/{pending[0]}/", timeout=30).json()
        if job["status"] in FINISHED:
            ended[pending.pop(0)] = job
            continue
        time.sleep(0.25)
    return ended


def stamp(text):
    return datetime.fromisoformat(text).timestamp()


def measure(stack, http, base, model_id, *, workers, threads, pictures, count, timeout):
    extra = {} if threads == "default" else {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    # Started together, then waited for: each start is mostly importing torch.
    processes = [stack.start_worker(f"bench{workers}w{threads}t{i}", "conversions", extra_env=extra, wait=False)
                 for i in range(workers)]
    try:
        for process in processes:
            stack.wait_ready(process)
        warm = [upload(http, base, model_id, pictures[i % len(pictures)]) for i in range(workers)]
        warmed = wait_all(http, base, warm, timeout)
        load_before = os.getloadavg()[0]
        cpu_before = sum(cpu_seconds(p.pid) for p in processes)
        started = time.time()
        ids = [upload(http, base, model_id, pictures[i % len(pictures)]) for i in range(count)]
        uploaded = time.time() - started
        jobs = wait_all(http, base, ids, timeout).values()
        cpu = sum(cpu_seconds(p.pid) for p in processes) - cpu_before
    finally:
        for process in processes:
            process.stop()
    done = [job for job in jobs if job["status"] == "succeeded"]
    if not done:
        raise SystemExit(f"no conversion succeeded: {[job['error'] for job in jobs][:3]}\n{stack.logs()}")
    elapsed = max(stamp(job["finished_at"]) for job in done) - started
    latencies = [stamp(job["finished_at"]) - stamp(job["created_at"]) for job in done]
    return {
        "workers": workers, "threads": threads, "photos": count, "succeeded": len(done),
        "failed": sum(job["status"] != "succeeded" for job in jobs),
        "seconds": elapsed, "per_minute": 60 * len(done) / elapsed, "upload_seconds": uploaded,
        "p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95),
        "run_p50": percentile([job["run_seconds"] for job in done if job["run_seconds"]], 0.5),
        # Which workers the jobs reached: each worker should have taken a share.
        "jobs_per_worker": sorted(sum(job["worker"] == p.hostname for job in done) for p in processes),
        "warm_up_workers": len({job["worker"] for job in warmed.values()}),
        # The workers' own CPU time: what a conversion costs, whatever else the machine runs.
        "cpu_seconds": round(cpu, 2), "cpu_per_conversion": cpu / len(done),
        "load_average": round(max(load_before, os.getloadavg()[0]), 2),
    }


def seconds(x):
    return f"{x:.2f}"


TABLE = Table((
    Column("threads", "torch threads/worker", 20, left=True),
    Column("workers", "workers", 7),
    Column("succeeded", "done", 5, group="conversions"),
    Column("seconds", "seconds", 8, seconds, group="conversions"),
    Column("per_minute", "per min", 8, lambda x: f"{x:.1f}", group="conversions"),
    Column("ratio", "vs 1 worker", 11, ratio, group="conversions"),
    Column("p50", "p50 s", 7, seconds, group="latency"),
    Column("p95", "p95 s", 7, seconds, group="latency"),
    Column("run_p50", "run p50 s", 9, seconds, group="latency"),
    Column("cpu_per_conversion", "worker CPU s/conv", 16, seconds),
    Column("jobs_per_worker", "jobs/worker", 12, lambda x: "+".join(map(str, x))),
))


def threads_setting(text):
    return "default" if text == "default" else int(text)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.throughput", description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=24, help="photos per measurement")
    parser.add_argument("--size", type=int, default=512, help="each photo's side in pixels")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="worker counts to measure; the first is the baseline of the ratio")
    parser.add_argument("--threads", type=threads_setting, nargs="+", default=[1, "default"],
                        help="torch threads per worker: a number, or 'default' (torch's: one per core)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds a measurement may take")
    parser.add_argument("--data-dir", default=os.environ.get("RESTYLE_DATA_DIR", str(REPO.parent / "shared" / "data")))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, database)")
    add_output_options(parser)
    args = parser.parse_args(argv)

    pictures = photos(args.data_dir, args.size)
    workdir = Path(tempfile.mkdtemp(prefix="restyle-throughput-"))
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "RESTYLE_VAR_DIR": str(workdir / "var"),
        "RESTYLE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "RESTYLE_UPLOAD_RATE": "100000/hour",
    }
    database = "PostgreSQL (DATABASE_URL)" if (os.environ.get("RESTYLE_DATABASE_URL") or os.environ.get("DATABASE_URL")) else "SQLite"
    drop_database = own_database(env, "throughput")
    prepare_site(env, data_dir=args.data_dir, users=[USER])
    stack = Stack(workdir, env)
    try:
        stack.start_redis()
        stack.start_web()
        base = f"{stack.web_url}/api/v1"
        http = api_session(base, *USER)
        model_id = next(m["id"] for m in http.get(f"{base}/models/").json() if m["slug"] == "wave")
        inputs = {"model": "wave (fast-style, ml5.js)", "photo_size": args.size, "photos": args.photos,
                  "images": [name for name, _ in pictures], "workers": args.workers, "threads": args.threads,
                  "pool": "prefork", "concurrency": 1, "database": database, "broker": "redis",
                  "web": "gunicorn, 2 processes x 4 threads"}
        report = Report(
            case="throughput", json_to=args.json, machine=machine(), inputs=inputs,
            inputs_line=(f"inputs: model wave (fast-style), {args.photos} photos of {args.size}x{args.size} "
                         f"({len(pictures)} content images in turn) per measurement; conversion workers "
                         f"{' and '.join(map(str, args.workers))}, each prefork with concurrency 1; torch threads per "
                         f"worker {' and '.join(map(str, args.threads))}; {database}, redis, gunicorn"),
            table=TABLE,
            notes=[("conversions/min: succeeded jobs over the time from the first upload to the last finished_at; "
                    "latency: finished_at - created_at (queueing included); run: the worker's own run_seconds; "
                    "worker CPU: user + system seconds of the workers' processes over the measurement, per conversion"),
                   "each worker converted one photo untimed first (network loaded, first run done)"],
        )
        for threads in args.threads:
            baseline = None
            for workers in args.workers:
                row = measure(stack, http, base, model_id, workers=workers, threads=threads, pictures=pictures,
                              count=args.photos, timeout=args.timeout)
                baseline = baseline or row["per_minute"]
                row["ratio"] = row["per_minute"] / baseline
                report.add(row)
        cores = os.cpu_count()
        return report.finish({"cores": f"{cores} on this machine: the web process and redis share them with the workers"})
    finally:
        stack.stop()
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            drop_database()


if __name__ == "__main__":
    raise SystemExit(main())
