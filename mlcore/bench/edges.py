"""Border stripes of the ml5.js / Engstrom fast-style networks, before and after the fix.

The figure, "stripe roughness". A stripe is a line parallel to an edge whose colour differs
from its neighbours' all along the edge. So for each side of the output, take the mean colour
of every line parallel to it (a row for the top and bottom, a column for the sides), from the
edge inward: the line profile. Averaged along hundreds of pixels, a photo's own content makes
that profile change slowly; stripes make it jump from line to line. The roughness of a stretch
of the profile is its mean |step| between neighbouring lines, in 0..255 levels per line,
averaged over the channels. The table shows it for the band of the first ``--bands`` width
along the worst side (the side where it is highest), for the baseline and the mode, their ratio
(baseline / mode: how many times smoother the border got), the same side's interior stretch
(lines ``INTERIOR`` pixels in: the photo's own level, no stripes reach it), and the band over
its interior for both (about 1 or below: no stripes). The time column is the mode's time over
the baseline's for one translation (the margin costs pixels; noisy on a shared machine).
``--json`` also holds every side and band width, and the plain statistics: each band's mean
colour and standard deviation against the interior stretch's, per channel.

Modes: ``exact`` (TensorFlow's arithmetic, the baseline), ``reflect:P`` and ``replicate:P``
(``P`` pixels of margin mirrored or repeated, then cropped: mlcore.fast_style.inferer.run_padded).
``default`` is what a model imported today does (the config's default through ``translate``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from mlcore.bench.harness import (
    Column,
    Report,
    Table,
    add_output_options,
    machine,
    ratio,
)

STYLES = ("la_muse", "rain_princess", "scream", "udnie", "wave", "wreck", "mathura", "matilde_perez", "matta")
IMAGES = ("chelsea.png", "hubble_deep_field.jpg", "astronaut.png")
# The interior stretch of a line profile (lines from the edge): past the reach of the stripes
# (about 40 lines, the widest seen), inside any photo of 256 pixels or more.
INTERIOR = (64, 128)


def _levels(x: float) -> str:
    return f"{x:.2f}"


TABLE = Table((
    Column("style", "style", 13, left=True),
    Column("image", "image", 21, left=True),
    Column("size", "size", 7),
    Column("mode", "mode", 12, left=True),
    Column("side", "side", 4, left=True),
    Column("baseline_edge", "baseline", 8, _levels, group="edge band"),
    Column("mode_edge", "mode", 6, _levels, group="edge band"),
    Column("edge_ratio", "ratio", 6, ratio, group="edge band"),
    Column("baseline_interior", "baseline", 8, _levels, group="interior"),
    Column("mode_interior", "mode", 6, _levels, group="interior"),
    Column("baseline_excess", "baseline", 8, ratio, group="band/interior"),
    Column("mode_excess", "mode", 6, ratio, group="band/interior"),
    Column("time_ratio", "time", 6, ratio),
))


def default_data_dir() -> Path:
    """RESTYLE_DATA_DIR (relative to the repository), else the repository's ../shared/data."""
    repo = Path(__file__).resolve().parents[2]
    return repo / os.environ.get("RESTYLE_DATA_DIR", str(repo.parent / "shared" / "data"))


def parse_mode(text: str) -> tuple[str, int]:
    """"exact" -> ("exact", 0); "reflect:48" -> ("reflect", 48); "default" -> the config's."""
    from mlcore.fast_style.config import DEFAULT_EDGES
    from mlcore.fast_style.inferer import EDGE_MODES, EDGE_PAD

    if text == "default":
        return (DEFAULT_EDGES, EDGE_PAD if DEFAULT_EDGES != "exact" else 0)
    kind, _, pad = text.partition(":")
    if kind == "exact" and not pad:
        return ("exact", 0)
    if kind not in EDGE_MODES or not pad.isdigit() or int(pad) % 4:
        raise ValueError(f"mode {text!r}: expected exact, default or {'|'.join(EDGE_MODES)}:P with P a multiple of 4")
    return (kind, int(pad))


def mode_name(mode: tuple[str, int]) -> str:
    return mode[0] if mode[0] == "exact" else f"{mode[0]}:{mode[1]}"


class EdgesCase:
    summary = ("border stripes of the 9 ml5.js fast-style networks on real photos: "
               "TensorFlow-exact vs the reflect margin, side by side")

    def main(self, argv: list[str], name: str) -> int:
        parser = argparse.ArgumentParser(prog=f"python -m mlcore.bench {name}", description=self.summary)
        parser.add_argument("--data", type=Path, default=default_data_dir(),
                            help="the shared data folder (default: RESTYLE_DATA_DIR or ../shared/data)")
        parser.add_argument("--styles", nargs="+", default=list(STYLES), help="default: all nine")
        parser.add_argument("--images", nargs="+", default=list(IMAGES), help=f"default: {' '.join(IMAGES)}")
        parser.add_argument("--long-side", type=int, default=512,
                            help="photos are shrunk to this, at least 256 (default: 512)")
        parser.add_argument("--bands", type=int, nargs="+", default=[16, 8],
                            help="band widths in lines, the first in the table (default: 16 8)")
        parser.add_argument("--baseline", default="exact", help="default: exact")
        parser.add_argument("--modes", nargs="+", default=["default"],
                            help="default: default (the config's); e.g. reflect:32 reflect:48 replicate:48")
        add_output_options(parser)
        args = parser.parse_args(argv)
        try:
            baseline = parse_mode(args.baseline)
            modes = [parse_mode(m) for m in args.modes]
        except ValueError as exc:
            parser.error(str(exc))
        if args.long_side < 2 * INTERIOR[1] or min(args.bands) < 2 or max(args.bands) > INTERIOR[0]:
            parser.error(f"--long-side must be at least {2 * INTERIOR[1]} and the bands 2 to {INTERIOR[0]} lines")
        styles_dir = args.data / "pretrained" / "fast-style-ml5"
        missing = [s for s in args.styles if not (styles_dir / s).is_dir()]
        missing += [i for i in args.images if not (args.data / "images" / "content" / i).is_file()]
        if missing:
            parser.error(f"not in the data folder {args.data}: {', '.join(missing)} (set RESTYLE_DATA_DIR "
                         "or --data to the shared data folder)")

        import torch

        with torch.no_grad():  # not set_grad_enabled(False): a caller in this process keeps its mode
            return self._measure(args, baseline, modes, name=name, parser=parser, styles_dir=styles_dir)

    def _measure(self, args, baseline, modes, *, name, parser, styles_dir):
        inputs = {"styles": args.styles, "images": args.images, "long_side": args.long_side, "bands": args.bands,
                  "interior_lines": list(INTERIOR), "baseline": mode_name(baseline),
                  "modes": [mode_name(m) for m in modes], "data": str(args.data),
                  "weights": "the published ml5.js checkpoints", "precision": "fp32", "device": "cpu"}
        line = (f"inputs: {len(args.styles)} ml5.js styles x {', '.join(args.images)} (shrunk to long side "
                f"{args.long_side}); edge band {args.bands[0]} lines, interior lines {INTERIOR[0]}-{INTERIOR[1]}; "
                f"fp32, cpu; baseline {mode_name(baseline)}, modes {', '.join(inputs['modes'])}")
        notes = (("stripe roughness = mean |colour step| between neighbouring lines parallel to a side (each "
                 "line's mean colour), levels per line; edge band on the worst side, interior = the same side's "
                 f"lines {INTERIOR[0]}-{INTERIOR[1]}; ratio = baseline / mode (higher: smoother border); "
                 "band/interior about 1 or below: no stripes; time = the mode's / the baseline's"),)
        report = Report(case=name, json_to=args.json, machine=machine("cpu"), inputs=inputs, inputs_line=line,
                        table=TABLE, notes=notes)
        with tempfile.TemporaryDirectory(prefix="mlcore-bench-edges-") as scratch:
            photos = {image: load_photo(args.data / "images" / "content" / image, args.long_side)
                      for image in args.images}
            small = [f"{i} ({p.shape[-1]}x{p.shape[-2]})" for i, p in photos.items() if min(p.shape[-2:]) < INTERIOR[1]]
            if small:
                parser.error(f"photos need both sides of at least {INTERIOR[1]} px for the interior lines: "
                             + ", ".join(small))
            for style in args.styles:
                net = load_style(styles_dir / style, Path(scratch))
                run(net, photos[args.images[0]], baseline)  # warm-up: the first run allocates
                for image, photo in photos.items():
                    base = measure(net, photo, baseline, bands=args.bands)
                    for mode in modes:
                        report.add(row(style, image, mode, base, measure(net, photo, mode, bands=args.bands)))
        return report.finish(summary(report.data["rows"]))


def load_photo(path: Path, long_side: int):
    """``1 x 3 x H x W`` float32 in 0..255, shrunk (Lanczos) so its long side is at most ``long_side``."""
    from PIL import Image

    from mlcore import images

    with images.open_image(path) as img:
        rgb = img.convert("RGB")
    rgb.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    return images.pil_to_tensor(rgb) * 255.0


def load_style(folder: Path, scratch: Path):
    """The published style imported with mlcore's importer, as an EngstromNet in eval mode."""
    from mlcore.checkpoint import load_model
    from mlcore.importers.ml5 import import_ml5
    from mlcore.registry import get_family

    checkpoint = load_model(import_ml5(folder, scratch / f"{folder.name}.safetensors"))
    net = get_family("fast_style").build(checkpoint.config)
    net.load_state_dict(checkpoint.state_dict)
    return net.eval()


def run(net, x, mode: tuple[str, int]):
    """The network's 0..255 output on ``x`` (0..255) in ``mode``."""
    from mlcore.fast_style.inferer import run_padded

    kind, pad = mode
    return net(x) if kind == "exact" else run_padded(net, x, pad=pad, mode=kind)


def measure(net, photo, mode: tuple[str, int], *, bands: list[int]) -> dict[str, Any]:
    """The stripe figures of ``mode`` on ``photo`` (module docstring)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    y = run(net, photo, mode)[0]  # 3 x H x W, 0..255
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    height, width = y.shape[-2:]
    out: dict[str, Any] = {"size": f"{width}x{height}", "seconds": seconds, "cpu_seconds": cpu_seconds,
                           "load_average": round(os.getloadavg()[0], 2)}
    profiles = line_profiles(y)
    out["interior"] = {side: roughness(p, *INTERIOR) for side, p in profiles.items()}
    for b in bands:
        out[f"band{b}"] = {side: roughness(p, 0, b) for side, p in profiles.items()}
        # The plain statistics: each band's mean colour and spread against the interior
        # stretch's, per channel (the photo's own content moves these too).
        out[f"band{b}_stats"] = {side: _band_stats(y, side, b) for side in profiles}
    first = out[f"band{bands[0]}"]
    worst = max(first, key=first.get)
    out["worst_side"], out["edge"], out["edge_interior"] = worst, first[worst], out["interior"][worst]
    return out


def line_profiles(y) -> dict[str, Any]:
    """side -> ``3 x n``: the mean colour of each line parallel to that side, from the edge inward."""
    rows, columns = y.mean(2), y.mean(1)
    return {"top": rows, "bottom": rows.flip(1), "left": columns, "right": columns.flip(1)}


def roughness(profile, start: int, stop: int) -> float:
    """Mean |step| of a line profile between lines ``start`` and ``stop`` (levels per line,
    averaged over the channels)."""
    return float((profile[:, start + 1 : stop] - profile[:, start : stop - 1]).abs().mean())


def _band_stats(y, side: str, b: int) -> dict[str, list[float]]:
    start, stop = INTERIOR
    cut = {"top": lambda a, z: y[:, a:z], "bottom": lambda a, z: y[:, y.shape[1] - z : y.shape[1] - a],
           "left": lambda a, z: y[:, :, a:z], "right": lambda a, z: y[:, :, y.shape[2] - z : y.shape[2] - a]}[side]
    band, inner = cut(0, b).flatten(1), cut(start, stop).flatten(1)
    return {"mean_difference": (band.mean(1) - inner.mean(1)).tolist(),
            "std_difference": (band.std(1) - inner.std(1)).tolist()}


def row(style: str, image: str, mode: tuple[str, int], base: dict, got: dict) -> dict[str, Any]:
    """One line of the table: the worst side of each (side: the baseline's/the mode's)."""
    return {"style": style, "image": image, "size": got["size"], "mode": mode_name(mode),
            "side": f"{base['worst_side'][0]}/{got['worst_side'][0]}",
            "baseline_edge": base["edge"], "mode_edge": got["edge"], "edge_ratio": base["edge"] / got["edge"],
            "baseline_interior": base["edge_interior"], "mode_interior": got["edge_interior"],
            "baseline_excess": base["edge"] / base["edge_interior"], "mode_excess": got["edge"] / got["edge_interior"],
            "time_ratio": got["seconds"] / base["seconds"], "baseline": base, "measured": got}


def summary(rows: list[dict[str, Any]]) -> dict[str, str]:
    """One footnote per mode: its ratios and band/interior over every style and photo."""
    notes = {}
    for mode in dict.fromkeys(r["mode"] for r in rows):
        mine = [r for r in rows if r["mode"] == mode]
        ratios = [r["edge_ratio"] for r in mine]
        least = min(mine, key=lambda r: r["edge_ratio"])
        rough = max(mine, key=lambda r: r["mode_excess"])
        notes[mode] = (f"edge band {min(ratios):.2f}x to {max(ratios):.2f}x smoother than the baseline's (geometric "
                       f"mean {statistics.geometric_mean(ratios):.2f}x over {len(mine)} style/photo pairs; least "
                       f"{least['style']} on {least['image']}); band/interior at most {rough['mode_excess']:.2f}x "
                       f"({rough['style']} on {rough['image']}), baseline's at most "
                       f"{max(r['baseline_excess'] for r in mine):.2f}x")
    return notes


CASE = EdgesCase()
