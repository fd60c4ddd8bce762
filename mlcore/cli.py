"""Command line for mlcore: ``python -m mlcore <command> ...``.

    python -m mlcore import ml5 DIR OUT [--name NAME]
    python -m mlcore import pytorch-examples PTH OUT [--name NAME]
    python -m mlcore translate --model CKPT IN OUT [--device cpu] [--dtype fp32|bf16|fp16]
    python -m mlcore info CKPT

Each command is a ``_add_<command>`` function that registers its parser and handler; later
commands (``import junyanz``, ``import ugatit``, ``train <family>``, ``gatys``) are added the
same way. Expected failures exit with status 1 and a one-line message; bad usage exits 2.
Heavy modules (torch) are imported inside the handlers so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from mlcore import __version__

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
    return parser


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


# --- entry point -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        args.handler(args)
    except (ValueError, OSError, KeyError, RuntimeError) as exc:
        # ValueError covers CheckpointError and ImporterError; OSError unreadable files and
        # images (PIL.UnidentifiedImageError); RuntimeError a device torch cannot use.
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return 1
    return 0
