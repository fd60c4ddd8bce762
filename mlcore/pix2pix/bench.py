"""Benchmark of pix2pix training: ``python -m mlcore.pix2pix.bench [--batch-sizes 1 16] [--size 256] ...``.

The paper's networks (U-Net with ngf 64, unet_256 at 256 px; 70x70 PatchGAN with ndf 64), one
D step and one G step per iteration, Adam. For each batch size, each in a fresh process (so
peak memory is its own), it measures:
- engine: a real ``mlcore.engine`` run on a synthetic folder of A|B pairs (decoding, the
  286 -> 256 jitter and flips in data worker processes, autocast, metrics.jsonl, progress
  callbacks), timed between the progress callbacks of the steps after the warm-up;
- baseline: a bare loop doing the same D and G steps on one fixed batch already on the device.
Images per second count pairs. Peak memory is the training process's peak RSS on a CPU
(``getrusage``; data workers not included) or ``torch.cuda.max_memory_allocated`` on a GPU.

``measure(...)`` runs one case in this process; ``measure_in_child(...)`` runs it in a fresh
one (``python -m mlcore.pix2pix.bench --child engine|baseline ...`` prints its result as JSON);
``bench_cases()`` lists the cases the issue asks for (256 px, batch 1 and 16).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["bench_cases", "measure", "measure_in_child", "describe_inputs", "generator_for", "main"]

WHATS = ("baseline", "engine")


def bench_cases() -> list[dict]:
    """The measurements the issue asks for: 256 px crops at batch 1 (the paper's) and 16."""
    return [{"batch_size": 1, "size": 256}, {"batch_size": 16, "size": 256}]


def generator_for(size: int) -> str:
    """The deepest U-Net that takes ``size`` px crops (unet_256 for 256)."""
    from mlcore.pix2pix.config import GENERATORS

    for name, downs in sorted(GENERATORS.items(), key=lambda item: -item[1]):
        if size % 2 ** downs == 0:
            return name
    raise ValueError(f"size must be a multiple of 32; got {size}")


def describe_inputs(size: int, device: str, precision: str, warmup: int, steps: int, workers: int) -> str:
    return (f"inputs: pix2pix training ({generator_for(size)} ngf 64 + 70x70 PatchGAN ndf 64, vanilla cGAN + "
            f"100 L1, one D and one G Adam step), synthetic A|B pairs, {_load_size(size)}->{size} jitter and flips, "
            f"device {device}, precision {precision}, {warmup} warm-up step(s) + {steps} timed step(s), "
            f"engine data workers {workers}")


def _load_size(size: int) -> int:
    return round(size * 286 / 256)  # the paper's 286 -> 256 jitter, scaled


def _config(batch_size: int, size: int):
    from mlcore.pix2pix.config import Pix2PixTrainConfig

    return Pix2PixTrainConfig.preset("isola2017", batch_size=batch_size, crop_size=size,
                                     load_size=_load_size(size), arch={"generator": generator_for(size)})


def measure(
    *,
    what: str = "engine",
    batch_size: int,
    size: int = 256,
    steps: int = 1,
    warmup: int = 1,
    device: str = "cpu",
    precision: str = "fp32",
    workers: int = 2,
    data: str | None = None,
    scratch: str | None = None,
) -> dict:
    """One measurement in this process: {"steps", "images_per_second", "seconds_per_step",
    "peak_bytes"}. Peak memory is the process's, so run each case in a fresh process
    (``measure_in_child``) to compare them."""
    import logging

    import torch

    if what not in WHATS:
        raise ValueError(f"what must be one of {', '.join(WHATS)}; got {what!r}")
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="pix2pix-bench-", dir=scratch) as own:
        if what == "engine":
            folder = data or str(synthetic_pairs(Path(own) / "pairs", count=max(8, batch_size * 2),
                                                 size=_load_size(size)))
            seconds = _engine(batch_size, size, steps, warmup, device, precision, workers, folder, own)
        else:
            seconds = _baseline(batch_size, size, steps, warmup, device, precision)
    if device.startswith("cuda"):
        peak = torch.cuda.max_memory_allocated()
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    return {"steps": steps, "images_per_second": steps * batch_size / seconds,
            "seconds_per_step": seconds / steps, "peak_bytes": peak}


def measure_in_child(**settings) -> dict:
    """``measure(**settings)`` in a fresh Python process (its own peak memory)."""
    command = [sys.executable, "-m", "mlcore.pix2pix.bench", "--child", settings.get("what", "engine")]
    for key in ("batch_size", "size", "steps", "warmup", "device", "precision", "workers", "data"):
        if settings.get(key) is not None:
            command += [f"--{key.replace('_', '-')}", str(settings[key])]
    done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
    if done.returncode != 0:
        raise RuntimeError(f"pix2pix benchmark child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _engine(batch_size: int, size: int, steps: int, warmup: int, device: str, precision: str, workers: int,
            data: str, scratch: str) -> float:
    from mlcore import engine

    stamps: dict[int, float] = {}

    def record(progress: engine.Progress) -> None:
        if progress.status == "running":
            stamps[progress.step] = time.perf_counter()

    # One step more than measured: the final sample grid and export are not training speed.
    engine.start(Path(scratch) / "run", family="pix2pix", config=_config(batch_size, size), inputs={"data": data},
                 steps=warmup + steps + 1, device=device, precision=precision, num_workers=workers,
                 log_every=1, sample_every=0, checkpoint_every=0, on_progress=record)
    return stamps[warmup + steps] - stamps[warmup]


def _baseline(batch_size: int, size: int, steps: int, warmup: int, device: str, precision: str) -> float:
    import torch

    from mlcore.pix2pix.losses import discriminator_loss, generator_losses
    from mlcore.pix2pix.networks import build_discriminator, build_generator

    config = _config(batch_size, size)
    dev = torch.device(device)
    dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    torch.manual_seed(0)
    g = build_generator(config.arch).to(dev)
    d = build_discriminator(6, config.ndf, config.n_layers_d).to(dev)
    opt_g = torch.optim.Adam(g.parameters(), lr=config.lr, betas=(config.beta1, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=config.lr, betas=(config.beta1, 0.999))
    scaler = torch.amp.GradScaler(dev.type, enabled=precision == "fp16")
    a = torch.rand(batch_size, 3, size, size, device=dev) * 2 - 1
    b = torch.rand(batch_size, 3, size, size, device=dev) * 2 - 1

    def backward_step(loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)

    def step() -> None:
        with torch.autocast(dev.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            fake = g(a)
            loss_d = discriminator_loss(d(torch.cat([a, b], 1)), d(torch.cat([a, fake.detach()], 1)))
        backward_step(loss_d, opt_d)
        d.requires_grad_(False)
        with torch.autocast(dev.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            loss_g = generator_losses(d(torch.cat([a, fake], 1)), fake, b)["loss"]
        backward_step(loss_g, opt_g)
        d.requires_grad_(True)
        scaler.update()
        loss_g.item()  # as the engine's metrics do; also waits for a GPU

    for _ in range(warmup):
        step()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return time.perf_counter() - started


def synthetic_pairs(folder: Path, *, count: int, size: int) -> Path:
    """``count`` smooth random A|B images (2 size x size), like photos to a JPEG decoder."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    for i in range(count):
        pair = Image.new("RGB", (2 * size, size))
        for half in range(2):
            small = Image.frombytes("RGB", (8, 8), rng.randbytes(8 * 8 * 3))
            pair.paste(small.resize((size, size), Image.Resampling.BICUBIC), (half * size, 0))
        pair.save(folder / f"{i}.jpg", quality=90)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlcore.pix2pix.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[c["batch_size"] for c in bench_cases()])
    parser.add_argument("--size", type=int, default=256, help="training crop size (default: 256)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first (default: 1)")
    parser.add_argument("--steps", type=int, default=1, help="timed steps (default: 1)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    parser.add_argument("--workers", type=int, default=2, help="engine data loading processes (default: 2)")
    parser.add_argument("--data", help="folder of A|B pairs (default: synthetic)")
    parser.add_argument("--no-baseline", action="store_true", help="measure the engine only")
    parser.add_argument("--child", choices=WHATS, help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.warmup < 1 or args.steps < 1:
        parser.error("--warmup and --steps must be at least 1")
    settings = dict(size=args.size, steps=args.steps, warmup=args.warmup, device=args.device,
                    precision=args.precision, workers=args.workers, data=args.data)
    if args.child:
        print(json.dumps(measure(what=args.child, batch_size=args.batch_size, **settings)))
        return 0

    from mlcore.bench import machine  # the machine line every mlcore benchmark prints

    print(machine(args.device))
    print(describe_inputs(args.size, args.device, args.precision, args.warmup, args.steps, args.workers))
    print()
    print(f"{'batch':>5} {'what':<9} {'steps':>5} {'img/s':>8} {'s/step':>8} {'peak memory':>14} {'vs baseline':>12}")
    for batch_size in args.batch_sizes:
        results: dict[str, dict] = {}
        for what in WHATS if not args.no_baseline else ("engine",):
            r = results[what] = measure_in_child(what=what, batch_size=batch_size, **settings)
            ratio = ""
            if what == "engine" and "baseline" in results:
                ratio = f"{r['images_per_second'] / results['baseline']['images_per_second']:.2f}x"
            print(f"{batch_size:>5} {what:<9} {r['steps']:>5} {r['images_per_second']:>8.3f} "
                  f"{r['seconds_per_step']:>8.2f} {r['peak_bytes'] / 2**20:>10,.0f} MiB {ratio:>12}", flush=True)
    print()
    print("peak memory: " + ("torch.cuda.max_memory_allocated" if args.device.startswith("cuda")
                             else "peak RSS of the training process (data workers not included)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
