"""Peak memory of a translation by photo size, without and with a memory budget, on the harness.

Each measurement runs in a child process of its own on random weights (memory does not depend
on them): the baseline translates the photo at its size; "budget" translates it with
``Inferer.translate(max_bytes=...)``, which shrinks a photo whose translation would not fit.
For each it prints mlcore's estimate and the measured peak RSS (VmHWM, reset once the network
is loaded) above the loaded network, side by side.
"""

from __future__ import annotations

import argparse
import json
import os

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
    ratio,
    reset_peak_rss,
    run_child,
)

NETWORKS = {
    "fast_style": ("fast_style", {"variant": "engstrom"}, "Engstrom/ml5 fast style (32/64/128, 5 residual blocks)"),
    "pix2pix": ("pix2pix", {}, "Pix2Pix unet_256"),
    "ugatit": ("ugatit", {"light": True}, "U-GAT-IT light"),
}

TABLE = Table((
    Column("network", "network", 11, left=True),
    Column("photo", "photo", 11),
    Column("baseline_estimate", "estimate", 9, mebibytes, group="baseline MiB"),
    Column("baseline_peak", "peak", 9, mebibytes, group="baseline MiB"),
    Column("budget_size", "converted at", 12, group="with budget"),
    Column("budget_estimate", "estimate", 8, mebibytes, group="with budget"),
    Column("budget_peak", "peak", 8, mebibytes, group="with budget"),
    Column("ratio", "budget/baseline", 15, ratio),
))


class MemoryCase:
    summary = "peak memory of a translation by photo size (1 to 16 MP), without and with a memory budget"

    def main(self, argv: list[str], name: str) -> int:
        if "--tiled" in argv:  # the tiled path's own table (mlcore.bench.memory_tiled)
            from mlcore.bench.memory_tiled import CASE as TILED

            return TILED.main([a for a in argv if a != "--tiled"], name)
        parser = argparse.ArgumentParser(prog=f"python -m mlcore.bench {name}", description=self.summary)
        parser.add_argument("--megapixels", type=float, nargs="+", default=[1, 4, 12, 16], help="default: 1 4 12 16")
        parser.add_argument("--budget-mb", type=float, default=2048, help="default: 2048")
        parser.add_argument("--families", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
        parser.add_argument("--no-baseline", action="store_true",
                            help="skip the unbounded runs (they need the most memory)")
        parser.add_argument("--tiled", action="store_true", help="the tiled path instead: 12 MP and 4096x4096 "
                            "photos in tiles against untiled (its own options: --tiled --help)")
        add_output_options(parser)
        args = parser.parse_args(argv)
        if args.child:
            job = json.loads(args.child)
            if job.get("kind") == "tiled":
                from mlcore.bench.memory_tiled import measure as measure_tiled

                print(json.dumps(measure_tiled(job)))
            else:
                print(json.dumps(measure(job)))
            return 0

        inputs = {"megapixels": args.megapixels, "budget_bytes": args.budget_mb * MiB, "aspect": "4:3",
                  "weights": "random", "precision": "fp32", "device": "cpu",
                  "networks": {name: NETWORKS[name][2] for name in args.families}}
        line = (f"inputs: 4:3 photos of {', '.join(f'{mp:g}' for mp in args.megapixels)} MP, "
                f"{', '.join(inputs['networks'].values())}; random weights, fp32, cpu, "
                f"budget {args.budget_mb:g} MiB")
        report = Report(case=name, json_to=args.json, machine=machine("cpu"), inputs=inputs, inputs_line=line,
                        table=TABLE, notes=("baseline = the photo translated at its size; budget = "
                                            "Inferer.translate(max_bytes=budget); both on eager torch, "
                                            "which the estimate models",))
        for network in args.families:
            for mp in args.megapixels:
                width = int((mp * 1e6 * 4 / 3) ** 0.5)
                height = int(width * 3 / 4)
                row = {"network": network, "photo": f"{width}x{height}", "megapixels": mp}
                for case in ("budget",) if args.no_baseline else ("baseline", "budget"):
                    job = {"network": network, "width": width, "height": height,
                           "budget": args.budget_mb * MiB if case == "budget" else None}
                    try:
                        result = run_child(name, job)
                    except MeasurementFailed as exc:
                        row[f"{case}_error"] = str(exc)
                        continue
                    row.update({f"{case}_{key}": value for key, value in result.items()})
                if row.get("baseline_peak") and row.get("budget_peak"):
                    row["ratio"] = row["budget_peak"] / row["baseline_peak"]
                errors = [f"{case}: {row[f'{case}_error']}" for case in ("baseline", "budget")
                          if row.get(f"{case}_error")]
                if errors:
                    row["error"] = "; ".join(errors)
                report.add(row)
        return report.finish({"peak": "peak RSS (VmHWM) of the translating process above the loaded network"})


def measure(job: dict) -> dict:
    """One translation in this process: the size it ran at, mlcore's estimate and the peak."""
    import torch
    from PIL import Image

    from mlcore.inference import Inferer
    from mlcore.registry import get_family

    family, config, _ = NETWORKS[job["network"]]
    record = get_family(family)
    cfg = record.config_class(**config)
    # Eager torch, which mlcore's estimate models: under a budget, Inferer.translate keeps ONNX
    # Runtime to photos where 1.5 times the estimate fits (mlcore.inference.ONNX_MEMORY_FACTOR),
    # and an ONNX export at a new shape would land in this window.
    inferer = Inferer(record.build(cfg), family=record, config=cfg, backend="torch")
    photo = Image.new("RGB", (job["width"], job["height"]), (120, 140, 90))
    size = inferer.fit_size(photo.width, photo.height, job["budget"]) if job["budget"] else photo.size
    estimate = inferer.memory.bytes_for(*size)
    torch.set_grad_enabled(False)
    before = reset_peak_rss()
    result = inferer.translate(photo, max_bytes=job["budget"])
    peak = peak_rss() - before
    return {"size": f"{result.width}x{result.height}", "estimate": estimate, "peak": peak,
            "load_average": round(os.getloadavg()[0], 2)}


CASE = MemoryCase()
