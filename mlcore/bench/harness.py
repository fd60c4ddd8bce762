"""The one harness every ``python -m mlcore.bench`` case runs on.

What every case gets from here:
- each measurement in a child process of its own (``python -m mlcore.bench <case> --child JOB``
  prints its figures as one JSON line), so its peak memory is its own: ``peak_bytes`` is
  ``torch.cuda.max_memory_allocated`` on CUDA, else the child's VmHWM (``peak_rss``), reset
  when the measurement starts;
- the machine line, the inputs line and a table with the baseline, the measured thing and their
  ratio side by side, printed row by row as they come (``Report``); ``--json`` prints every figure
  as one JSON object instead (``--json FILE``: the table, and the JSON in FILE);
- smooth random pictures for synthetic datasets (``synthetic_image``, ``synthetic_images``).

``TrainingCase`` is a training benchmark: a family names its config for the benchmark, how to
write a synthetic dataset folder and its default batch sizes, and the harness measures every
family the same way (see ``TrainingCase``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "MiB",
    "Column",
    "rate",
    "mebibytes",
    "ratio",
    "Table",
    "Report",
    "add_output_options",
    "MeasurementFailed",
    "TrainingCase",
    "machine",
    "machine_line",
    "peak_rss",
    "reset_peak_rss",
    "reset_peak",
    "peak_bytes",
    "peak_memory_source",
    "run_child",
    "synthetic_image",
    "synthetic_images",
]

MiB = 2**20
PRECISIONS = ("fp32", "bf16", "fp16")  # mlcore.engine.PRECISIONS, named here so --help needs no torch


# --- peak memory ---------------------------------------------------------------------------


def peak_rss() -> int:
    """This process's peak resident memory in bytes (VmHWM). Not getrusage's ru_maxrss: a child
    started by a large process inherits that process's figure there."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def reset_peak_rss() -> int:
    """Start the peak over from the memory in use now (Linux 4.0+); returns it."""
    Path("/proc/self/clear_refs").write_text("5")
    return peak_rss()


def reset_peak(device: str) -> None:
    """Start the peak memory of ``device`` over: CUDA's allocator statistics, or this process's VmHWM."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.reset_peak_memory_stats(device)
    else:
        reset_peak_rss()


def peak_bytes(device: str) -> int:
    """The peak since ``reset_peak(device)``: tensors allocated on CUDA, or this process's RSS."""
    if device.startswith("cuda"):
        import torch

        return int(torch.cuda.max_memory_allocated(device))
    return peak_rss()


def peak_memory_source(device: str) -> str:
    return ("torch.cuda.max_memory_allocated" if device.startswith("cuda")
            else "peak RSS (VmHWM) of the measuring process, data worker processes not included")


# --- the machine ---------------------------------------------------------------------------


def machine(device: str = "cpu") -> dict[str, Any]:
    """What the figures were measured on: CPU model and cores, torch and its threads, Python, the
    GPU's name when ``device`` is a CUDA device, and the load average when the benchmark started."""
    import torch

    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = None
    if device.startswith("cuda") and torch.cuda.is_available():
        gpu = torch.cuda.get_device_name(torch.device(device))
    return {"cpu": cpu, "cores": os.cpu_count(), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "python": platform.python_version(), "system": platform.system(), "gpu": gpu,
            # Other work on the machine slows every figure; the reader should know of it.
            "load_average": round(os.getloadavg()[0], 2)}


def machine_line(info: Mapping[str, Any]) -> str:
    line = (f"machine: {info['cpu']}, {info['cores']} cores, torch {info['torch']} ({info['threads']} threads), "
            f"Python {info['python']}, {info['system']}")
    line += f", GPU {info['gpu']}" if info.get("gpu") else ""
    return line + f"; load average {info['load_average']:g} at the start"


# --- synthetic pictures --------------------------------------------------------------------


def synthetic_image(width: int, height: int, rng: random.Random):
    """A smooth random picture (8 x 8 noise, upscaled), which a JPEG decoder treats like a photo."""
    from PIL import Image

    small = Image.frombytes("RGB", (8, 8), rng.randbytes(8 * 8 * 3))
    return small.resize((width, height), Image.Resampling.BICUBIC)


def synthetic_images(folder: Path, *, count: int, width: int, height: int | None = None, seed: int = 0) -> Path:
    """``count`` synthetic JPEGs ``0.jpg``, ``1.jpg``, ... in ``folder`` (made if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for i in range(count):
        synthetic_image(width, height or width, rng).save(folder / f"{i}.jpg", quality=90)
    return folder


# --- child processes -----------------------------------------------------------------------


class MeasurementFailed(RuntimeError):
    """A measurement's child process failed; the message says how, in one line."""


def run_child(case: str, job: Mapping[str, Any]) -> dict[str, Any]:
    """``python -m mlcore.bench <case> --child JOB`` in a fresh process; its figures (the JSON
    object on the last line of its output)."""
    # The child finds this mlcore even when the benchmark is started from another folder.
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run([sys.executable, "-m", "mlcore.bench", case, "--child", json.dumps(job)],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        if done.returncode < 0:
            raise MeasurementFailed(f"killed by signal {-done.returncode}"
                                    + (" (out of memory?)" if done.returncode == -9 else ""))
        raise MeasurementFailed(lines[-1] if lines else f"exit status {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a table: the row key it shows, its title and width, how to show a value."""

    key: str
    title: str
    width: int
    show: Callable[[Any], str] = str
    group: str = ""  # a title over the neighbouring columns of the same group
    left: bool = False


def rate(x: float) -> str:
    return f"{x:.3f}"


def mebibytes(x: int) -> str:
    return f"{x / MiB:,.0f}"


def ratio(x: float) -> str:
    return f"{x:.2f}x"


@dataclass(frozen=True)
class Table:
    """A fixed-width table printed a row at a time; a missing or None value shows as blank."""

    columns: tuple[Column, ...]

    def header(self) -> str:
        groups = []
        for group, members in itertools.groupby(self.columns, key=lambda c: c.group):
            members = list(members)
            width = sum(c.width for c in members) + len(members) - 1
            groups.append(f" {group} ".center(width, "-") if group else " " * width)
        titles = " ".join(self._cell(c, c.title) for c in self.columns).rstrip()
        top = " ".join(groups).rstrip()
        return f"{top}\n{titles}" if top else titles

    def line(self, row: Mapping[str, Any]) -> str:
        if row.get("error"):
            # The columns that say which measurement it was (those before the first group).
            leading = self.columns[: next((i for i, c in enumerate(self.columns) if c.group), len(self.columns))]
            cells = [self._cell(c, "" if row.get(c.key) is None else c.show(row[c.key])) for c in leading]
            return " ".join(cells + [f"failed: {row['error']}"])
        cells = []
        for column in self.columns:
            value = row.get(column.key)
            cells.append(self._cell(column, "" if value is None else column.show(value)))
        return " ".join(cells).rstrip()

    @staticmethod
    def _cell(column: Column, text: str) -> str:
        return f"{text:<{column.width}}" if column.left else f"{text:>{column.width}}"


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--json [FILE]`` and the hidden ``--child JOB`` every case takes."""
    parser.add_argument("--json", nargs="?", const="-", metavar="FILE",
                        help="print every figure as JSON instead of the table; with FILE, print the table "
                        "and write the JSON there")
    parser.add_argument("--child", help=argparse.SUPPRESS)


class Report:
    """A benchmark's output: the machine, the inputs and a table printed row by row, then its
    footnotes; and every figure as one JSON object once the last row is in, printed instead of
    all that when ``json_to`` is "-", or written to the file ``json_to``."""

    def __init__(self, *, case: str, json_to: str | None, machine: Mapping[str, Any], inputs: Mapping[str, Any],
                 inputs_line: str, table: Table, notes: Sequence[str] = ()) -> None:
        self.json_to, self.table = json_to, table
        self.quiet = json_to == "-"
        self.data: dict[str, Any] = {"case": case, "machine": dict(machine), "inputs": dict(inputs),
                                     "notes": list(notes), "rows": []}
        if not self.quiet:
            print(machine_line(machine))
            print(inputs_line)
            for note in notes:
                print(f"note: {note}")
            print()
            print(table.header(), flush=True)

    def add(self, row: Mapping[str, Any]) -> None:
        self.data["rows"].append(dict(row))
        if not self.quiet:
            print(self.table.line(row), flush=True)

    def finish(self, footnotes: Mapping[str, str]) -> int:
        """Print the footnotes (``name: text`` lines) and the JSON; 1 if a measurement failed."""
        footnotes = {**footnotes, **_busy(self.data)}
        self.data["footnotes"] = footnotes
        if self.quiet:
            print(json.dumps(self.data, indent=2))
        else:
            print()
            for name, text in footnotes.items():
                print(f"{name}: {text}")
            if self.json_to:
                Path(self.json_to).write_text(json.dumps(self.data, indent=2) + "\n")
        return 1 if any(row.get("error") for row in self.data["rows"]) else 0


def _busy(data: Mapping[str, Any]) -> dict[str, str]:
    """A footnote when the machine had other work than the benchmark: a load average, at the start
    or after a measurement, above its cores plus one (a measurement alone keeps about one thread
    per core running). The wall-clock figures are then slowed, unevenly."""
    cores = data["machine"]["cores"] or 1
    loads = [data["machine"]["load_average"]] + [
        value for row in data["rows"] for key, value in row.items() if key.endswith("load_average")]
    if max(loads) <= cores + 1:
        return {}
    return {"busy machine": f"load average {min(loads):g} to {max(loads):g} on {cores} cores during the run: "
                            "other work slowed the wall-clock figures, unevenly (--json also has each "
                            "measurement's CPU seconds)"}


# --- training benchmarks -------------------------------------------------------------------


class _Measured(Exception):
    """Raised from ``on_progress`` when the timed steps are done: the run's end (its sample grid,
    last checkpoint and export, 9 GB for full U-GAT-IT) is not training speed and would only
    make the benchmark slower."""


@dataclass(frozen=True)
class TrainingCase:
    """A training benchmark of one family. For each variant and batch size it measures, each
    in a child process of its own:

    - engine: a real ``mlcore.engine`` run (``Trainer`` on the dataset folder, data worker
      processes, metrics.jsonl, progress callbacks), timed between the progress callbacks of
      the steps after the warm-up;
    - baseline: the same run's task (``Trainer.make_task``: built, seeded and with the precision
      the engine gives it) stepping in a bare loop on one fixed batch, the run's first, already
      on the device (``Trainer.first_batch``), through the engine's own ``run_step`` (autocast,
      fp16 scaler): no data loading, no metrics, no checkpoints.

    Both make the same ``Trainer.create`` spec, so the ratio engine/baseline shows exactly what
    the engine costs; each records its first step's losses, which are the same numbers when
    both really ran the same step on the same batch.
    """

    family: str  # registry name
    title: str  # what is trained, for the list of cases
    networks: str  # what the variants' presets train, for the inputs line
    variants: Mapping[str, str]  # variant -> the training preset with the paper's networks
    batch_sizes: tuple[int, ...]  # the default batch sizes
    # (variant, batch_size=, size=) -> config overrides for the benchmark on top of the preset
    configure: Callable[..., dict[str, Any]]
    # (root, size=, count=) -> None: writes a synthetic dataset folder in the family's layout
    dataset: Callable[..., None]
    unit: str = "images"  # what images per second count
    notes: tuple[str, ...] = ()
    steps: int = 2  # timed steps per measurement, by default
    warmup: int = 1

    @property
    def summary(self) -> str:
        """One line for the list of cases, with the defaults."""
        variants = f"{' and '.join(self.variants)}, " if len(self.variants) > 1 else ""
        return f"{self.title} at 256 px, {variants}batch {' and '.join(map(str, self.batch_sizes))}"

    def config(self, variant: str, *, preset: str | None, batch_size: int, size: int) -> Any:
        from mlcore.registry import get_family

        config_class = get_family(self.family).training.config_class
        return config_class.preset(preset or self.variants[variant]).override(
            self.configure(variant, batch_size=batch_size, size=size))

    # --- the command -------------------------------------------------------------------------

    def parser(self, name: str) -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(prog=f"python -m mlcore.bench {name}", description=self.summary)
        parser.add_argument("--variants", nargs="+", choices=list(self.variants), default=list(self.variants),
                            help=f"default: {' '.join(self.variants)}")
        parser.add_argument("--batch-sizes", type=int, nargs="+", default=list(self.batch_sizes),
                            help=f"default: {' '.join(map(str, self.batch_sizes))}")
        parser.add_argument("--size", type=int, default=256, help="training image side (default: 256)")
        parser.add_argument("--warmup", type=int, default=self.warmup,
                            help=f"untimed steps first (default: {self.warmup})")
        parser.add_argument("--steps", type=int, default=self.steps, help=f"timed steps (default: {self.steps})")
        parser.add_argument("--device", default="cpu", help="default: cpu")
        parser.add_argument("--precision", default="fp32", choices=PRECISIONS, help="default: fp32")
        parser.add_argument("--workers", type=int, default=2, help="engine data loading processes (default: 2)")
        parser.add_argument("--data", help="a dataset folder in the family's layout (default: synthetic pictures)")
        parser.add_argument("--preset", help="this training preset's networks instead of the paper's "
                            "(e.g. tiny, for tests)")
        add_output_options(parser)
        return parser

    def main(self, argv: list[str], name: str) -> int:
        parser = self.parser(name)
        args = parser.parse_args(argv)
        if args.child:
            print(json.dumps(self.measure(json.loads(args.child))))
            return 0
        if args.warmup < 1 or args.steps < 1 or min(args.batch_sizes) < 1:
            parser.error("--warmup, --steps and the batch sizes must be at least 1")
        try:  # a bad size or preset is refused here, before any child starts
            for variant in args.variants:
                self.config(variant, preset=args.preset, batch_size=args.batch_sizes[0], size=args.size)
        except ValueError as exc:
            parser.error(str(exc))

        with tempfile.TemporaryDirectory(prefix="mlcore-bench-") as scratch:
            data, counts = self._dataset(parser, args, Path(scratch))
            networks = (f"the {args.preset} preset's networks, not the paper's (for tests)" if args.preset
                        else self.networks)
            inputs = {"family": self.family, "training": self.title, "networks": networks, "size": args.size,
                      "variants": args.variants, "batch_sizes": args.batch_sizes, "device": args.device,
                      "precision": args.precision, "warmup": args.warmup, "steps": args.steps,
                      "workers": args.workers, "data": args.data or f"synthetic ({counts})", "unit": self.unit}
            line = (f"inputs: {self.title}: {networks}, {args.size}x{args.size}, device {args.device}, "
                    f"precision {args.precision}, {args.warmup} warm-up + {args.steps} timed step(s), "
                    f"engine data workers {args.workers}, data: {inputs['data']}")
            notes = (*self.notes, "baseline = the run's own task stepping on one fixed batch in a bare loop; "
                     "engine = the mlcore.engine run; ratio = engine / baseline")
            report = Report(case=name, json_to=args.json, machine=machine(args.device), inputs=inputs,
                            inputs_line=line, table=TRAINING_TABLE, notes=notes)
            for variant in args.variants:
                for batch_size in args.batch_sizes:
                    job = {"variant": variant, "batch_size": batch_size, "size": args.size, "preset": args.preset,
                           "warmup": args.warmup, "steps": args.steps, "device": args.device,
                           "precision": args.precision, "workers": args.workers, "data": data, "scratch": scratch}
                    report.add(_training_row(name, job))
        return report.finish({"img/s": f"{self.unit} per second", "peak memory": peak_memory_source(args.device)})

    def _dataset(self, parser: argparse.ArgumentParser, args: argparse.Namespace, scratch: Path) -> tuple[str, str]:
        """The dataset folder (``--data``, else a synthetic one in ``scratch``) and what it holds, in
        words; a folder the family cannot train on stops the benchmark with the family's reasons."""
        from mlcore.registry import get_family

        data = args.data
        if data is None:
            data = str(scratch / "data")
            self.dataset(Path(data), size=args.size, count=max(8, 2 * max(args.batch_sizes)))
        found = get_family(self.family).training.inspect_dataset(data)
        if not found.ok:
            parser.error(f"{data}: " + " ".join(found.problems))
        return data, ", ".join(f"{n} {what}" for what, n in found.counts.items())

    # --- one measurement, in the child -------------------------------------------------------

    def measure(self, job: Mapping[str, Any]) -> dict[str, Any]:
        """One measurement (``job["what"]``: "engine" or "baseline") in this process."""
        from mlcore.engine import Trainer
        from mlcore.registry import get_family

        device = job["device"]
        reset_peak(device)
        config = self.config(job["variant"], preset=job["preset"], batch_size=job["batch_size"], size=job["size"])
        inputs = get_family(self.family).training.dataset_inputs(job["data"])
        warmup, steps = job["warmup"], job["steps"]
        with tempfile.TemporaryDirectory(prefix=f"{job['what']}-", dir=job.get("scratch")) as folder:
            # One step more than measured: the run's last step writes its sample grid before
            # the progress callback, and that is not training speed.
            trainer = Trainer.create(Path(folder) / "run", family=self.family, config=config, inputs=inputs,
                                     steps=warmup + steps + 1, device=device, precision=job["precision"],
                                     num_workers=job["workers"], log_every=1, sample_every=0, checkpoint_every=0)
            timing = _engine if job["what"] == "engine" else _baseline
            seconds, cpu_seconds, first = timing(trainer, warmup=warmup, steps=steps)
        return {"steps": steps, "seconds": seconds, "seconds_per_step": seconds / steps,
                "images_per_second": steps * job["batch_size"] / seconds, "peak_bytes": peak_bytes(device),
                "cpu_seconds": cpu_seconds, "load_average": round(os.getloadavg()[0], 2), "first_step": first}


TRAINING_TABLE = Table((
    Column("variant", "variant", 12, left=True),
    Column("batch_size", "batch", 5),
    Column("steps", "steps", 5),
    Column("baseline_images_per_second", "baseline", 9, rate, group="img/s"),
    Column("engine_images_per_second", "engine", 9, rate, group="img/s"),
    Column("speed_ratio", "ratio", 6, ratio, group="img/s"),
    Column("baseline_peak_bytes", "baseline", 9, mebibytes, group="peak MiB"),
    Column("engine_peak_bytes", "engine", 9, mebibytes, group="peak MiB"),
    Column("memory_ratio", "ratio", 6, ratio, group="peak MiB"),
))


def _training_row(case: str, job: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"variant": job["variant"], "batch_size": job["batch_size"], "steps": job["steps"]}
    try:
        for what in ("baseline", "engine"):
            result = run_child(case, {**job, "what": what})
            row.update({f"{what}_{key}": value for key, value in result.items() if key != "steps"})
    except MeasurementFailed as exc:
        row["error"] = str(exc)
        return row
    row["speed_ratio"] = row["engine_images_per_second"] / row["baseline_images_per_second"]
    row["memory_ratio"] = row["engine_peak_bytes"] / row["baseline_peak_bytes"]
    return row


def _clocks() -> tuple[float, float]:
    """Wall time and this process's CPU time (all its threads): on a busy machine the first grows
    with the other work, the second much less."""
    return time.perf_counter(), time.process_time()


def _engine(trainer, *, warmup: int, steps: int) -> tuple[float, float, dict[str, float]]:
    stamps: dict[int, tuple[float, float]] = {}
    first: dict[str, float] = {}

    def record(progress) -> None:
        if progress.status != "running":
            return
        stamps[progress.step] = _clocks()
        if progress.step == 1:
            first.update(progress.metrics)
        if progress.step == warmup + steps:
            raise _Measured

    try:
        trainer.run(on_progress=record)
    except _Measured:
        pass
    (wall0, cpu0), (wall1, cpu1) = stamps[warmup], stamps[warmup + steps]
    return wall1 - wall0, cpu1 - cpu0, first


def _baseline(trainer, *, warmup: int, steps: int) -> tuple[float, float, dict[str, float]]:
    from mlcore.engine import run_step

    task, precision = trainer.make_task()
    batch = trainer.first_batch(task)
    task.set_training(True)
    first = run_step(task, precision, batch)
    for _ in range(warmup - 1):
        run_step(task, precision, batch)
    _synchronize(trainer.spec.device)
    wall0, cpu0 = _clocks()
    for _ in range(steps):
        run_step(task, precision, batch)
    _synchronize(trainer.spec.device)
    wall1, cpu1 = _clocks()
    return wall1 - wall0, cpu1 - cpu0, first


def _synchronize(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize(device)
