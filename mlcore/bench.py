"""Benchmark of fast-style training: ``python -m mlcore.bench [--batch-sizes 4 16] [--size 256] ...``.

For each batch size it measures, each in a fresh process (so peak memory is its own):
- engine: a real ``mlcore.engine`` run (data loading from a folder with worker processes,
  augmentation, autocast, metrics.jsonl, progress callbacks), timed between the progress
  callbacks of the steps after the warm-up;
- baseline: a bare hand-written loop doing the same forward/backward/Adam step on one fixed
  batch already on the device (no data loading, no engine).
The ratio engine/baseline shows what the engine costs. It prints the machine, the inputs,
images per second and peak memory: CPU peak RSS of the training process (``getrusage``), or
``torch.cuda.max_memory_allocated`` on a GPU.

The VGG16 loss network is random (same cost as the ImageNet one; the images mean nothing), and
content and style images are synthetic unless ``--content``/``--style`` are given. The default
(256 px, batch 4 and 16, 1 warm-up step, then 8 images' worth of timed steps) takes about 3
minutes on a 2-core CPU; on a GPU, ask for more steps (``--steps 20``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RANDOM_NOTE = "random VGG16 loss network: same cost as the ImageNet one, no real style model"


FAMILY_BENCHES = {"pix2pix": "mlcore.pix2pix.bench", "ugatit": "mlcore.ugatit.bench", "memory": "mlcore.memory_bench"}


def main(argv: list[str] | None = None) -> int:
    """``python -m mlcore.bench [fast-style|pix2pix|ugatit|memory] [options]``: fast style by default;
    the other families' benchmarks take their own options (``--help`` after the name)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in FAMILY_BENCHES:
        import importlib

        return importlib.import_module(FAMILY_BENCHES[argv[0]]).main(argv[1:])
    if argv and argv[0] == "fast-style":
        argv = argv[1:]
    parser = argparse.ArgumentParser(prog="python -m mlcore.bench [fast-style]", description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--size", type=int, default=256, help="training crop size (default: 256)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first (default: 1)")
    parser.add_argument("--steps", type=int,
                        help="timed steps (default: enough for 8 images, so 2 at batch 4 and 1 at 16)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    parser.add_argument("--workers", type=int, default=2, help="engine data loading processes (default: 2)")
    parser.add_argument("--content", help="folder of content photos (default: synthetic images)")
    parser.add_argument("--style", help="style image (default: synthetic)")
    parser.add_argument("--no-baseline", action="store_true", help="measure the engine only")
    parser.add_argument("--child", choices=["engine", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.warmup < 1 or (args.steps is not None and args.steps < 1):
        parser.error("--warmup and --steps must be at least 1")
    if args.child:
        print(json.dumps(_measure(args)))
        return 0

    print(machine(args.device))
    timed = f"{args.steps} timed steps" if args.steps else "timed steps for 8 images (at least 1)"
    print(f"inputs: fast-style training (TransformerNet 32/64/128, 5 residual blocks), {args.size}x{args.size} "
          f"crops, Adam, device {args.device}, precision {args.precision}, {args.warmup} warm-up step(s) + "
          f"{timed}, engine data workers {args.workers}")
    print(f"note: {RANDOM_NOTE}; content images: {args.content or 'synthetic'}")
    print()
    print(f"{'batch':>5} {'what':<9} {'steps':>5} {'img/s':>8} {'s/step':>8} {'peak memory':>14} {'vs baseline':>12}")
    with tempfile.TemporaryDirectory(prefix="mlcore-bench-") as scratch:
        content = args.content or str(_synthetic_images(Path(scratch) / "content", count=32, size=args.size + 64))
        style = args.style or str(_synthetic_images(Path(scratch) / "style", count=1, size=args.size) / "0.jpg")
        for batch_size in args.batch_sizes:
            results = {}
            for what in ("baseline", "engine") if not args.no_baseline else ("engine",):
                results[what] = _run_child(args, what, batch_size, content, style, scratch)
                r = results[what]
                ratio = ""
                if what == "engine" and "baseline" in results:
                    ratio = f"{r['images_per_second'] / results['baseline']['images_per_second']:.2f}x"
                print(f"{batch_size:>5} {what:<9} {r['steps']:>5} {r['images_per_second']:>8.3f} {r['seconds_per_step']:>8.2f} "
                      f"{mib(r['peak_bytes']):>10} MiB {ratio:>12}", flush=True)
    print()
    print("peak memory: " + ("torch.cuda.max_memory_allocated" if args.device.startswith("cuda")
                             else "peak RSS of the training process (data workers not included)"))
    return 0


def _run_child(args: argparse.Namespace, what: str, batch_size: int, content: str, style: str,
               scratch: str) -> dict:
    steps = args.steps or max(1, -(-8 // batch_size))
    command = [sys.executable, "-m", "mlcore.bench", "--child", what, "--batch-size", str(batch_size),
               "--size", str(args.size), "--warmup", str(args.warmup), "--steps", str(steps),
               "--device", args.device, "--precision", args.precision, "--workers", str(args.workers),
               "--content", content, "--style", style]
    env = {**os.environ, "MLCORE_BENCH_SCRATCH": scratch}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _measure(args: argparse.Namespace) -> dict:
    import logging

    logging.disable(logging.WARNING)  # the random-VGG warning is in the header already
    if args.child == "engine":
        seconds = _engine(args)
    else:
        seconds = _baseline(args)
    import torch

    if args.device.startswith("cuda"):
        peak = torch.cuda.max_memory_allocated()
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    return {"steps": args.steps, "images_per_second": args.steps * args.batch_size / seconds,
            "seconds_per_step": seconds / args.steps, "peak_bytes": peak}


def _engine(args: argparse.Namespace) -> float:
    from mlcore import engine
    from mlcore.fast_style import FastStyleTrainConfig

    config = FastStyleTrainConfig.preset("johnson2016", batch_size=args.batch_size, image_size=args.size,
                                         style_size=args.size, loss_network="random")
    stamps: dict[int, float] = {}

    def record(progress: engine.Progress) -> None:
        if progress.status == "running":
            stamps[progress.step] = time.perf_counter()

    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=os.environ.get("MLCORE_BENCH_SCRATCH")))
    # One step more than measured: the final sample grid and export are not training speed.
    engine.start(run_dir, family="fast_style", config=config, inputs={"style": args.style, "content": args.content},
                 steps=args.warmup + args.steps + 1, device=args.device, precision=args.precision,
                 num_workers=args.workers, log_every=1, sample_every=0, checkpoint_every=0, on_progress=record)
    return stamps[args.warmup + args.steps] - stamps[args.warmup]


def _baseline(args: argparse.Namespace) -> float:
    import torch

    from mlcore.data import load_image
    from mlcore.fast_style import TransformerNet
    from mlcore.images import pil_to_tensor
    from mlcore.losses import content_loss, gram_matrix, style_loss, total_variation
    from mlcore.vgg import load_vgg

    device = torch.device(args.device)
    dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[args.precision]
    torch.manual_seed(0)
    net = TransformerNet().to(device)
    vgg = load_vgg("vgg16", "random", device=device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler(device.type, enabled=args.precision == "fp16")
    layers = ["relu1_2", "relu2_2", "relu3_3", "relu4_3"]
    style = pil_to_tensor(load_image(args.style).resize((args.size, args.size))).to(device)
    with torch.no_grad():
        grams = {k: gram_matrix(v) for k, v in vgg(style, layers).items()}
    batch = torch.rand(args.batch_size, 3, args.size, args.size, device=device)

    def step() -> None:
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            with torch.no_grad():
                target = vgg(batch, ["relu3_3"])["relu3_3"]
            output = net(batch * 255.0) / 255.0
            features = vgg(output, layers)
            loss = (1e5 * content_loss(features["relu3_3"], target) + 1e10 * style_loss(features, grams)
                    + total_variation(output))
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        loss.item()  # as the engine's metrics do; also waits for a GPU

    for _ in range(args.warmup):
        step()
    started = time.perf_counter()
    for _ in range(args.steps):
        step()
    return time.perf_counter() - started


def _synthetic_images(folder: Path, *, count: int, size: int) -> Path:
    """Smooth random pictures (upscaled noise), like photos to a JPEG decoder."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = __import__("random").Random(0)
    for i in range(count):
        small = Image.frombytes("RGB", (8, 8), rng.randbytes(8 * 8 * 3))
        small.resize((size, size), Image.Resampling.BICUBIC).save(folder / f"{i}.jpg", quality=90)
    return folder


def machine(device: str) -> str:
    import torch

    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    lines = [
        f"machine: {cpu}, {os.cpu_count()} cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), Python {platform.python_version()}, {platform.system()}",
    ]
    if device.startswith("cuda") and torch.cuda.is_available():
        lines.append(f"device: {torch.cuda.get_device_name(torch.device(device))}")
    else:
        lines.append(f"device: {device}")
    return "\n".join(lines)


def mib(n: int) -> str:
    return f"{n / 2**20:,.0f}"


if __name__ == "__main__":
    sys.exit(main())
