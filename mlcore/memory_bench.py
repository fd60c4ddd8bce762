"""Peak memory of a translation by photo size, with and without a memory budget:
``python -m mlcore.bench memory [--megapixels 1 4 12 16] [--budget-mb 2048] [--families ...]``.

Each case runs in a fresh process (so its peak RSS is its own) on random weights (memory does
not depend on them): the baseline translates the photo at its size; "budget" translates it with
``Inferer.translate(max_bytes=...)``, which shrinks a photo whose translation would not fit. It
prints the machine, the inputs, mlcore's estimate and the measured peak RSS (VmHWM) above the
loaded network, side by side.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from mlcore.bench import machine

NETWORKS = {
    "fast_style": ("fast_style", {"variant": "engstrom"}, "Engstrom/ml5 fast style (32/64/128, 5 residual blocks)"),
    "pix2pix": ("pix2pix", {}, "Pix2Pix unet_256"),
    "ugatit": ("ugatit", {"light": True}, "U-GAT-IT light"),
}
MiB = 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlcore.bench memory", description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, nargs="+", default=[1, 4, 12, 16])
    parser.add_argument("--budget-mb", type=float, default=2048)
    parser.add_argument("--families", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument("--no-baseline", action="store_true", help="skip the unbounded runs (they need the most memory)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_measure(json.loads(args.child))))
        return 0

    print(machine("cpu"))
    print(f"inputs: 4:3 photos of {', '.join(f'{mp:g}' for mp in args.megapixels)} MP, random weights, fp32, "
          f"budget {args.budget_mb:g} MiB; peak RSS above the loaded network, one process per case")
    print()
    print(f"{'network':<12} {'photo':>11} {'case':<9} {'converted at':>13} {'estimate':>10} {'peak':>10} {'vs baseline':>12}")
    for name in args.families:
        for mp in args.megapixels:
            width = int((mp * 1e6 * 4 / 3) ** 0.5)
            height = int(width * 3 / 4)
            baseline = None
            for case in (["budget"] if args.no_baseline else ["baseline", "budget"]):
                spec = {"network": name, "width": width, "height": height,
                        "budget": args.budget_mb * MiB if case == "budget" else None}
                out = subprocess.run([sys.executable, "-m", "mlcore.bench", "memory", "--child", json.dumps(spec)],
                                     capture_output=True, text=True)
                if out.returncode != 0:
                    print(f"{name:<12} {width}x{height:<6} {case:<9} failed: {out.stderr.strip().splitlines()[-1:]}")
                    continue
                r = json.loads(out.stdout.splitlines()[-1])
                baseline = r["peak"] if case == "baseline" else baseline
                ratio = f"{r['peak'] / baseline:.2f}x" if baseline and case == "budget" else ""
                print(f"{name:<12} {width:>5}x{height:<5} {case:<9} {r['size']:>13} {r['estimate'] / MiB:>7.0f} MiB "
                      f"{r['peak'] / MiB:>6.0f} MiB {ratio:>12}")
    return 0


def _measure(spec: dict) -> dict:
    import torch
    from PIL import Image

    from mlcore.inference import Inferer
    from mlcore.registry import get_family

    family, config, _ = NETWORKS[spec["network"]]
    record = get_family(family)
    cfg = record.config_class(**config)
    inferer = Inferer(record.build(cfg), family=record, config=cfg)
    photo = Image.new("RGB", (spec["width"], spec["height"]), (120, 140, 90))
    size = inferer.fit_size(photo.width, photo.height, spec["budget"]) if spec["budget"] else photo.size
    estimate = inferer.memory.bytes_for(*size)
    torch.set_grad_enabled(False)
    before = reset_peak_rss()
    result = inferer.translate(photo, max_bytes=spec["budget"])
    peak = peak_rss() - before
    return {"size": f"{result.width}x{result.height}", "estimate": estimate, "peak": peak}


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


if __name__ == "__main__":
    raise SystemExit(main())
