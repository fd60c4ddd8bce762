"""The U-GAT-IT pieces of ``python -m mlcore``, registered by mlcore.cli:

    python -m mlcore train ugatit --data DIR --run-dir DIR [--light] [--img-size N] [--preset tiny] ...
    python -m mlcore import ugatit PT OUT [--direction A2B|B2A] [--light] [--img-size N] [--name NAME]

``add_train_parser(families, add_training_arguments, train_handler)`` adds ``train ugatit``
with the shared training arguments and handler of mlcore.cli; ``add_import_parser(sources)``
adds ``import ugatit``. Like the rest of the CLI, nothing heavy (torch) is imported until a
handler runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

__all__ = ["add_train_parser", "add_import_parser", "TRAIN_PRESETS"]

TRAIN_PRESETS = ("tiny", "kim2020", "kim2020_light")  # UGATITTrainConfig.PRESETS, without importing torch


def add_train_parser(
    families: argparse._SubParsersAction,
    add_training_arguments: Callable[..., None],
    train_handler: Callable[[argparse.Namespace], None],
) -> argparse.ArgumentParser:
    """Register ``train ugatit`` under ``families`` (mlcore.cli's ``train`` subparsers)."""
    parser = families.add_parser(
        "ugatit",
        help="U-GAT-IT (Kim et al. 2020): unpaired translation between two folders of pictures",
    )
    parser.add_argument("--data", metavar="DIR",
                        help="dataset folder with trainA/ and trainB/ (testA/ and testB/ optional)")
    parser.add_argument("--light", action="store_true",
                        help="U-GAT-IT light: gamma/beta from pooled features (less memory, any size)")
    parser.add_argument("--img-size", type=int, metavar="N", help="training image side, a multiple of 4")
    parser.add_argument("--export-direction", choices=["A2B", "B2A"],
                        help="which generator the finished run exports (default: A2B)")
    add_training_arguments(parser, presets=TRAIN_PRESETS)

    def inputs(args: argparse.Namespace) -> dict[str, str]:
        if not args.data:
            raise ValueError("a new ugatit run needs --data DIR (a folder with trainA/ and trainB/)")
        return {"data": args.data}

    def config_overrides(args: argparse.Namespace) -> dict[str, Any]:
        overrides: dict[str, Any] = {}
        if args.light:
            overrides["arch.light"] = True
        if args.img_size is not None:
            overrides["arch.img_size"] = args.img_size
        if args.export_direction:
            overrides["export_direction"] = args.export_direction
        return overrides

    parser.set_defaults(handler=train_handler, family="ugatit", train_inputs=inputs,
                        family_overrides=config_overrides)
    return parser


def add_import_parser(sources: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``import ugatit`` under ``sources`` (mlcore.cli's ``import`` subparsers)."""
    parser = sources.add_parser(
        "ugatit", help="a znxlwm/UGATIT-pytorch checkpoint (.pt with genA2B and genB2A): one generator"
    )
    parser.add_argument("src", metavar="PT")
    parser.add_argument("out", metavar="OUT", help="checkpoint to write (.safetensors)")
    parser.add_argument("--direction", choices=["A2B", "B2A"], default="A2B",
                        help="which generator to import (default: A2B)")
    parser.add_argument("--light", action="store_true",
                        help="expect a light model (read off the weights anyway; this only checks)")
    parser.add_argument("--img-size", type=int, metavar="N",
                        help="training size of a light model (default 256); checked for a full one")
    parser.add_argument("--name", help="model name stored in the checkpoint (default: file name and direction)")
    parser.set_defaults(handler=_import_ugatit)
    return parser


def _import_ugatit(args: argparse.Namespace) -> None:
    from mlcore.importers.ugatit import import_ugatit

    print(import_ugatit(args.src, args.out, direction=args.direction, light=True if args.light else None,
                        img_size=args.img_size, name=args.name))
