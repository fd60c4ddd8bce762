"""Command-line pieces of the pix2pix family, registered by mlcore.cli:

    python -m mlcore train pix2pix --data DIR [--direction AtoB|BtoA] --run-dir DIR [--preset tiny] ...
    python -m mlcore import junyanz PTH OUT [--name NAME] [--arch unet_256|unet_128] [--norm batch|instance]
    python -m mlcore make-pairs SRC OUT --kind edges2photo|gray2color [--count N] [--size S] [--seed K]

Each ``add_*`` function registers one parser; handlers import torch lazily, so building the
parser (``--help``) stays cheap. Only the handlers here print.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["add_train_parser", "add_import_parser", "add_make_pairs_parser"]

# Kept in step with Pix2PixTrainConfig.PRESETS (a test checks), so --help needs no import.
PRESET_NAMES = ("isola2017", "tiny")
IMPORT_ARCHS = ("unet_256", "unet_128")
MAKE_PAIRS_KINDS = ("edges2photo", "gray2color")


def add_train_parser(
    families: argparse._SubParsersAction,
    add_training_arguments: Callable[..., None],
    train_handler: Callable[[argparse.Namespace], None],
) -> argparse.ArgumentParser:
    """``train pix2pix``: the shared training arguments plus ``--data`` and ``--direction``."""
    parser = families.add_parser(
        "pix2pix", help="Isola et al. 2017 pix2pix: a folder of paired pictures (A|B side by side, or A/ and B/)"
    )
    parser.add_argument("--data", metavar="DIR",
                        help="paired pictures: A|B side by side in each image, or A/ and B/ folders with "
                             "matching file names (make some with `make-pairs`)")
    parser.add_argument("--direction", choices=["AtoB", "BtoA"], help="learn A -> B (default) or B -> A")
    add_training_arguments(parser, presets=PRESET_NAMES)

    def inputs(args: argparse.Namespace) -> dict[str, str]:
        if not args.data:
            raise ValueError("a new pix2pix run needs --data DIR")
        return {"data": args.data}

    def config_overrides(args: argparse.Namespace) -> dict:
        return {"direction": args.direction} if args.direction else {}

    parser.set_defaults(handler=train_handler, family="pix2pix", train_inputs=inputs,
                        family_overrides=config_overrides)
    return parser


def add_import_parser(sources: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """``import junyanz``: a junyanz/pytorch-CycleGAN-and-pix2pix ``latest_net_G.pth``."""
    parser = sources.add_parser(
        "junyanz", help="a pix2pix generator from junyanz/pytorch-CycleGAN-and-pix2pix (latest_net_G.pth)"
    )
    parser.add_argument("src", metavar="PTH")
    parser.add_argument("out", metavar="OUT", help="checkpoint to write (.safetensors)")
    parser.add_argument("--name", help="model name stored in the checkpoint (default: the file name)")
    parser.add_argument("--arch", default=None, choices=IMPORT_ARCHS,
                        help="the --netG it was trained with (default: read off the file)")
    parser.add_argument("--norm", default="batch", choices=["batch", "instance"],
                        help="the --norm it was trained with (default: batch)")
    parser.add_argument("--ngf", type=int, default=None, help="the --ngf it was trained with (default: read off the file)")
    parser.add_argument("--test-norm", default="image", choices=["image", "running"],
                        help="batch norm at inference: image (junyanz's default test.py, the paper) "
                             "or running (test.py --eval)")
    parser.set_defaults(handler=_import_junyanz)
    return parser


def _import_junyanz(args: argparse.Namespace) -> None:
    from mlcore.importers.junyanz import import_junyanz

    print(import_junyanz(args.src, args.out, name=args.name, arch=args.arch, norm=args.norm, ngf=args.ngf,
                         test_norm=args.test_norm))


def add_make_pairs_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """``make-pairs``: a paired training set (A|B) made from a folder of photos."""
    parser = commands.add_parser(
        "make-pairs", help="make a pix2pix training set (A|B side by side) from a folder of photos"
    )
    parser.add_argument("src", metavar="SRC", help="folder of photos (searched recursively)")
    parser.add_argument("out", metavar="OUT", help="folder to write the pairs into (new or empty)")
    parser.add_argument("--kind", required=True, choices=MAKE_PAIRS_KINDS,
                        help="edges2photo: A is an edge map of the photo B; gray2color: A is B in grey")
    parser.add_argument("--count", type=int, default=100, help="pairs to make (default: 100)")
    parser.add_argument("--size", type=int, default=256, help="side of A and of B in pixels (default: 256)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random crops (default: 0)")
    parser.set_defaults(handler=_make_pairs)
    return parser


def _make_pairs(args: argparse.Namespace) -> None:
    from mlcore.pix2pix.make_pairs import make_pairs

    written = make_pairs(args.src, args.out, kind=args.kind, count=args.count, size=args.size, seed=args.seed)
    print(f"{len(written)} {args.kind} pairs in {args.out}")
