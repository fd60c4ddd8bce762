"""Benchmark of U-GAT-IT training: ``python -m mlcore.ugatit.bench [--cases light full] [--size 256] ...``.

Each case (light or full generator, Kim et al.'s networks otherwise: ngf 64, 4 + 4 residual
blocks, 7- and 5-layer discriminators, batch 1) is a real ``mlcore.engine`` run on synthetic
unpaired folders (data loading with worker processes, augmentation, autocast, metrics.jsonl,
progress callbacks), in a fresh process so that peak memory is its own, timed between the
progress callbacks of the steps after the warm-up. The baseline is the same task's
``train_step`` in a bare loop on one fixed batch already on the device (no data loading, no
engine), so the ratio engine/baseline shows what the engine costs. It prints the machine, the
inputs, images per second (one A and one B image per step count as one) and peak memory: the
peak RSS of the training process (``getrusage``), or ``torch.cuda.max_memory_allocated`` on a
GPU.

The full model's gamma/beta MLP alone has (64 * 64 * 256) x 256 = 268M weights per generator
at 256 px: 1 GiB, 4 GiB with its gradient and Adam moments, so the full case needs about
20 GB, and the engine's last training checkpoint (written after the timing) is about 9 GB.

Pieces for mlcore.bench: ``bench_cases()`` lists the cases, ``measure(light=, size=, steps=,
device=, precision=)`` runs one in the current process and returns a dict like
``mlcore.bench._measure``'s; ``run_case(...)`` runs ``measure`` in a child process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["bench_cases", "measure", "run_case", "synthetic_unpaired", "main"]


def bench_cases() -> list[dict[str, Any]]:
    """The default cases: light and full at 256 x 256, batch 1 (Kim et al.'s setting)."""
    return [{"light": True, "size": 256}, {"light": False, "size": 256}]


def measure(
    *,
    light: bool,
    what: str = "engine",
    size: int = 256,
    steps: int = 2,
    device: str = "cpu",
    precision: str = "fp32",
    warmup: int = 1,
    workers: int = 2,
    data: str | os.PathLike | None = None,
    scratch: str | os.PathLike | None = None,
    preset: str | None = None,
) -> dict[str, Any]:
    """One engine run in this process: {"steps", "images_per_second", "seconds_per_step",
    "peak_bytes"}. ``data`` is an unpaired folder (default: synthetic, made in ``scratch``);
    ``preset`` replaces Kim et al.'s networks (``kim2020``/``kim2020_light``), e.g. "tiny" for
    tests (its own generator kind then, ``light`` is still applied). ``what`` is "engine" or
    "baseline" (the task's train_step in a bare loop)."""
    import logging

    import torch

    from mlcore.ugatit import UGATITTrainConfig

    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="ugatit-bench-", dir=scratch) as tmp:
        root = Path(data) if data else synthetic_unpaired(Path(tmp) / "data", size=size)
        preset = preset or ("kim2020_light" if light else "kim2020")
        config = UGATITTrainConfig.preset(preset).override(
            {"arch.img_size": size, "arch.light": light, "num_probes": 1})
        if what == "baseline":
            seconds = _bare_loop(config, root, steps=steps, warmup=warmup, device=device, precision=precision)
        else:
            seconds = _engine(config, root, Path(tmp) / "run", steps=steps, warmup=warmup, device=device,
                              precision=precision, workers=workers)
    if device.startswith("cuda"):
        peak = torch.cuda.max_memory_allocated()
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    return {"steps": steps, "images_per_second": steps / seconds, "seconds_per_step": seconds / steps,
            "peak_bytes": peak}


def _engine(config, root, run_dir, *, steps, warmup, device, precision, workers) -> float:
    from mlcore import engine

    stamps: dict[int, float] = {}

    def record(progress: engine.Progress) -> None:
            if progress.status == "running":
                stamps[progress.step] = time.perf_counter()

    # One step more than measured: the final sample grid, checkpoint and export are not
    # training speed.
    engine.start(run_dir, family="ugatit", config=config, inputs={"data": str(root)},
                 steps=warmup + steps + 1, device=device, precision=precision, num_workers=workers,
                 log_every=1, sample_every=0, checkpoint_every=0, on_progress=record)
    return stamps[warmup + steps] - stamps[warmup]


def _bare_loop(config, root, *, steps, warmup, device, precision) -> float:
    import torch
    from torch.utils.data import default_collate

    from mlcore.engine import Precision
    from mlcore.ugatit.trainer import UGATITTask

    dev = torch.device(device)
    amp = Precision(precision, dev)
    task = UGATITTask(config, {"data": str(root)}, device=dev, precision=amp, seed=0)
    task.set_training(True)
    batch = default_collate([task.dataset[(0, i)] for i in range(config.batch_size)])
    batch = [b.to(dev) for b in batch] if isinstance(batch, (list, tuple)) else batch.to(dev)

    def step() -> None:
        with amp.autocast():
            task.train_step(batch)
        amp.update()

    for _ in range(warmup):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - started


def run_case(
    *, light: bool, what: str = "engine", size: int = 256, steps: int = 2, device: str = "cpu",
    precision: str = "fp32", warmup: int = 1, workers: int = 2, data: str | None = None,
    preset: str | None = None,
) -> dict[str, Any]:
    """``measure`` in a fresh Python process (its own peak memory)."""
    command = [sys.executable, "-m", "mlcore.ugatit.bench", "--child", what, "--cases", "light" if light else "full",
               "--size", str(size), "--steps", str(steps), "--device", device, "--precision", precision,
               "--warmup", str(warmup), "--workers", str(workers)]
    if data:
        command += ["--data", data]
    if preset:
        command += ["--preset", preset]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def synthetic_unpaired(root: Path, *, size: int, count: int = 4) -> Path:
    """trainA/ and trainB/ of smooth random pictures (upscaled noise), ``size + 30`` px."""
    import random

    from PIL import Image

    rng = random.Random(0)
    for side in ("A", "B"):
        folder = root / f"train{side}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            small = Image.frombytes("RGB", (8, 8), rng.randbytes(8 * 8 * 3))
            small.resize((size + 30, size + 30), Image.Resampling.BICUBIC).save(folder / f"{i}.jpg", quality=90)
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlcore.ugatit.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=["light", "full"], default=["light", "full"])
    parser.add_argument("--size", type=int, default=256, help="training image side (default: 256)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first (default: 1)")
    parser.add_argument("--steps", type=int, default=2, help="timed steps (default: 2)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    parser.add_argument("--workers", type=int, default=2, help="engine data loading processes (default: 2)")
    parser.add_argument("--data", help="unpaired dataset folder (default: synthetic pictures)")
    parser.add_argument("--preset", choices=["tiny"], help="tiny networks instead of Kim et al.'s (tests only)")
    parser.add_argument("--no-baseline", action="store_true", help="measure the engine only")
    parser.add_argument("--child", choices=["engine", "baseline"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.warmup < 1 or args.steps < 1:
        parser.error("--warmup and --steps must be at least 1")
    settings = dict(size=args.size, steps=args.steps, device=args.device, precision=args.precision,
                    warmup=args.warmup, workers=args.workers, data=args.data, preset=args.preset)
    if args.child:
        print(json.dumps(measure(light=args.cases[0] == "light", what=args.child, **settings)))
        return 0

    from mlcore.bench import machine, mib

    print(machine(args.device))
    networks = (f"the {args.preset} preset's networks (tests only)" if args.preset else
                "Kim et al.'s networks: 2 generators (ngf 64, 4 + 4 residual blocks), 4 discriminators "
                "(ndf 64, 7 and 5 layers)")
    print(f"inputs: U-GAT-IT training with {networks}, {args.size}x{args.size}, batch 1, device {args.device}, "
          f"precision {args.precision}, {args.warmup} warm-up step(s) + {args.steps} timed steps, "
          f"engine data workers {args.workers}, data: {args.data or 'synthetic'}")
    print()
    print(f"{'case':<6} {'what':<9} {'steps':>5} {'img/s':>8} {'s/step':>8} {'peak memory':>14} {'vs baseline':>12}")
    for case in args.cases:
        results = {}
        for what in ("engine",) if args.no_baseline else ("baseline", "engine"):
            r = results[what] = run_case(light=case == "light", what=what, **settings)
            ratio = ""
            if what == "engine" and "baseline" in results:
                ratio = f"{r['images_per_second'] / results['baseline']['images_per_second']:.2f}x"
            print(f"{case:<6} {what:<9} {r['steps']:>5} {r['images_per_second']:>8.3f} {r['seconds_per_step']:>8.2f} "
                  f"{mib(r['peak_bytes']):>10} MiB {ratio:>12}".rstrip(), flush=True)
    print()
    print("img/s: one A and one B image per step count as one; peak memory: " + (
        "torch.cuda.max_memory_allocated" if args.device.startswith("cuda")
        else "peak RSS of the training process (data workers not included)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
