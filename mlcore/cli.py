"""Command line for mlcore: ``python -m mlcore <command> ...``.

    python -m mlcore import ml5 DIR OUT [--name NAME]
    python -m mlcore import pytorch-examples PTH OUT [--name NAME]
    python -m mlcore translate --model CKPT IN OUT [--device cpu] [--dtype fp32|bf16|fp16]
    python -m mlcore info CKPT
    python -m mlcore train fast-style --style IMG --content DIR --run-dir DIR [--preset tiny] ...
    python -m mlcore train fast-style --run-dir DIR --resume
    python -m mlcore gatys --content IMG --style IMG --output OUT [--steps N] [--size 512] ...

Each command is a ``_add_<command>`` function that registers its parser and handler; later
commands (``import junyanz``, ``import ugatit``) are added the same way, and each trainable
family gets a ``train <family>`` subcommand with its own data arguments on top of the shared
training arguments (``_add_train_<family>``). Expected failures exit with status 1 and a
one-line message; bad usage exits 2; a run stopped with Ctrl-C (after saving what it has)
exits 130. Heavy modules (torch) are imported inside the handlers so ``--help`` answers at once.
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
from mlcore.pix2pix import cli as pix2pix_cli  # torch-free, like this module
from mlcore.ugatit import cli as ugatit_cli

log = logging.getLogger("mlcore.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mlcore",
        description="Restyle mlcore: import, inspect and run image-to-image models.",
    )
    parser.add_argument("--version", action="version", version=f"mlcore {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log progress (-vv: debug)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_import(commands)
    _add_translate(commands)
    _add_info(commands)
    _add_train(commands)
    _add_gatys(commands)
    pix2pix_cli.add_make_pairs_parser(commands)
    return parser


class Stopped(Exception):
    """A run was stopped with Ctrl-C after saving its state (exit status 130)."""


# --- import ----------------------------------------------------------------------------------


def _add_import(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("import", help="convert published weights into a Restyle checkpoint")
    sources = parser.add_subparsers(dest="source", metavar="SOURCE", required=True)

    ml5 = sources.add_parser("ml5", help="an ml5.js style transfer folder (manifest.json + Variable_N)")
    ml5.add_argument("src", metavar="DIR")
    ml5.add_argument("out", metavar="OUT", help="checkpoint to write (.safetensors)")
    ml5.add_argument("--name", help="model name stored in the checkpoint (default: the folder name)")
    ml5.set_defaults(handler=_import_ml5)

    pte = sources.add_parser("pytorch-examples", help="a pytorch/examples fast_neural_style .pth file")
    pte.add_argument("src", metavar="PTH")
    pte.add_argument("out", metavar="OUT", help="checkpoint to write (.safetensors)")
    pte.add_argument("--name", help="model name stored in the checkpoint (default: the file name)")
    pte.set_defaults(handler=_import_pytorch_examples)

    pix2pix_cli.add_import_parser(sources)
    ugatit_cli.add_import_parser(sources)


def _import_ml5(args: argparse.Namespace) -> None:
    from mlcore.importers import import_ml5

    print(import_ml5(args.src, args.out, name=args.name))


def _import_pytorch_examples(args: argparse.Namespace) -> None:
    from mlcore.importers import import_pytorch_examples

    print(import_pytorch_examples(args.src, args.out, name=args.name))


# --- translate -------------------------------------------------------------------------------


def _add_translate(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("translate", help="run a model on one image")
    parser.add_argument("--model", required=True, metavar="CKPT", help="Restyle checkpoint")
    parser.add_argument("input", metavar="IN", help="input image")
    parser.add_argument("output", metavar="OUT", help="output image (format from the extension)")
    parser.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1... (default: cpu)")
    parser.add_argument("--dtype", default="fp32", choices=["fp32", "bf16", "fp16"], help="precision")
    parser.set_defaults(handler=_translate)


def _translate(args: argparse.Namespace) -> None:
    from pathlib import Path

    from mlcore.images import open_image
    from mlcore.inference import Inferer

    inferer = Inferer.load(args.model, device=args.device, dtype=args.dtype)
    result = inferer.translate(open_image(args.input))
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


# --- train -----------------------------------------------------------------------------------


def _add_train(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train", help="train a model (Ctrl-C stops cleanly with a checkpoint; --resume continues)"
    )
    families = parser.add_subparsers(dest="family_command", metavar="FAMILY", required=True)
    _add_train_fast_style(families)
    pix2pix_cli.add_train_parser(families, _add_training_arguments, _train)
    ugatit_cli.add_train_parser(families, _add_training_arguments, _train)


def _add_training_arguments(parser: argparse.ArgumentParser, *, presets: Sequence[str]) -> None:
    """Arguments every family's ``train`` subcommand shares. ``presets`` only documents the
    names (the config class, and torch with it, is imported by the handler, not here)."""
    parser.add_argument("--run-dir", required=True, metavar="DIR",
                        help="folder for run.json, metrics, samples, checkpoints and the model")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --run-dir (its config and inputs come from run.json)")
    parser.add_argument("--preset", metavar="NAME", help=f"start from a preset config: {', '.join(presets)}")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="set a config field (repeatable; nested: arch.channels=[16,32,64]; JSON values)")
    parser.add_argument("--steps", type=int, help="training steps")
    parser.add_argument("--batch-size", type=int, help="images per step")
    parser.add_argument("--seed", type=int, default=0, help="seed of initialisation and data order (default: 0)")
    parser.add_argument("--device", default=None, help="torch device: cpu, cuda, cuda:1... (default: cpu)")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"], help="training precision")
    parser.add_argument("--workers", type=int, default=2, help="data loading processes (default: 2)")
    parser.add_argument("--log-every", type=int, default=1, help="metrics.jsonl every N steps (default: 1)")
    parser.add_argument("--sample-every", type=int, default=500, help="sample grid every N steps (default: 500)")
    parser.add_argument("--checkpoint-every", type=int, default=1000,
                        help="training checkpoint every N steps (default: 1000)")


def _add_train_fast_style(families: argparse._SubParsersAction) -> None:
    parser = families.add_parser(
        "fast-style", help="Johnson et al. 2016 fast style transfer: one style image, a folder of photos"
    )
    parser.add_argument("--style", metavar="IMG", help="the style image")
    parser.add_argument("--content", metavar="DIR", help="folder of content photos (e.g. COCO train2014)")
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument("--vgg-weights", metavar="PATH",
                         help="torchvision's vgg16-397923af.pth (default: torch hub cache, then download)")
    weights.add_argument("--random-vgg", action="store_true",
                         help="random VGG16 loss network: for tests only, the result is no style model")
    _add_training_arguments(parser, presets=("tiny", "johnson2016"))

    def inputs(args: argparse.Namespace) -> dict[str, str]:
        if not args.style or not args.content:
            raise ValueError("a new fast-style run needs --style IMG and --content DIR")
        found = {"style": args.style, "content": args.content}
        if args.vgg_weights:
            found["vgg_weights"] = args.vgg_weights
        return found

    def config_overrides(args: argparse.Namespace) -> dict:
        return {"loss_network": "random"} if args.random_vgg else {}

    parser.set_defaults(handler=_train, family="fast_style", train_inputs=inputs,
                        family_overrides=config_overrides)


def _training_config(args: argparse.Namespace):
    from mlcore.config import parse_assignments
    from mlcore.registry import get_family

    config_class = get_family(args.family).training.config_class
    config = config_class.preset(args.preset) if args.preset else config_class()
    overrides = parse_assignments(args.set)
    if args.steps is not None:
        overrides["steps"] = args.steps
    if args.batch_size is not None:
        overrides["batch_size"] = args.batch_size
    overrides.update(args.family_overrides(args))
    return config.override(overrides)


def _train(args: argparse.Namespace) -> None:
    from mlcore import engine

    if args.resume:
        ignored = [flag for flag, given in (("--preset", args.preset), ("--set", args.set),
                                            ("--steps", args.steps), ("--batch-size", args.batch_size))
                   if given]
        if ignored:
            log.warning("%s ignored with --resume: the run keeps the config in its run.json", ", ".join(ignored))
        trainer = engine.Trainer.open(args.run_dir, device=args.device, num_workers=args.workers)
    else:
        trainer = engine.Trainer.create(
            args.run_dir, family=args.family, config=_training_config(args), inputs=args.train_inputs(args),
            seed=args.seed, device=args.device or "cpu", precision=args.precision, num_workers=args.workers,
            log_every=args.log_every, sample_every=args.sample_every, checkpoint_every=args.checkpoint_every,
        )

    start_step = engine.read_run(args.run_dir).get("step", 0)
    with _graceful_ctrl_c() as stop_requested, _LazyBar(trainer.spec.total_steps, start_step) as bar:
        def show(progress: engine.Progress) -> None:
            loss = progress.metrics.get("loss", float("nan"))
            bar.show(progress.step, loss=f"{loss:.4g}", img_s=f"{progress.images_per_second:.2f}")

        result = trainer.run(on_progress=show, should_stop=stop_requested)
    labels = f" [{'; '.join(result.labels)}]" if result.labels else ""
    if result.status == "completed":
        print(f"{result.model_path}{labels}")
        return
    print(f"stopped at step {result.step} of {result.total_steps}; checkpoint {result.checkpoint_path}; "
          f"continue with: python -m mlcore train {args.family_command} --run-dir {args.run_dir} --resume")
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
    parser = commands.add_parser(
        "gatys", help="Gatys et al. 2016 style transfer: optimise the picture itself (slow on a CPU)"
    )
    parser.add_argument("--content", required=True, metavar="IMG", help="the photo")
    parser.add_argument("--style", required=True, metavar="IMG", help="the style image")
    parser.add_argument("--output", required=True, metavar="OUT", help="picture to write (format from the extension)")
    parser.add_argument("--preset", metavar="NAME", help="start from a preset config: gatys2016, fast, tiny")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="set a GatysConfig field")
    parser.add_argument("--steps", type=int, help="optimisation steps (default: 300)")
    parser.add_argument("--size", type=int, help="longest side of the output (default: 512)")
    parser.add_argument("--optimizer", choices=["lbfgs", "adam"], help="default: lbfgs")
    parser.add_argument("--content-weight", type=float)
    parser.add_argument("--style-weight", type=float)
    parser.add_argument("--tv-weight", type=float)
    parser.add_argument("--init", choices=["content", "noise"], help="start from the photo or from noise")
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument("--vgg-weights", metavar="PATH",
                         help="torchvision's vgg19-dcbb9e9d.pth (default: torch hub cache, then download)")
    weights.add_argument("--random-vgg", action="store_true", help="random VGG19: for tests only")
    parser.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    parser.add_argument("--progress-every", type=int, default=10, metavar="N",
                        help="save the picture in progress every N steps into --progress-dir")
    parser.add_argument("--progress-dir", metavar="DIR", help="folder for the pictures in progress")
    parser.set_defaults(handler=_gatys)


def _gatys(args: argparse.Namespace) -> None:
    from mlcore.config import parse_assignments
    from mlcore.gatys import GatysConfig, GatysProgress, run_gatys
    from mlcore.images import open_image

    config = GatysConfig.preset(args.preset) if args.preset else GatysConfig()
    overrides = parse_assignments(args.set)
    for flag, key in (("steps", "steps"), ("size", "size"), ("optimizer", "optimizer"),
                      ("content_weight", "content_weight"), ("style_weight", "style_weight"),
                      ("tv_weight", "tv_weight"), ("init", "init")):
        if getattr(args, flag) is not None:
            overrides[key] = getattr(args, flag)
    if args.random_vgg:
        overrides["loss_network"] = "random"
    config = config.override(overrides)
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
