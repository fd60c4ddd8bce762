"""``python -m mlcore.bench memory --tiled``: peak memory of the tiled translation of large photos.

For each network and photo size, each measurement in a child process of its own (random seeded
weights: memory does not depend on them, and the exact tiling must match untiled for any):

- untiled: mlcore's estimate of the whole translation, and its measured peak where that
  estimate is under ``--untiled-limit-mb`` (the baseline; on a small machine an untiled
  4096x4096 translation would take 12-15 GiB, so there it is an estimate only);
- tiled: ``Inferer.translate(photo, max_bytes=budget, tile=side)``, the path a worker takes for
  a photo that does not fit whole: the size it converted at (the photo's own unless even the
  tiled run would not fit the budget), mlcore's tiled estimate, the measured peak RSS above the
  process with the network loaded, and the whole process's peak (VmHWM from its start: Python,
  torch, the network, the photo and the translation) against ``--bound-gib``;
- the seconds of each, and where both ran, the mean absolute difference of the 8-bit pictures
  (in 1/255) of tiled and untiled.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from mlcore.bench.harness import (
    Column,
    MeasurementFailed,
    MiB,
    Report,
    Table,
    add_output_options,
    machine,
    mebibytes,
    peak_rss,
    reset_peak_rss,
    run_child,
)

GiB = 2**30
CASES = {
    "johnson": ("fast_style", {"variant": "johnson"}, "Johnson fast style (pytorch/examples TransformerNet)"),
    "engstrom": ("fast_style", {"variant": "engstrom"}, "Engstrom/ml5 fast style"),
    "pix2pix": ("pix2pix", {}, "Pix2Pix unet_256"),
}
DEFAULT_CASES = ("johnson", "engstrom")
DEFAULT_SIZES = ("1024x768", "4032x3024", "4096x4096")

TABLE = Table((
    Column("case", "network", 8, left=True),
    Column("photo", "photo", 9),
    Column("untiled_estimate", "estimate", 8, mebibytes, group="untiled MiB"),
    Column("untiled_peak", "peak", 6, mebibytes, group="untiled MiB"),
    Column("tiled_size", "converted at", 12, group="tiled"),
    Column("tiled_estimate", "estimate", 8, mebibytes, group="tiled"),
    Column("tiled_peak", "peak", 6, mebibytes, group="tiled"),
    Column("tiled_process_peak", "process", 7, mebibytes, group="tiled"),
    Column("within_bound", "<=bound", 7, lambda ok: "yes" if ok else "NO", group="tiled"),
    Column("untiled_seconds", "untiled", 7, lambda s: f"{s:.1f}", group="seconds"),
    Column("tiled_seconds", "tiled", 7, lambda s: f"{s:.1f}", group="seconds"),
    Column("mae_255", "MAE/255", 8, lambda e: f"{e:.4f}"),
))


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a size is WIDTHxHEIGHT, e.g. 4032x3024; got {text!r}") from None
    if width < 1 or height < 1:
        raise argparse.ArgumentTypeError(f"a size must be at least 1x1; got {text!r}")
    return width, height


class TiledMemoryCase:
    summary = "peak memory of tiled translations of 12 MP and 4096x4096 photos against untiled (--tiled)"

    def main(self, argv: list[str], name: str) -> int:
        parser = argparse.ArgumentParser(prog=f"python -m mlcore.bench {name} --tiled", description=self.summary)
        parser.add_argument("--sizes", type=_size, nargs="+", default=[_size(s) for s in DEFAULT_SIZES],
                            help=f"photo sizes (default: {' '.join(DEFAULT_SIZES)})")
        parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(DEFAULT_CASES),
                            help=f"default: {' '.join(DEFAULT_CASES)}")
        parser.add_argument("--budget-mb", type=float, default=2304,
                            help="the memory budget of the tiled run (default: 2304, RESTYLE_CONVERSION_MEMORY_MB's)")
        parser.add_argument("--tile", type=int, help="tile side (default: each network's own)")
        parser.add_argument("--untiled-limit-mb", type=float, default=3072,
                            help="measure the untiled run only where its estimate is below this (default: 3072)")
        parser.add_argument("--bound-gib", type=float, default=3.0,
                            help="the whole process's peak the tiled run must stay under (default: 3)")
        add_output_options(parser)
        args = parser.parse_args(argv)
        if args.tile is not None and args.tile < 4:
            parser.error("--tile must be at least 4")

        sizes = [f"{w}x{h}" for w, h in args.sizes]
        inputs = {"sizes": sizes, "cases": {c: CASES[c][2] for c in args.cases}, "budget_bytes": args.budget_mb * MiB,
                  "tile": args.tile, "untiled_limit_bytes": args.untiled_limit_mb * MiB,
                  "bound_bytes": args.bound_gib * GiB, "weights": "random (seeded)", "precision": "fp32",
                  "device": "cpu", "photo": "synthetic (smooth random), RGB"}
        line = (f"inputs: {', '.join(sizes)} photos; {', '.join(inputs['cases'].values())}; random weights, fp32, "
                f"cpu; budget {args.budget_mb:g} MiB, tiles of {args.tile or 'the network default'}; untiled measured "
                f"where its estimate is under {args.untiled_limit_mb:g} MiB; bound {args.bound_gib:g} GiB")
        report = Report(case=name, json_to=args.json, machine=machine("cpu"), inputs=inputs, inputs_line=line,
                        table=TABLE, notes=(
                            "untiled = Inferer.translate(photo, tile=None), the baseline; tiled = "
                            "Inferer.translate(photo, max_bytes=budget, tile=side)",
                            "peak = VmHWM above the process with the network and photo loaded; process = "
                            "the whole process's VmHWM"))
        with tempfile.TemporaryDirectory(prefix="mlcore-bench-tiled-") as scratch:
            for case in args.cases:
                for width, height in args.sizes:
                    report.add(self._row(name, args, case, width, height, Path(scratch)))
        return report.finish({"MAE/255": "mean absolute difference of the 8-bit tiled and untiled pictures",
                              "estimate": "mlcore's, made before the run (Inferer.memory, Inferer.tiled_memory)"})

    def _row(self, name: str, args: argparse.Namespace, case: str, width: int, height: int, scratch: Path) -> dict:
        row = {"case": case, "photo": f"{width}x{height}"}
        job = {"kind": "tiled", "case": case, "width": width, "height": height, "budget": args.budget_mb * MiB,
               "tile": args.tile}
        errors = []
        try:
            tiled = run_child(name, {**job, "what": "tiled", "out": str(scratch / f"{case}-tiled.png")})
            row.update({f"tiled_{key}": value for key, value in tiled.items() if key != "untiled_estimate"})
            row["untiled_estimate"] = tiled["untiled_estimate"]
            row["within_bound"] = tiled["process_peak"] <= args.bound_gib * GiB
        except MeasurementFailed as exc:
            errors.append(f"tiled: {exc}")
        if not errors and row["untiled_estimate"] <= args.untiled_limit_mb * MiB:
            try:
                untiled = run_child(name, {**job, "what": "untiled", "out": str(scratch / f"{case}-untiled.png")})
                row.update({f"untiled_{key}": value for key, value in untiled.items()
                            if key not in ("untiled_estimate", "estimate")})
                row["mae_255"] = _mae_255(scratch / f"{case}-tiled.png", scratch / f"{case}-untiled.png")
            except MeasurementFailed as exc:
                errors.append(f"untiled: {exc}")
        if errors:
            row["error"] = "; ".join(errors)
        return row


def _mae_255(a: Path, b: Path) -> float:
    import numpy as np
    from PIL import Image

    with Image.open(a) as first, Image.open(b) as second:
        x, y = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    if x.shape != y.shape:
        raise MeasurementFailed(f"tiled {x.shape} and untiled {y.shape} pictures differ in size")
    return float(np.abs(x - y).mean())


def measure(job: dict) -> dict:
    """One translation in this process (``job["what"]``: "tiled" or "untiled"); its picture is
    saved to ``job["out"]`` for the parent to compare."""
    import random

    import torch

    from mlcore.bench.harness import synthetic_image
    from mlcore.inference import Inferer
    from mlcore.registry import get_family

    family, config, _ = CASES[job["case"]]
    record = get_family(family)
    cfg = record.config_class(**config)
    torch.manual_seed(0)
    inferer = Inferer(record.build(cfg), family=record, config=cfg)
    width, height = job["width"], job["height"]
    side = job["tile"] or inferer.tiler.default_tile
    untiled_estimate = inferer.memory.bytes_for(width, height)
    photo = synthetic_image(width, height, random.Random(1))
    torch.set_grad_enabled(False)
    loading_peak = peak_rss()
    before = reset_peak_rss()
    started = time.perf_counter()
    if job["what"] == "tiled":
        size, _ = inferer.plan(width, height, max_bytes=job["budget"], tile=side)
        estimate = inferer.tiled_memory(side).bytes_for(*size)
        result = inferer.translate(photo, max_bytes=job["budget"], tile=side)
    else:
        estimate = untiled_estimate
        result = inferer.translate(photo, tile=None)
    seconds = time.perf_counter() - started
    peak = peak_rss()
    result.save(job["out"])
    return {"size": f"{result.width}x{result.height}", "estimate": estimate, "untiled_estimate": untiled_estimate,
            "peak": peak - before, "process_peak": max(peak, loading_peak), "loaded": before,
            "seconds": seconds, "cpu_threads": torch.get_num_threads(),
            "load_average": round(os.getloadavg()[0], 2)}


CASE = TiledMemoryCase()
