"""What a user waits for: upload to result for a 12 MP phone photo, at each output size, through the real site.

    .venv/bin/python -m tests.e2e.latency --photos 5
    .venv/bin/python -m tests.e2e.latency --photos 5 --json latency.json

It builds a site of its own in a temporary folder (SQLite there, or the database DATABASE_URL
names; the media folder; a redis-server; gunicorn, 2 processes x 4 threads) with the demo 'wave'
fast-style network and one `celery worker` on the conversions queue (prefork, concurrency 1),
converts one small photo untimed (the worker loads the network once; that load is reported
apart), then uploads each phone photo through the REST API once per output size, the sizes in
turn (so a busy spell of the machine slows each alike), waiting for each job to end before the
next upload: one person's photo on an idle site.

The photos (tests/e2e/phone_photo.py): the shared data's content images in turn, each scaled to
fill a 4032x3024 frame with sensor noise, JPEG quality 92, 4:2:0, EXIF naming a camera and
Orientation 6 (a phone held upright): what a phone uploads.

Phases of each job, from the API's record of it (created_at, started_at, finished_at,
load_seconds, run_seconds) and this client's clock (the same machine's):
- upload: the POST, from its first byte to the 202 (the upload is checked, turned upright,
  re-encoded and stored, then the job is queued);
- queue: started_at - created_at (the broker's message reaching the worker, the claim);
- load: the network loaded (0 once the worker has it);
- run: scaling the photo to the output size and running the network (the worker's run_seconds);
- read+store: the rest of the worker's time, finished_at - started_at - load - run (fetching and
  decoding the stored photo, encoding the result JPEG and its thumbnail, storing them);
- total: upload start to finished_at, the result stored: what the user waits for, less the
  moment their page next asks (once a second in the browser).
Beside them, the worker's CPU seconds per job (user + system of its processes, from /proc): on
a machine busy with other work the wall-clock phases stretch, the CPU seconds much less.
The last size named (default: original) is the baseline; `vs` is its median total over this
one's. Not a test: it prints figures (tests/e2e/test_latency.py runs it at its smallest).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mlcore.bench.harness import (
    Column,
    Report,
    Table,
    add_output_options,
    machine,
    ratio,
)

from .phone_photo import HEIGHT, WIDTH, phone_photo
from .stack import REPO, Stack, api_session, cpu_seconds, free_port, own_database, prepare_site
from .throughput import stamp, wait_all

USER = ("latency", "latency-password-1")
SIZES = ("512", "1024", "2048", "original")


def phone_photos(data_dir, count, size):
    """`count` phone photos, of the content images in turn (each with its own noise)."""
    sources = sorted(p for p in (Path(data_dir) / "images" / "content").iterdir()
                     if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not sources:
        raise SystemExit(f"no content images in {Path(data_dir) / 'images' / 'content'}")
    return [(f"IMG_{i + 1:04d}.JPG", phone_photo(sources[i % len(sources)], size=size, seed=i), sources[i % len(sources)].name)
            for i in range(count)]


def convert_one(http, base, model_id, photo, output_size, timeout, worker):
    """Upload `photo` with `output_size`, wait for its job to end; its phases in seconds, and the
    CPU seconds the worker spent meanwhile (what the job cost, however busy the machine is)."""
    name, data, _ = photo
    cpu_before = cpu_seconds(worker.pid)
    started = time.time()
    response = http.post(f"{base}/conversions/", files={"image": (name, data, "image/jpeg")},
                         data={"model": model_id, "output_size": output_size}, timeout=120)
    uploaded = time.time()
    if response.status_code != 202:
        raise SystemExit(f"upload refused: {response.status_code} {response.text[:300]}")
    job_id = response.json()["id"]
    job = wait_all(http, base, [job_id], timeout)[job_id]
    cpu = cpu_seconds(worker.pid) - cpu_before
    if job["status"] != "succeeded":
        raise SystemExit(f"the {output_size} conversion of {name} {job['status']}: {job['error']}")
    created, began, finished = (stamp(job[key]) for key in ("created_at", "started_at", "finished_at"))
    load, run = job["load_seconds"] or 0.0, job["run_seconds"]
    return {
        "upload": uploaded - started, "queue": began - created, "load": load, "run": run,
        "store": finished - began - load - run, "total": finished - started,
        "worker_cpu": cpu, "result": f"{job['result_width']}x{job['result_height']}", "label": job["label"],
    }


def seconds(x):
    return f"{x:.2f}"


PHASES = ("upload", "queue", "load", "run", "store", "total", "worker_cpu")
TABLE = Table((
    Column("output_size", "output size", 11, left=True),
    Column("result", "result", 9),
    Column("photos", "photos", 6),
    *(Column(phase, "read+store" if phase == "store" else phase, 10 if phase == "store" else 7, seconds,
             group="median seconds") for phase in PHASES[:-1]),
    Column("total_min", "min", 7, seconds, group="total"),
    Column("total_max", "max", 7, seconds, group="total"),
    Column("ratio", "vs baseline", 11, ratio),
    Column("worker_cpu", "worker CPU s", 12, seconds),
    Column("cpu_ratio", "vs baseline", 11, ratio),
))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.latency", description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=5, help="phone photos converted at each output size")
    parser.add_argument("--sizes", nargs="+", choices=SIZES, default=["1024", "original"],
                        help="output sizes to measure; the last is the baseline of the ratio (default: 1024 original)")
    parser.add_argument("--width", type=int, default=WIDTH, help="the photo's width as stored (default 4032)")
    parser.add_argument("--height", type=int, default=HEIGHT, help="its height as stored (default 3024)")
    make_run_threads = max(1, (os.cpu_count() or 1) // 3)
    parser.add_argument("--threads", type=int, default=make_run_threads,
                        help="torch threads of the conversion worker (default: what `make run` gives it, the cores "
                        f"divided by its three workers: {make_run_threads} here)")
    parser.add_argument("--memory-mb", type=float,
                        help="RESTYLE_CONVERSION_MEMORY_MB of the worker (default: the site's, 2048), which "
                        "shrinks a photo whose conversion would need more (the job's label says so)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds one conversion may take")
    parser.add_argument("--data-dir", default=os.environ.get("RESTYLE_DATA_DIR", str(REPO.parent / "shared" / "data")))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, database)")
    add_output_options(parser)
    args = parser.parse_args(argv)
    if args.photos < 1:
        parser.error("--photos must be at least 1")

    pictures = phone_photos(args.data_dir, args.photos, (args.width, args.height))
    workdir = Path(tempfile.mkdtemp(prefix="restyle-latency-"))
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "RESTYLE_VAR_DIR": str(workdir / "var"),
        "RESTYLE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "RESTYLE_UPLOAD_RATE": "100000/hour",
    }
    database = "PostgreSQL (DATABASE_URL)" if (os.environ.get("RESTYLE_DATABASE_URL") or os.environ.get("DATABASE_URL")) else "SQLite"
    # As site/Procfile starts the conversions worker.
    worker_env = {name: str(args.threads) for name in ("RESTYLE_WORKER_TORCH_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    if args.memory_mb:
        worker_env["RESTYLE_CONVERSION_MEMORY_MB"] = str(args.memory_mb)
    drop_database = own_database(env, "latency")
    prepare_site(env, data_dir=args.data_dir, users=[USER])
    stack = Stack(workdir, env)
    try:
        stack.start_redis()
        stack.start_web()
        worker = stack.start_worker("latency", "conversions", extra_env=worker_env)
        base = f"{stack.web_url}/api/v1"
        http = api_session(base, *USER)
        model_id = next(m["id"] for m in http.get(f"{base}/models/").json() if m["slug"] == "wave")
        megabytes = [len(data) / 2**20 for _, data, _ in pictures]
        inputs = {
            "model": "wave (fast-style, ml5.js)", "photos": args.photos, "stored_size": f"{args.width}x{args.height}",
            "orientation": 6, "jpeg_quality": 92, "megabytes": [round(mb, 2) for mb in megabytes],
            "sources": [source for _, _, source in pictures], "output_sizes": args.sizes, "baseline": args.sizes[-1],
            "worker": "1 prefork worker, concurrency 1", "torch_threads": args.threads, "database": database,
            "broker": "redis", "web": "gunicorn, 2 processes x 4 threads",
            "conversion_memory_mb": args.memory_mb or "the site's default (2048)",
        }
        report = Report(
            case="latency", json_to=args.json, machine=machine(), inputs=inputs,
            inputs_line=(f"inputs: {args.photos} phone photo(s) of {args.width}x{args.height} (EXIF orientation 6: "
                         f"{args.height}x{args.width} upright), JPEG 92, {min(megabytes):.1f}-{max(megabytes):.1f} MB, "
                         f"from {', '.join(sorted(set(inputs['sources'])))}; model wave (fast-style); output sizes "
                         f"{' and '.join(args.sizes)} in turn, one job at a time; 1 conversion worker (prefork, "
                         f"concurrency 1, torch threads {args.threads}, conversion memory "
                         f"{args.memory_mb or 2048:g} MB); {database}, redis, gunicorn"),
            table=TABLE,
            notes=["total: upload start to the result stored (finished_at); phases as in the script's docstring; "
                   f"baseline: {args.sizes[-1]}, vs = its median total / this one's; worker CPU s: user + system "
                   "seconds of the worker's processes per job (median), which a busy machine changes less"],
        )
        # The network loaded, and its first run done, before anything is timed.
        warm = phone_photos(args.data_dir, 1, (640, 480))[0]
        warm_up = convert_one(http, base, model_id, warm, args.sizes[0], args.timeout, worker)
        runs = {size: [] for size in args.sizes}
        for photo in pictures:
            for size in args.sizes:
                runs[size].append(convert_one(http, base, model_id, photo, size, args.timeout, worker))
        rows = []
        for size in args.sizes:
            jobs = runs[size]
            row = {"output_size": size, "photos": len(jobs), "result": "/".join(sorted({j["result"] for j in jobs})),
                   **{phase: statistics.median(j[phase] for j in jobs) for phase in PHASES},
                   "total_min": min(j["total"] for j in jobs), "total_max": max(j["total"] for j in jobs),
                   "labels": sorted({j["label"] for j in jobs if j["label"]}), "jobs": jobs,
                   "load_average": round(os.getloadavg()[0], 2)}
            rows.append(row)
        baseline = rows[-1]
        for row in rows:
            row["ratio"] = baseline["total"] / row["total"]
            row["cpu_ratio"] = baseline["worker_cpu"] / row["worker_cpu"]
            report.add(row)
        footnotes = {
            "first conversion": (f"the worker's first job loaded the network in {warm_up['load']:.2f} s "
                                 "(640x480 photo, untimed); every timed job found it loaded"),
            "cores": f"{os.cpu_count()} on this machine, shared by gunicorn, redis and the worker",
        }
        for row in rows:
            if row["labels"]:
                footnotes[f"{row['output_size']} label"] = "; ".join(row["labels"])
        code = report.finish(footnotes)
        worker.stop()
        return code
    finally:
        stack.stop()
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            drop_database()


if __name__ == "__main__":
    raise SystemExit(main())
