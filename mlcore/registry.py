"""Model families by name: how to build a family's network and how to run it.

A family is one kind of image-to-image model (``fast_style`` today; pix2pix, U-GAT-IT and
StyleGAN2 later). A family that can be trained here also carries a ``Training`` record: its
training config class, the inputs a run reads (a style image, a folder of photos...) and the
factory of its ``mlcore.engine.TrainingTask``; the CLI's ``train`` command and the web admin
list trainable families and build their forms from it. Each family package registers a
``Family`` record when it is imported;
the built-in families are imported lazily on the first lookup, so ``import mlcore.registry``
stays cheap. Checkpoints name their family, and the loader uses this registry to rebuild the
config and the network.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = [
    "Family",
    "Training",
    "TrainInput",
    "UnknownFamilyError",
    "register",
    "get_family",
    "family_names",
    "trainable_families",
]

# Packages that register a family when imported.
_BUILTIN_FAMILY_MODULES = ("mlcore.fast_style", "mlcore.pix2pix", "mlcore.ugatit")

_families: dict[str, Family] = {}
_builtins_loaded = False


@dataclass(frozen=True)
class TrainInput:
    """One input a training run reads, besides its config (stored by path in run.json)."""

    name: str  # key in the run's ``inputs`` mapping, e.g. "style"
    kind: str  # "image" (one image file), "folder" (a folder of images) or "file"
    help: str  # one line for a form or --help
    required: bool = True


@dataclass(frozen=True)
class Training:
    """How to train a family with mlcore.engine."""

    config_class: type  # frozen mlcore.config.Config with at least ``steps`` and ``batch_size``
    inputs: tuple[TrainInput, ...]
    # (config, inputs: dict[str, str], *, device, precision, seed) -> mlcore.engine.TrainingTask;
    # imports its trainer module lazily, so registering a family stays cheap.
    make_task: Callable[..., Any]
    # A dataset is one folder in the layout this family trains on (for the web admin, which
    # stores uploaded datasets as folders). inspect_dataset(root) -> mlcore.data.DatasetReport
    # says what is there and every problem in words; dataset_inputs(root) -> the run's
    # ``inputs`` mapping (e.g. {"style": root/"style.jpg", "content": root/"content"}).
    inspect_dataset: Callable[[Any], Any] | None = None
    dataset_inputs: Callable[[Any], dict[str, str]] | None = None
    dataset_layout: str = ""  # the layout in words, for forms and errors


@dataclass(frozen=True)
class Family:
    """What mlcore needs to know about one model family."""

    name: str  # the identifier stored in checkpoints, e.g. "fast_style"
    label: str  # a human name for catalogues and logs
    config_class: type  # frozen dataclass with to_json()/from_json()
    build: Callable[[Any], nn.Module]  # config -> freshly initialised network
    # Inference hook: (network, image batch in the mlcore convention) -> image batch in the
    # convention (see mlcore.images). Families with a different network range, a fixed input
    # size or an optimisation loop (StyleGAN2 projection) hide that here.
    translate: Callable[[nn.Module, torch.Tensor], torch.Tensor]
    # Present when mlcore can train the family (python -m mlcore train <family>).
    training: Training | None = None
    # Optional attention hook (U-GAT-IT): (network, image batch in the convention) -> a picture
    # of where the network looks, as an image batch in the convention of the input's size.
    attention: Callable[[nn.Module, torch.Tensor], torch.Tensor] | None = None


class UnknownFamilyError(KeyError):
    """No family of that name is registered."""

    def __str__(self) -> str:  # KeyError would otherwise print the message in quotes
        return str(self.args[0]) if self.args else "unknown model family"


def register(family: Family) -> Family:
    """Register ``family`` under its name; registering the same name twice is an error."""
    existing = _families.get(family.name)
    if existing is not None and existing is not family:
        raise ValueError(f"model family {family.name!r} is already registered")
    _families[family.name] = family
    return family


def get_family(name: str) -> Family:
    """The family registered as ``name``; ``UnknownFamilyError`` lists the known ones."""
    _load_builtins()
    try:
        return _families[name]
    except KeyError:
        known = ", ".join(family_names()) or "none"
        raise UnknownFamilyError(
            f"unknown model family {name!r} (known families: {known})"
        ) from None


def family_names() -> list[str]:
    """Names of all registered families, sorted."""
    _load_builtins()
    return sorted(_families)


def trainable_families() -> list[Family]:
    """Registered families that mlcore.engine can train, sorted by name."""
    return [get_family(name) for name in family_names() if _families[name].training is not None]


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    for module in _BUILTIN_FAMILY_MODULES:
        importlib.import_module(module)  # the package calls register() on import
    _builtins_loaded = True
