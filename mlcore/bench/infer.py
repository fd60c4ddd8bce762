"""CPU inference speed: eager torch (the reference) against Restyle's ``Inferer`` with its
default settings, side by side in one process per row, on the harness.

The reference is ``family.translate(net, x)`` in eager torch under ``torch.inference_mode``
on the same network: mlcore's networks are the reference architectures (pytorch/examples
TransformerNet, Engstrom's TF network, junyanz's unet_256, znxlwm's U-GAT-IT light), so this
is the reference code's speed. Restyle is ``Inferer(net, ...).translate_tensor(x)``, whose
default backend is ONNX Runtime where it passes its parity probe. Random, seeded weights;
batch 1, fp32. Each side is warmed up first (the Inferer runs a shape's first picture eager and
exports at its second: the export and the session, reported as ``setup_s``), then they are timed in turns, ``--repeats``
times each, and the medians compared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from mlcore.bench.harness import (
    Column,
    MeasurementFailed,
    Report,
    Table,
    add_output_options,
    machine,
    ratio,
    run_child,
)

# name -> (family, config fields, what it is, default sizes)
NETWORKS = {
    "johnson": ("fast_style", {}, "fast style, pytorch/examples TransformerNet", (512, 1024)),
    "ml5": ("fast_style", {"variant": "engstrom"}, "fast style, Engstrom/ml5 network", (512, 1024)),
    "pix2pix": ("pix2pix", {"generator": "unet_256"}, "Pix2Pix unet_256", (256, 512)),
    "ugatit-light": ("ugatit", {"light": True}, "U-GAT-IT light generator", (256, 512)),
}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


TABLE = Table((
    Column("network", "network", 12, left=True),
    Column("size", "size", 9),
    Column("reference_s", "eager torch ms", 14, _ms),
    Column("restyle_s", "Inferer ms", 10, _ms),
    Column("ratio", "speed-up", 8, ratio),
    Column("mae_255", "MAE/255", 8, lambda x: f"{x:.4f}"),
    Column("backend", "backend", 11, left=True),
    Column("first_s", "first s", 7, lambda x: f"{x:.1f}"),
    Column("setup_s", "setup s", 7, lambda x: f"{x:.1f}"),
))


class InferCase:
    summary = ("CPU inference: eager torch (reference) vs Inferer's default backend, fast style at 512/1024, "
               "pix2pix and U-GAT-IT light at 256/512")

    def main(self, argv: list[str], name: str) -> int:
        parser = argparse.ArgumentParser(prog=f"python -m mlcore.bench {name}", description=self.summary)
        parser.add_argument("--networks", nargs="+", choices=list(NETWORKS), default=list(NETWORKS),
                            help=f"default: {' '.join(NETWORKS)}")
        parser.add_argument("--sizes", type=int, nargs="+",
                            help="square sides for every network (default: each network's own, see --help)")
        parser.add_argument("--repeats", type=int, default=5, help="timed runs of each side (default: 5)")
        add_output_options(parser)
        args = parser.parse_args(argv)
        if args.child:
            print(json.dumps(measure(json.loads(args.child))))
            return 0
        rows = [(network, size) for network in args.networks for size in (args.sizes or NETWORKS[network][3])]
        import torch

        inputs = {"networks": {n: NETWORKS[n][2] for n in args.networks}, "rows": [f"{n} {s}" for n, s in rows],
                  "repeats": args.repeats, "batch": 1, "precision": "fp32", "device": "cpu", "weights": "random",
                  "torch_threads": torch.get_num_threads()}
        line = (f"inputs: batch 1 RGB squares in [0, 1], fp32, cpu, random seeded weights, median of {args.repeats} "
                f"runs after a warm-up, torch threads {torch.get_num_threads()} (ONNX Runtime intra-op the same)")
        report = Report(case=name, json_to=args.json, machine=machine("cpu"), inputs=inputs, inputs_line=line,
                        table=TABLE, notes=("reference = family.translate(net, x) in eager torch; Inferer = "
                                            "Inferer(net, ...).translate_tensor(x) with default settings",))
        for network, size in rows:
            row = {"network": network, "size": f"{size}x{size}"}
            try:
                row.update(run_child(name, {"network": network, "size": size, "repeats": args.repeats}))
            except MeasurementFailed as exc:
                row["error"] = str(exc)
            report.add(row)
        return report.finish({
            "speed-up": "eager torch time / Inferer time (medians, timed in turns in one process)",
            "MAE/255": "mean absolute difference of the two outputs, in grey levels of 0..255",
            "first s": "the Inferer's first call at the shape, which runs eager torch (what a one-off picture costs)",
            "setup s": ("the Inferer's second call at the shape: parity probe, export and session (once per shape; "
                        "what the first picture cost while every first picture was exported)"),
        })


def measure(job: dict) -> dict:
    """One row in this process: both sides warmed up, then timed in turns."""
    import torch

    from mlcore.inference import Inferer
    from mlcore.registry import get_family

    family_name, fields, _, _ = NETWORKS[job["network"]]
    family = get_family(family_name)
    config = family.config_class(**fields)
    torch.manual_seed(0)
    net = family.build(config).eval().requires_grad_(False)
    inferer = Inferer(net, family=family, config=config)
    x = torch.rand(1, 3, job["size"], job["size"], generator=torch.Generator().manual_seed(1))

    def reference() -> torch.Tensor:
        with torch.inference_mode():
            return family.translate(net, x).float()

    started = time.perf_counter()
    inferer.translate_tensor(x)  # "auto" runs a shape's first picture eager; the second pays the export
    first = time.perf_counter() - started
    started = time.perf_counter()
    got = inferer.translate_tensor(x)
    setup = time.perf_counter() - started
    want = reference()
    times: dict[str, list[float]] = {"reference": [], "restyle": []}
    for _ in range(job["repeats"]):
        for side, run in (("reference", reference), ("restyle", lambda: inferer.translate_tensor(x))):
            started = time.perf_counter()
            run()
            times[side].append(time.perf_counter() - started)
    reference_s, restyle_s = (statistics.median(times[side]) for side in ("reference", "restyle"))
    return {"reference_s": reference_s, "restyle_s": restyle_s, "ratio": reference_s / restyle_s,
            "mae_255": (got - want).abs().mean().item() * 255, "backend": inferer.last_backend, "first_s": first,
            "setup_s": setup,
            "reference_times_s": times["reference"], "restyle_times_s": times["restyle"],
            "cpu_seconds": time.process_time(), "load_average": round(os.getloadavg()[0], 2)}


CASE = InferCase()
