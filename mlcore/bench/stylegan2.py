"""StyleGAN2 (Karras et al. 2020) on the benchmark harness: training, generation and projection.

Rows, each measured in a child process of its own (mlcore.bench.harness):

- training, seconds per kimg (thousand real images shown to D) and peak memory: ``engine`` is a
  real mlcore.engine run on the dataset folder; ``baseline`` is a bare loop of the same step
  written inline here (the same losses and phases, plain ``zero_grad/backward/step``, no engine,
  no Precision, no metrics), on the networks and optimisers the run would start from
  (``Trainer.make_task``) and on its first batch, held fixed. The timed window is ``--steps``
  steps after ``--warmup``; 16 steps (the default) hold the lazy schedule's proportions exactly
  (4 path-length and 1 R1 step in 16). Both record their first step's losses, which agree when
  they really ran the same step.
- NVlabs' published figure for comparison: stylegan2-ada-pytorch's README, 256 px, config auto,
  one A100: 12.53 s/kimg. Printed as a reference row, never measured here.
- generation, images per second: ``baseline`` a bare ``G(z)`` loop, ``engine`` (the measured
  thing) ``mlcore.stylegan2.generate.generate`` (seeds to PIL images, truncation 0.7).
- projection, steps per second: ``mlcore.stylegan2.project.project`` on a synthetic photo, timed
  between its progress reports (the set-up, w_avg sampling, is not a step).

On the CPU the default networks are the tiny64 preset's (64 px, channels up to 64): NVlabs' auto
networks at 64 px take minutes per step on two cores. ``--networks auto`` trains NVlabs' auto
configuration at ``--size`` (e.g. 256 on a GPU).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from mlcore.bench.harness import (
    PRECISIONS,
    Column,
    MeasurementFailed,
    Report,
    Table,
    add_output_options,
    machine,
    mebibytes,
    peak_bytes,
    peak_memory_source,
    ratio,
    reset_peak,
    run_child,
    synthetic_image,
    synthetic_images,
)

__all__ = ["CASE", "PUBLISHED_S_PER_KIMG", "bare_step"]

# NVlabs stylegan2-ada-pytorch README, "Expected training time": 256 px, 1 GPU (A100), cfg auto.
PUBLISHED_S_PER_KIMG = 12.53
PUBLISHED = "NVlabs stylegan2-ada-pytorch README: 256 px, config auto, 1x A100 (published, not measured here)"


def _rate(x: float) -> str:
    return f"{x:.3f}" if x < 1000 else f"{x:,.0f}"


TABLE = Table((
    Column("what", "what", 36, left=True),
    Column("unit", "unit", 8, left=True),
    Column("baseline", "baseline", 9, _rate),
    Column("measured", "engine", 9, _rate),
    Column("ratio", "ratio", 6, ratio),
    Column("baseline_peak_bytes", "baseline", 9, mebibytes, group="peak MiB"),
    Column("measured_peak_bytes", "engine", 9, mebibytes, group="peak MiB"),
    Column("note", "note", 40, left=True),
))


def config_for(args_or_job: Any) -> Any:
    from mlcore.stylegan2.config import StyleGAN2TrainConfig

    get = args_or_job.get if isinstance(args_or_job, dict) else lambda k: getattr(args_or_job, k)
    if get("networks") == "auto":
        config = StyleGAN2TrainConfig.auto(get("size"))
    else:
        config = StyleGAN2TrainConfig.preset(f"tiny{get('size')}" if get("size") in (32, 64) else "tiny64")
        config = config.override({"arch.resolution": get("size")})
    if get("batch_size"):
        config = config.override({"batch_size": get("batch_size"),
                                  "mbstd_group_size": min(config.mbstd_group_size, get("batch_size"))})
    return config


# --- the bare loop -------------------------------------------------------------------------


def bare_step(task: Any, reals: Any, step: int) -> dict[str, float]:
    """One StyleGAN2 step written out without the engine: Gmain, Greg (lazy), Dmain, Dreg
    (lazy), the EMA and ADA, on ``task``'s networks and optimisers, drawing its random numbers
    in the order the task does (so the first step's losses are the task's)."""
    import torch
    import torch.nn.functional as F

    from mlcore.stylegan2 import losses

    cfg = task.config
    G, D, G_ema, pipe, state = task.G, task.D, task.G_ema, task.augment, task.state
    opt_g, opt_d = task.optimizers["G"], task.optimizers["D"]
    aug = pipe if task.ada else (lambda x: x)
    n = reals.shape[0]

    def generate(count: int):
        z = torch.randn([count, G.z_dim], device=reals.device)
        cutoff = torch.randint(1, G.num_ws, [], device=reals.device)
        cutoff = torch.where(torch.rand([], device=reals.device) < cfg.style_mixing_prob, cutoff,
                             torch.full_like(cutoff, G.num_ws))
        mix_z = torch.randn_like(z)
        ws = G.mapping(z, None, update_emas=True)
        later = torch.arange(G.num_ws, device=reals.device)[None, :, None] >= cutoff
        ws = torch.where(later, G.mapping(mix_z, None, update_emas=False), ws)
        return G.synthesis(ws, noise_mode="random"), ws

    def adam(opt, loss):
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    D.requires_grad_(False)
    img, _ = generate(n)
    g_loss = F.softplus(-D(aug(img), None)).mean()
    adam(opt_g, g_loss)
    if step % cfg.g_reg_interval == 0:
        img, ws = generate(max(n // cfg.pl_batch_shrink, 1))
        noise = torch.randn_like(img) / math.sqrt(img.shape[2] * img.shape[3])
        (grads,) = torch.autograd.grad((img * noise).sum(), ws, create_graph=True)
        lengths = grads.square().sum(2).mean(1).sqrt()
        pl_mean = state.pl_mean.lerp(lengths.mean().detach(), cfg.pl_decay)
        state.pl_mean.copy_(pl_mean)
        adam(opt_g, (img[:, 0, 0, 0] * 0 + (lengths - pl_mean).square() * cfg.pl_weight).mean() * cfg.g_reg_interval)
    D.requires_grad_(True)

    with torch.no_grad():
        img, _ = generate(n)
    fake_logits = D(aug(img), None)
    real_logits = D(aug(reals), None)
    if task.ada:
        task.controller.observe(real_logits)
    d_loss = F.softplus(fake_logits).mean() + F.softplus(-real_logits).mean()
    adam(opt_d, d_loss)
    if step % cfg.d_reg_interval == 0:
        x = reals.detach().requires_grad_(True)
        logits = D(aug(x), None)
        if task.ada:
            task.controller.observe(logits)
        (grads,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
        r1 = grads.square().sum([1, 2, 3])
        adam(opt_d, (logits.squeeze(1) * 0 + r1 * (cfg.r1_gamma / 2)).mean() * cfg.d_reg_interval)

    with torch.no_grad():
        beta = losses.ema_beta(cfg.batch_size, int(state.images_seen), ema_kimg=cfg.ema_kimg,
                               ema_rampup=cfg.ema_rampup)
        for p_ema, p in zip(G_ema.parameters(), G.parameters()):
            p_ema.copy_(p.lerp(p_ema, beta))
        for b_ema, b in zip(G_ema.buffers(), G.buffers()):
            b_ema.copy_(b)
    state.images_seen += cfg.batch_size
    state.steps += 1
    if task.ada:
        task.controller.step(pipe)
    return {"g_loss": g_loss.item(), "d_loss": d_loss.item()}


# --- measurements (in the child) -----------------------------------------------------------


def _clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _measure_training(job: dict[str, Any]) -> dict[str, Any]:
    from mlcore.bench.harness import _engine
    from mlcore.engine import Trainer

    device, warmup, steps = job["device"], job["warmup"], job["steps"]
    reset_peak(device)
    config = config_for(job)
    with tempfile.TemporaryDirectory(prefix=f"{job['what']}-", dir=job.get("scratch")) as folder:
        trainer = Trainer.create(Path(folder) / "run", family="stylegan2", config=config,
                                 inputs={"data": job["data"]}, steps=warmup + steps + 1, device=device,
                                 precision=job["precision"], num_workers=job["workers"], log_every=1,
                                 sample_every=0, checkpoint_every=0)
        if job["what"] == "engine":
            seconds, cpu, first = _engine(trainer, warmup=warmup, steps=steps)
        else:
            task, _ = trainer.make_task()
            batch = trainer.first_batch(task)
            task.set_training(True)
            first = bare_step(task, batch, 0)
            for k in range(1, warmup):
                bare_step(task, batch, k)
            _sync(device)
            (wall0, cpu0) = _clocks()
            for k in range(warmup, warmup + steps):
                bare_step(task, batch, k)
            _sync(device)
            (wall1, cpu1) = _clocks()
            seconds, cpu = wall1 - wall0, cpu1 - cpu0
    kimg = steps * config.batch_size / 1000
    return {"value": seconds / kimg, "kimg": kimg, "seconds": seconds, "cpu_seconds": cpu,
            "peak_bytes": peak_bytes(device), "first_step": {k: first[k] for k in ("g_loss", "d_loss")},
            "load_average": round(os.getloadavg()[0], 2)}


def _generator(job: dict[str, Any]):
    import torch

    from mlcore.stylegan2.networks import build

    torch.manual_seed(0)
    return build(config_for(job).arch).to(job["device"]).eval().requires_grad_(False)


def _measure_generation(job: dict[str, Any]) -> dict[str, Any]:
    import torch

    from mlcore.stylegan2 import generate

    device, count, batch = job["device"], job["gen_images"], job["gen_batch"]
    G = _generator(job)
    reset_peak(device)
    seeds = list(range(count))
    if job["what"] == "baseline":
        def run() -> None:
            with torch.no_grad():
                for start in range(0, count, batch):
                    z = torch.randn([min(batch, count - start), G.z_dim], device=device)
                    G(z, None, truncation_psi=0.7, noise_mode="const")
    else:
        def run() -> None:
            generate.generate(G, seeds, truncation_psi=0.7, batch_size=batch)
    run()  # warm-up
    _sync(device)
    wall0, cpu0 = _clocks()
    run()
    _sync(device)
    wall1, cpu1 = _clocks()
    return {"value": count / (wall1 - wall0), "seconds": wall1 - wall0, "cpu_seconds": cpu1 - cpu0,
            "peak_bytes": peak_bytes(device), "load_average": round(os.getloadavg()[0], 2)}


def _measure_projection(job: dict[str, Any]) -> dict[str, Any]:
    import random

    try:
        from mlcore.stylegan2.project import project
    except ImportError as exc:
        raise RuntimeError(f"mlcore.stylegan2.project is not in this mlcore ({exc})") from exc
    device, steps = job["device"], job["project_steps"]
    G = _generator(job)
    reset_peak(device)
    target = synthetic_image(G.img_resolution, G.img_resolution, random.Random(0))
    stamps: list[tuple[int, float, float]] = []
    wall0, cpu0 = _clocks()
    result = project(G, target, steps=steps, w_avg_samples=job["w_avg_samples"],
                     progress_every=steps,  # progress every step, an image only at the end: a worker's cost
                     on_progress=lambda p: stamps.append((p.step, *_clocks())))
    wall1, cpu1 = _clocks()
    if len(stamps) >= 2 and stamps[-1][0] > stamps[0][0]:
        done = stamps[-1][0] - stamps[0][0]
        seconds, cpu = stamps[-1][1] - stamps[0][1], stamps[-1][2] - stamps[0][2]
    else:  # too few progress reports to time the steps alone: the whole call, set-up included
        done, seconds, cpu = result.steps_run, wall1 - wall0, cpu1 - cpu0
    return {"value": done / seconds, "steps": done, "seconds": seconds, "cpu_seconds": cpu,
            "distance": result.distance_label, "peak_bytes": peak_bytes(device),
            "load_average": round(os.getloadavg()[0], 2)}


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize(device)


MEASURES = {"training": _measure_training, "generation": _measure_generation, "projection": _measure_projection}


# --- the command ---------------------------------------------------------------------------


class _Case:
    summary = "StyleGAN2 training s/kimg at 64 px (engine vs a bare loop, NVlabs' published 256 px figure), " \
              "generation img/s, projection steps/s"

    def parser(self, name: str) -> argparse.ArgumentParser:
        p = argparse.ArgumentParser(prog=f"python -m mlcore.bench {name}", description=self.summary)
        p.add_argument("--networks", choices=("tiny", "auto"), default="tiny",
                       help="tiny: the tiny preset's networks (default, for CPUs); auto: NVlabs' --cfg=auto")
        p.add_argument("--size", type=int, default=64, help="image side (default: 64)")
        p.add_argument("--batch-size", type=int, help="images per step (default: the config's)")
        p.add_argument("--warmup", type=int, default=1, help="untimed training steps first (default: 1)")
        p.add_argument("--steps", type=int, default=16, help="timed training steps (default: 16, one lazy-R1 cycle)")
        p.add_argument("--device", default="cpu", help="default: cpu")
        p.add_argument("--precision", default="fp32", choices=PRECISIONS,
                       help="the engine run's precision (the bare loop is fp32); default: fp32")
        p.add_argument("--workers", type=int, default=0, help="engine data loading processes (default: 0)")
        p.add_argument("--data", help="a folder of images (default: synthetic pictures)")
        p.add_argument("--gen-images", type=int, default=16, help="images generated per timing (default: 16)")
        p.add_argument("--gen-batch", type=int, default=4, help="generation batch size (default: 4)")
        p.add_argument("--project-steps", type=int, default=10, help="projection steps (default: 10)")
        p.add_argument("--w-avg-samples", type=int, default=1000,
                       help="latents the projector averages for its start (default: 1000)")
        p.add_argument("--skip", nargs="*", choices=tuple(MEASURES), default=[], help="rows to leave out")
        add_output_options(p)
        return p

    def main(self, argv: list[str], name: str) -> int:
        parser = self.parser(name)
        args = parser.parse_args(argv)
        if args.child:
            job = json.loads(args.child)
            print(json.dumps(MEASURES[job["kind"]](job)))
            return 0
        if args.warmup < 1 or args.steps < 1:
            parser.error("--warmup and --steps must be at least 1")
        try:
            config = config_for(args)
        except ValueError as exc:
            parser.error(str(exc))
        with tempfile.TemporaryDirectory(prefix="mlcore-bench-") as scratch:
            data = args.data or str(synthetic_images(Path(scratch) / "data", count=max(8, 2 * config.batch_size),
                                                     width=args.size))
            arch = config.arch
            networks = (f"tiny preset networks (channels up to {arch.channel_max}, mapping {arch.mapping_layers})"
                        if args.networks == "tiny" else "NVlabs --cfg=auto networks")
            inputs = {"family": "stylegan2", "networks": args.networks, "size": args.size,
                      "batch_size": config.batch_size, "device": args.device, "precision": args.precision,
                      "warmup": args.warmup, "steps": args.steps, "workers": args.workers,
                      "kimg_timed": args.steps * config.batch_size / 1000, "data": args.data or "synthetic",
                      "gen_images": args.gen_images, "gen_batch": args.gen_batch,
                      "project_steps": args.project_steps}
            line = (f"inputs: StyleGAN2 {networks}, {args.size}x{args.size}, batch {config.batch_size}, device "
                    f"{args.device}, precision {args.precision}, {args.warmup} warm-up + {args.steps} timed "
                    f"training step(s) = {inputs['kimg_timed']:g} kimg, engine data workers {args.workers}, "
                    f"data: {inputs['data']}; generation {args.gen_images} images in batches of {args.gen_batch}; "
                    f"projection {args.project_steps} steps")
            notes = ("training baseline = the same step written inline (bare loop, fixed first batch); "
                     "engine = the mlcore.engine run; ratio = engine / baseline",
                     "generation baseline = a bare G(z) loop; engine column = mlcore.stylegan2.generate.generate",
                     "the published row is NVlabs' figure on other hardware and 256 px: a reference, not a ratio")
            report = Report(case=name, json_to=args.json, machine=machine(args.device), inputs=inputs,
                            inputs_line=line, table=TABLE, notes=notes)
            common = {**vars(args), "data": data, "scratch": scratch, "batch_size": args.batch_size}
            common.pop("json"), common.pop("child"), common.pop("skip")
            if "training" not in args.skip:
                report.add(self._row(name, "training", f"training {args.size} px", "s/kimg", common,
                                     note=f"{inputs['kimg_timed']:g} kimg timed"))
            report.add({"what": "training 256 px, NVlabs (published)", "unit": "s/kimg",
                        "measured": PUBLISHED_S_PER_KIMG, "note": "1x A100, cfg auto; not measured here"})
            if "generation" not in args.skip:
                report.add(self._row(name, "generation", f"generation {args.size} px", "img/s", common))
            if "projection" not in args.skip:
                if importlib.util.find_spec("mlcore.stylegan2.project") is None:
                    report.add({"what": f"projection {args.size} px", "unit": "steps/s",
                                "note": "not measured: mlcore.stylegan2.project is not in this mlcore"})
                else:
                    report.add(self._row(name, "projection", f"projection {args.size} px", "steps/s", common,
                                         baseline=False))
        return report.finish({"published": PUBLISHED, "peak memory": peak_memory_source(args.device),
                              "s/kimg": "seconds per thousand real images shown to D (lower is faster)"})

    @staticmethod
    def _row(case: str, kind: str, what: str, unit: str, common: dict[str, Any], *, note: str = "",
             baseline: bool = True) -> dict[str, Any]:
        row: dict[str, Any] = {"what": what, "unit": unit, "note": note}
        try:
            for side in (("baseline", "measured") if baseline else ("measured",)):
                result = run_child(case, {**common, "kind": kind, "what": "engine" if side == "measured" else side})
                row[side] = result.pop("value")
                row[f"{side}_peak_bytes"] = result.pop("peak_bytes")
                row.update({f"{side}_{k}": v for k, v in result.items()})
        except MeasurementFailed as exc:
            row["error"] = str(exc)
            return row
        if baseline:
            row["ratio"] = row["measured"] / row["baseline"]
        if kind == "projection":
            row["note"] = f"distance: {row.get('measured_distance')}"
        return row


CASE = _Case()
