"""Command line for mlcore: ``python -m mlcore <command> ...`` (or the ``mlcore`` script).

    mlcore import <format> SRC OUT [--name NAME] [format options]     formats: mlcore.importers.FORMATS
    mlcore translate --model CKPT IN OUT [--device cpu] [--dtype fp32|bf16|fp16] [--max-memory-mb N]
    mlcore info CKPT
    mlcore export --format onnx|torchscript CKPT OUT [--size HxW] [--batch N]
    mlcore train <family> --run-dir DIR [--<input> PATH ...] [--preset NAME] [--set KEY=VALUE ...]
    mlcore train <family> --run-dir DIR --resume
    torchrun --nproc-per-node N -m mlcore train <family> ...   (N processes, one GPU each; DDP)
    mlcore gatys --content IMG --style IMG --output OUT [--preset NAME] [--set KEY=VALUE ...]
    mlcore make-pairs SRC OUT --kind edges2photo|gray2color [--count N] [--size S]
    mlcore generate --model CKPT --seeds 0-7 [--truncation 0.7] [--noise const|random|none] OUTDIR
    mlcore mix --model CKPT --row-seeds 1,2 [--latent FILE.npz ...] --col-seeds 3,4 --layers coarse|middle|fine|A-B OUT
    mlcore interpolate --model CKPT --seeds 0-3 [--frames N] [--fps F] OUT.webp
    mlcore project --model CKPT PHOTO OUTDIR [--space w|w+] [--steps N] [--distance lpips|fallback]

``train`` and ``import`` are generated: one ``train <family>`` per trainable family of the
registry, with one ``--<input>`` per input its training record names and the same run
arguments for all; one ``import <format>`` per row of the importers table, with that format's
options. Expected failures exit with status 1 and a one-line message; bad usage exits 2; a run
stopped with Ctrl-C (after saving what it has) exits 130. torch is imported by the handlers, not
here, so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from mlcore import __version__
from mlcore.importers import FORMATS, ImportOption
from mlcore.registry import trainable_families

log = logging.getLogger("mlcore.cli")

PRECISIONS = ("fp32", "bf16", "fp16")
_METAVARS = {"image": "IMG", "folder": "DIR", "file": "PATH"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlcore", description="Restyle mlcore: train, import, inspect and run image-to-image models.",
    )
    parser.add_argument("--version", action="version", version=f"mlcore {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log progress (-vv: debug)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_import(commands)
    _add_translate(commands)
    _add_info(commands)
    _add_export(commands)
    _add_train(commands)
    _add_gatys(commands)
    _add_make_pairs(commands)
    _add_generate(commands)
    _add_mix(commands)
    _add_interpolate(commands)
    _add_project(commands)
    return parser


class Stopped(Exception):
    """A run was stopped with Ctrl-C after saving its state (exit status 130)."""


def add_option(parser: argparse.ArgumentParser, option: ImportOption, prefix: str = "") -> None:
    """One importer option as a flag (also used by the site's ``manage.py import_model``)."""
    flag = "--" + option.name.replace("_", "-")
    if option.type is bool:
        parser.add_argument(flag, dest=option.name, action="store_true", default=None, help=prefix + option.help)
    else:
        parser.add_argument(flag, dest=option.name, type=option.type, choices=option.choices,
                            help=prefix + option.help)


def _add_config_arguments(parser: argparse.ArgumentParser, config_class: type) -> None:
    """--preset (the class's own presets) and --set; the fields they may set are listed below
    the options of --help."""
    parser.add_argument("--preset", metavar="NAME", choices=config_class.preset_names(),
                        help=f"start from a preset config: {', '.join(config_class.preset_names())}")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="set a config field (repeatable; nested: arch.ngf=32; JSON values: "
                             "arch.channels=[16,32,64])")
    parser.epilog = "config fields (--set):\n" + "\n".join(
        f"  {field.name} = {json.dumps(field.default)}: {field.help}" for field in config_class.describe_fields()
    )
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def _config(config_class: type, args: argparse.Namespace, **extra):
    from mlcore.config import parse_assignments

    config = config_class.preset(args.preset) if args.preset else config_class()
    return config.override({**parse_assignments(args.set), **{k: v for k, v in extra.items() if v is not None}})


# --- import ----------------------------------------------------------------------------------


def _add_import(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("import", help="convert published weights into a Restyle checkpoint")
    sources = parser.add_subparsers(dest="source", metavar="FORMAT", required=True)
    for fmt in FORMATS.values():
        sub = sources.add_parser(fmt.name, help=fmt.help)
        sub.add_argument("src", metavar=fmt.source)
        sub.add_argument("out", metavar="OUT", help="checkpoint to write (.safetensors)")
        sub.add_argument("--name", help="model name stored in the checkpoint (default: from the file name)")
        for option in fmt.options:
            add_option(sub, option)
        sub.set_defaults(handler=_import, format=fmt)


def _import(args: argparse.Namespace) -> None:
    options = {o.name: getattr(args, o.name) for o in args.format.options if getattr(args, o.name) is not None}
    print(args.format.convert(args.src, args.out, name=args.name, **options))


# --- translate -------------------------------------------------------------------------------


def _add_translate(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("translate", help="run a model on one image")
    parser.add_argument("--model", required=True, metavar="CKPT", help="Restyle checkpoint")
    parser.add_argument("input", metavar="IN", help="input image")
    parser.add_argument("output", metavar="OUT", help="output image (format from the extension)")
    parser.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1... (default: cpu)")
    parser.add_argument("--dtype", default="fp32", choices=PRECISIONS, help="precision")
    parser.add_argument("--max-memory-mb", type=float, metavar="N",
                        help="shrink an image whose translation would need more memory than this")
    parser.set_defaults(handler=_translate)


def _translate(args: argparse.Namespace) -> None:
    from mlcore.images import open_image
    from mlcore.inference import Inferer

    inferer = Inferer.load(args.model, device=args.device, dtype=args.dtype)
    budget = args.max_memory_mb * 2**20 if args.max_memory_mb else None
    result = inferer.translate(open_image(args.input), max_bytes=budget)
    out = Path(args.output)
    if result.mode == "RGBA" and out.suffix.lower() in {".jpg", ".jpeg"}:
        log.warning("JPEG has no alpha channel; writing %s without transparency", out)
        result = result.convert("RGB")
    result.save(out)
    print(out)


# --- info ------------------------------------------------------------------------------------


def _add_info(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("info", help="print a checkpoint's header as JSON")
    parser.add_argument("checkpoint", metavar="CKPT")
    parser.set_defaults(handler=_info)


def _info(args: argparse.Namespace) -> None:
    from mlcore.checkpoint import read_header

    print(json.dumps(read_header(args.checkpoint).header_dict(), indent=2, sort_keys=True))


# --- export ----------------------------------------------------------------------------------


def _add_export(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "export", help="write a model's translate path as ONNX or TorchScript, checked against eager torch",
        description="The file takes N x 3 x H x W float RGB in [0, 1] at the exported size and returns the "
        "translation in [0, 1]. It is written only when it matches eager torch within 1/255 MAE on a probe.")
    parser.add_argument("--format", required=True, choices=("onnx", "torchscript"))
    parser.add_argument("checkpoint", metavar="CKPT", help="Restyle checkpoint")
    parser.add_argument("output", metavar="OUT", help="file to write")
    parser.add_argument("--size", default="512x512", metavar="HxW", type=_size,
                        help="input height x width the file takes (default: 512x512)")
    parser.add_argument("--batch", type=int, default=1, metavar="N", help="pictures per call (default: 1)")
    parser.set_defaults(handler=_export)


def _size(text: str) -> tuple[int, int]:
    try:
        height, width = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HxW such as 512x512, got {text!r}") from None
    return height, width


def _export(args: argparse.Namespace) -> None:
    from mlcore.export import export_checkpoint

    report = export_checkpoint(args.checkpoint, args.output, format=args.format, size=args.size, batch=args.batch)
    shape = "x".join(map(str, report.input_shape))
    print(f"parity with eager torch on a {shape} probe: MAE {report.mae * 255:.4f}/255, "
          f"max {report.max_abs * 255:.4f}/255")
    print(f"wrote {report.path} ({report.format}, {report.bytes:,} bytes, input {shape}) in {report.seconds:.1f}s")


# --- train -----------------------------------------------------------------------------------


def _add_train(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train", help="train a model (Ctrl-C stops cleanly with a checkpoint; --resume continues)"
    )
    families = parser.add_subparsers(dest="family_command", metavar="FAMILY", required=True)
    for family in trainable_families():
        sub = families.add_parser(family.cli_name, help=family.label)
        for item in family.training.inputs:
            sub.add_argument("--" + item.name.replace("_", "-"), dest=f"input:{item.name}",
                             metavar=_METAVARS.get(item.kind, "PATH"),
                             help=item.help + ("" if item.required else " (optional)"))
        sub.add_argument("--run-dir", required=True, metavar="DIR",
                         help="folder for run.json, metrics, samples, checkpoints and the model")
        sub.add_argument("--resume", action="store_true",
                         help="continue the run in --run-dir (its config and inputs come from run.json; "
                              "an input given too replaces the recorded path: the same files, moved)")
        _add_config_arguments(sub, family.training.config_class)
        sub.add_argument("--steps", type=int, help="training steps (a config field, given often)")
        sub.add_argument("--batch-size", type=int, help="images per step (a config field, given often)")
        sub.add_argument("--seed", type=int, default=0, help="seed of initialisation and data order (default: 0)")
        sub.add_argument("--device", default=None, help="torch device: cpu, cuda, cuda:1... (default: cpu)")
        sub.add_argument("--precision", default="fp32", choices=PRECISIONS, help="training precision")
        sub.add_argument("--workers", type=int, default=2, help="data loading processes (default: 2)")
        sub.add_argument("--log-every", type=int, default=1, help="metrics.jsonl every N steps (default: 1)")
        sub.add_argument("--sample-every", type=int, default=500, help="sample grid every N steps (default: 500)")
        sub.add_argument("--checkpoint-every", type=int, default=1000,
                         help="training checkpoint every N steps (default: 1000)")
        sub.set_defaults(handler=_train, family=family)


def _train_inputs(args: argparse.Namespace) -> dict[str, str]:
    training = args.family.training
    given = {item.name: getattr(args, f"input:{item.name}") for item in training.inputs}
    missing = [item for item in training.inputs if item.required and not given[item.name]]
    if missing:
        flags = " and ".join(f"--{i.name.replace('_', '-')} {_METAVARS.get(i.kind, 'PATH')}" for i in missing)
        raise ValueError(f"a new {args.family.cli_name} run needs {flags}")
    return {name: value for name, value in given.items() if value}


def _train(args: argparse.Namespace) -> None:
    from mlcore.engine import distributed

    try:
        _train_run(args)
    finally:
        distributed.shutdown()  # the process group the trainer joined under torchrun, if any


def _train_run(args: argparse.Namespace) -> None:
    """Under torchrun every rank runs this; rank 0 alone shows progress and prints the outcome.
    The trainer joins the process group (with the run's device: nccl for CUDA, else gloo)."""
    from mlcore import engine

    if args.resume:
        ignored = [flag for flag, given in (("--preset", args.preset), ("--set", args.set),
                                            ("--steps", args.steps), ("--batch-size", args.batch_size))
                   if given]
        moved = {item.name: getattr(args, f"input:{item.name}") for item in args.family.training.inputs}
        trainer = engine.Trainer.open(args.run_dir, device=args.device, num_workers=args.workers,
                                      inputs={name: path for name, path in moved.items() if path})
        if ignored and trainer.world.is_main:
            log.warning("%s ignored with --resume: the run keeps the config in its run.json", ", ".join(ignored))
    else:
        config = _config(args.family.training.config_class, args, steps=args.steps, batch_size=args.batch_size)
        trainer = engine.Trainer.create(
            args.run_dir, family=args.family.name, config=config, inputs=_train_inputs(args),
            seed=args.seed, device=args.device or "cpu", precision=args.precision, num_workers=args.workers,
            log_every=args.log_every, sample_every=args.sample_every, checkpoint_every=args.checkpoint_every,
        )
    world = trainer.world

    start_step = engine.read_run(args.run_dir).get("step", 0)
    with _graceful_ctrl_c() as stop_requested, _LazyBar(trainer.spec.total_steps, start_step) as bar:
        def show(progress: engine.Progress) -> None:
            loss = progress.metrics.get("loss", float("nan"))
            bar.show(progress.step, loss=f"{loss:.4g}", img_s=f"{progress.images_per_second:.2f}")

        result = trainer.run(on_progress=show, should_stop=stop_requested)
    labels = f" [{'; '.join(result.labels)}]" if result.labels else ""
    if result.status == "completed":
        if world.is_main:
            print(f"{result.model_path}{labels}")
        return
    if world.is_main:
        print(f"stopped at step {result.step} of {result.total_steps}; checkpoint {result.checkpoint_path}; "
              f"continue with: mlcore train {args.family.cli_name} --run-dir {args.run_dir} --resume")
    raise Stopped


class _LazyBar:
    """A tqdm progress bar on stderr that appears with the first step, so that a run failing
    while it sets up (missing weights, say) prints only its error."""

    def __init__(self, total: int, initial: int = 0) -> None:
        self.total, self.initial, self.bar = total, initial, None

    def show(self, step: int, **postfix: str) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, initial=self.initial, unit="step", dynamic_ncols=True,
                            file=sys.stderr)
        self.bar.update(step - self.bar.n)
        self.bar.set_postfix(postfix, refresh=True)

    def __enter__(self) -> _LazyBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.bar is not None:
            self.bar.close()


@contextlib.contextmanager
def _graceful_ctrl_c() -> Iterator[Callable[[], bool]]:
    """The first Ctrl-C asks the running job to stop (it saves its state); the second aborts."""
    requested = False

    def handler(signum, frame):
        nonlocal requested
        if requested:
            raise KeyboardInterrupt
        requested = True
        print("\nstopping after this step (Ctrl-C again to abort)...", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: requested
    finally:
        signal.signal(signal.SIGINT, previous)


# --- gatys -----------------------------------------------------------------------------------


def _add_gatys(commands: argparse._SubParsersAction) -> None:
    from mlcore.gatys import GatysConfig

    parser = commands.add_parser(
        "gatys", help="Gatys et al. 2016 style transfer: optimise the picture itself (slow on a CPU)"
    )
    parser.add_argument("--content", required=True, metavar="IMG", help="the photo")
    parser.add_argument("--style", required=True, metavar="IMG", help="the style image")
    parser.add_argument("--output", required=True, metavar="OUT", help="picture to write (format from the extension)")
    _add_config_arguments(parser, GatysConfig)
    parser.add_argument("--steps", type=int, help="optimisation steps (a config field, given often)")
    parser.add_argument("--size", type=int, help="longest side of the output (a config field, given often)")
    parser.add_argument("--vgg-weights", metavar="PATH",
                        help="torchvision's vgg19-dcbb9e9d.pth (default: torch hub cache, then download)")
    parser.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    parser.add_argument("--progress-every", type=int, default=10, metavar="N",
                        help="save the picture in progress every N steps into --progress-dir")
    parser.add_argument("--progress-dir", metavar="DIR", help="folder for the pictures in progress")
    parser.set_defaults(handler=_gatys)


def _gatys(args: argparse.Namespace) -> None:
    from mlcore.gatys import GatysConfig
    from mlcore.gatys.inferer import GatysProgress, run_gatys
    from mlcore.images import open_image

    config = _config(GatysConfig, args, steps=args.steps, size=args.size)
    if args.progress_every < 1:
        raise ValueError("--progress-every must be at least 1")
    content, style = open_image(args.content), open_image(args.style)
    progress_dir = Path(args.progress_dir) if args.progress_dir else None
    if progress_dir is not None:
        progress_dir.mkdir(parents=True, exist_ok=True)

    with _graceful_ctrl_c() as stop_requested, _LazyBar(config.steps) as bar:
        def show(progress: GatysProgress) -> None:
            bar.show(progress.step, loss=f"{progress.losses['loss']:.4g}")
            if progress_dir is not None and (progress.step % args.progress_every == 0
                                             or progress.step == progress.total_steps):
                _save_labelled(progress.image, progress_dir / f"step_{progress.step:06d}.png", progress.labels)

        result = run_gatys(content, style, config, vgg_weights=args.vgg_weights, device=args.device,
                           precision=args.precision, on_progress=show, should_stop=stop_requested,
                           progress_every=1)
    out = _save_labelled(result.image, Path(args.output), result.labels)
    labels = f" [{'; '.join(result.labels)}]" if result.labels else ""
    print(f"{out}{labels}")
    if result.stopped:
        print(f"stopped after {result.steps} of {config.steps} steps", file=sys.stderr)
        raise Stopped


def _save_labelled(image, path: Path, labels: Sequence[str]) -> Path:
    """Save ``image``; warnings (a random VGG...) go into its PNG text or JPEG comment too."""
    from PIL import PngImagePlugin

    note = " | ".join(labels)
    suffix = path.suffix.lower()
    if note and suffix == ".png":
        info = PngImagePlugin.PngInfo()
        info.add_text("restyle-warning", note)
        image.save(path, pnginfo=info)
    elif note and suffix in (".jpg", ".jpeg"):
        image.save(path, comment=note.encode("utf-8"))
    else:
        image.save(path)
    return path


# --- make-pairs ------------------------------------------------------------------------------


def _add_make_pairs(commands: argparse._SubParsersAction) -> None:
    from mlcore.tools.make_pairs import KINDS

    parser = commands.add_parser(
        "make-pairs", help="make a pix2pix training set (A|B side by side) from a folder of photos"
    )
    parser.add_argument("src", metavar="SRC", help="folder of photos (searched recursively)")
    parser.add_argument("out", metavar="OUT", help="folder to write the pairs into (new or empty)")
    parser.add_argument("--kind", required=True, choices=KINDS,
                        help="edges2photo: A is an edge map of the photo B; gray2color: A is B in grey")
    parser.add_argument("--count", type=int, default=100, help="pairs to make (default: 100)")
    parser.add_argument("--size", type=int, default=256, help="side of A and of B in pixels (default: 256)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random crops (default: 0)")
    parser.set_defaults(handler=_make_pairs)


def _make_pairs(args: argparse.Namespace) -> None:
    from mlcore.tools.make_pairs import make_pairs

    written = make_pairs(args.src, args.out, kind=args.kind, count=args.count, size=args.size, seed=args.seed)
    print(f"{len(written)} {args.kind} pairs in {args.out}")


# --- StyleGAN2: generate, mix, interpolate, project -----------------------------------------


def parse_seeds(text: str) -> list[int]:
    """Seeds as people type them: "0-7", "1,5,9", "0-3,10" (ranges inclusive, order kept)."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                first, last = (int(v) for v in part.split("-", 1))
                if last < first:
                    raise ValueError
                seeds.extend(range(first, last + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"seeds are whole numbers and ranges like 0-7, 1,5,9 or 0-3,10; got {text!r}") from None
    if any(seed < 0 or seed > 2**32 - 1 for seed in seeds):
        raise argparse.ArgumentTypeError(f"seeds run from 0 to {2**32 - 1}; got {text!r}")
    return seeds


def parse_layers(text: str) -> str | tuple[int, int]:
    """coarse, middle, fine, or the ws A-B (inclusive, as NVlabs style_mixing.py's --styles)."""
    if text in ("coarse", "middle", "fine"):
        return text
    try:
        first, last = (int(v) for v in text.split("-", 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"layers are coarse, middle, fine or a ws range A-B; got {text!r}") from None
    if first < 0 or last < first:
        raise argparse.ArgumentTypeError(f"a layer range A-B needs 0 <= A <= B; got {text!r}")
    return first, last + 1


def _add_model_arguments(parser: argparse.ArgumentParser, *, truncation: bool = True) -> None:
    parser.add_argument("--model", required=True, metavar="CKPT", help="Restyle checkpoint of a StyleGAN2 model")
    if truncation:
        parser.add_argument("--truncation", type=float, default=0.7, metavar="PSI",
                            help="truncation psi: 1 none, 0 the average image (default: 0.7)")
    parser.add_argument("--noise", default="const", choices=("const", "random", "none"),
                        help="per-layer noise: the model's constant maps, fresh noise (seeded per image), or "
                             "none (default: const)")
    parser.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1... (default: cpu)")


def _add_generate(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "generate", help="StyleGAN2: one PNG per seed (seeds mean what they mean in NVlabs generate.py)")
    _add_model_arguments(parser)
    parser.add_argument("--seeds", required=True, type=parse_seeds, metavar="SEEDS",
                        help="seeds: 0-7, 1,5,9 or 0-3,10")
    parser.add_argument("--batch-size", type=int, default=1, metavar="N",
                        help="images per forward pass; above 1 faster on a GPU, but a pixel may then differ by "
                             "one level from the same seed made alone (default: 1)")
    parser.add_argument("outdir", metavar="OUTDIR", help="folder for seedNNNN.png (created if need be)")
    parser.set_defaults(handler=_generate)


def _seed_names(seeds: Sequence[int]) -> list[str]:
    """seed0000.png...: zero-padded to the widest seed, so names sort in seed order."""
    width = max(4, len(str(max(seeds))))
    return [f"seed{seed:0{width}d}.png" for seed in seeds]


def _png_text(**fields: object):
    """PNG text chunks restyle-<field> saying how an image was made."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for key, value in fields.items():
        info.add_text(f"restyle-{key.replace('_', '-')}", str(value))
    return info


def _generate(args: argparse.Namespace) -> None:
    from mlcore.stylegan2.generate import generate, load_generator

    G = load_generator(args.model, device=args.device)
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    images = generate(G, args.seeds, truncation_psi=args.truncation, noise_mode=args.noise,
                      batch_size=args.batch_size)
    for seed, name, image in zip(args.seeds, _seed_names(args.seeds), images):
        image.save(out / name, pnginfo=_png_text(model=Path(args.model).name, seed=seed,
                                                 truncation=args.truncation, noise=args.noise))
        log.info("wrote %s", out / name)
    print(f"{len(images)} images in {out}")


def _add_mix(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "mix", help="StyleGAN2 style mixing: a grid of the rows' images with the columns' styles in LAYERS")
    _add_model_arguments(parser)
    parser.add_argument("--row-seeds", type=parse_seeds, default=[], metavar="SEEDS",
                        help="seeds of the rows (whose ws are kept outside LAYERS)")
    parser.add_argument("--latent", action="append", default=[], metavar="FILE.npz",
                        help="a saved latent (mlcore project's latent.npz, NVlabs projected_w.npz) as another "
                             "row (repeatable)")
    parser.add_argument("--col-seeds", type=parse_seeds, required=True, metavar="SEEDS",
                        help="seeds of the columns (whose ws replace LAYERS)")
    parser.add_argument("--layers", type=parse_layers, required=True, metavar="LAYERS",
                        help="coarse (4-8 px: pose, shape), middle (16-32 px: features), fine (64 px and up: "
                             "colour, detail), or ws A-B inclusive")
    parser.add_argument("output", metavar="OUT", help="grid image to write (format from the extension)")
    parser.set_defaults(handler=_mix)


def _latent_rows(G, paths: Sequence[str]):
    import torch

    from mlcore.stylegan2.generate import load_latent

    rows = []
    for path in paths:
        ws, _ = load_latent(path)
        if ws.shape[1] == 1:  # one w for every layer
            ws = ws.expand(-1, G.num_ws, -1)
        if ws.shape[1:] != (G.num_ws, G.w_dim):
            raise ValueError(f"{path}: a latent of {ws.shape[1]} x {ws.shape[2]} ws; this model takes "
                             f"{G.num_ws} x {G.w_dim}")
        rows.append(ws)
    return torch.cat(rows) if rows else None


def _mix(args: argparse.Namespace) -> None:
    import torch

    from mlcore.stylegan2.generate import load_generator, mixing_grid, ws_from_seeds

    if not args.row_seeds and not args.latent:
        raise ValueError("mix needs rows: --row-seeds SEEDS and/or --latent FILE.npz")
    G = load_generator(args.model, device=args.device)
    rows = [ws_from_seeds(G, args.row_seeds, truncation_psi=args.truncation)] if args.row_seeds else []
    latents = _latent_rows(G, args.latent)
    if latents is not None:
        rows.append(latents.to(rows[0].device if rows else args.device))
    cols = ws_from_seeds(G, args.col_seeds, truncation_psi=args.truncation)
    grid = mixing_grid(G, torch.cat(rows), cols, args.layers, noise_mode=args.noise)
    out = Path(args.output)
    grid.save(out)
    print(out)


def _add_interpolate(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("interpolate", help="StyleGAN2: an animated WebP walking in W from seed to seed")
    _add_model_arguments(parser)
    parser.add_argument("--seeds", required=True, type=parse_seeds, metavar="SEEDS",
                        help="at least two seeds, visited in order: 0-3, 1,5,9...")
    parser.add_argument("--frames", type=int, default=24, metavar="N", help="frames from one seed to the next (default: 24)")
    parser.add_argument("--fps", type=float, default=24.0, help="frames per second (default: 24)")
    parser.add_argument("--no-loop", action="store_true", help="end on the last seed instead of walking back to the first")
    parser.add_argument("output", metavar="OUT.webp", help="animated WebP to write")
    parser.set_defaults(handler=_interpolate)


def _interpolate(args: argparse.Namespace) -> None:
    from mlcore.stylegan2.generate import interpolate, load_generator, save_webp

    G = load_generator(args.model, device=args.device)
    frames = interpolate(G, args.seeds, frames_per_seed=args.frames, truncation_psi=args.truncation,
                         loop=not args.no_loop, noise_mode=args.noise)
    print(save_webp(frames, args.output, fps=args.fps))


def _add_project(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "project", help="StyleGAN2: optimise a latent until the model's image looks like PHOTO (minutes on a CPU)")
    parser.add_argument("--model", required=True, metavar="CKPT", help="Restyle checkpoint of a StyleGAN2 model")
    parser.add_argument("photo", metavar="PHOTO", help="the photo (centre-cropped to a square)")
    parser.add_argument("outdir", metavar="OUTDIR",
                        help="folder for projected.png, latent.npz, target.png and progress/stepNNNN.png")
    parser.add_argument("--space", default="w", choices=("w", "w+"),
                        help="w: one w for every layer (mixes and edits well); w+: one per layer (closer to the "
                             "photo) (default: w)")
    parser.add_argument("--steps", type=int, metavar="N", help="optimisation steps (default: 1000 on CUDA, 300 on a CPU)")
    parser.add_argument("--distance", default="lpips", choices=("lpips", "fallback"),
                        help="LPIPS-VGG16 (falls back, labelled, when its weights are missing) or the fallback "
                             "pixel distance (default: lpips)")
    parser.add_argument("--patience", type=int, default=100, metavar="N",
                        help="stop when the distance has not improved by 0.1%% for N steps; 0: never (default: 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the w statistics and the noise (default: 0)")
    parser.add_argument("--progress-every", type=int, default=10, metavar="N",
                        help="save the image so far every N steps into OUTDIR/progress (0: none; default: 10)")
    parser.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1... (default: cpu)")
    parser.set_defaults(handler=_project)


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _project(args: argparse.Namespace) -> None:
    from mlcore.images import open_image
    from mlcore.metrics import projection_distance
    from mlcore.stylegan2.generate import load_generator, save_latent
    from mlcore.stylegan2.project import (
        ProjectionProgress,
        default_steps,
        prepare_target,
        project,
    )

    if args.progress_every < 0 or args.patience < 0:
        raise ValueError("--progress-every and --patience must be 0 or more")
    G = load_generator(args.model, device=args.device)
    photo = open_image(args.photo)
    steps = args.steps if args.steps is not None else default_steps(args.device)
    distance, label = projection_distance(args.distance, device=args.device)
    out = Path(args.outdir)
    progress_dir = out / "progress"
    progress_dir.mkdir(parents=True, exist_ok=True)
    prepare_target(photo, G.img_resolution, G.img_channels).save(out / "target.png")
    width = max(4, len(str(steps)))

    with _graceful_ctrl_c() as stop_requested, _LazyBar(steps) as bar:
        def show(progress: ProjectionProgress) -> None:
            bar.show(progress.step, distance=f"{progress.distance:.4g}")
            if progress.image is not None and args.progress_every:
                progress.image.save(progress_dir / f"step{progress.step:0{width}d}.png")

        result = project(G, photo, space=args.space, steps=steps, distance=distance, seed=args.seed,
                         patience=args.patience or None, progress_every=args.progress_every or steps,
                         on_progress=show, should_stop=stop_requested)
    _save_labelled(result.image, out / "projected.png", [label] if label.startswith("fallback") else [])
    save_latent(out / "latent.npz", result.ws, model_sha256=_sha256(Path(args.model)), space=result.space,
                steps=result.steps_run, stopped=result.stopped, distance=result.distance,
                distance_label=label, photo=Path(args.photo).name, seed=args.seed)
    log.info("projection %s after %d of %d steps, distance %.4g (%s)", result.stopped, result.steps_run, steps,
             result.distance, label)
    print(f"{out / 'projected.png'} [{label}]")
    if result.stopped == "cancelled":
        print(f"stopped after {result.steps_run} of {steps} steps", file=sys.stderr)
        raise Stopped


# --- entry point -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        args.handler(args)
    except Stopped:
        return 130
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError, KeyError, RuntimeError) as exc:
        # ValueError covers CheckpointError and ImporterError; OSError unreadable files and
        # images (PIL.UnidentifiedImageError); RuntimeError a device torch cannot use.
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return 1
    return 0
