"""Model families by name, and the one shape every family has.

A family is one kind of model (fast style, Pix2Pix, U-GAT-IT, Gatys...). It lives in one folder,
``mlcore/<family>/``, whose modules have the same names and jobs in every family:

    __init__.py   registers the family here (name, label, config classes, the inputs a
                  training run reads and its dataset layout in words)
    config.py     the architecture config and the training config (mlcore.config, torch-free)
    networks.py   build(config) -> nn.Module
    losses.py     its own losses, if it has any (shared ones are in mlcore.losses)
    data.py       inspect_dataset(root), dataset_inputs(root) and its training dataset
    trainer.py    Task: its mlcore.engine.TrainingTask
    inferer.py    translate(net, x01) (and attention(net, x01), tiler(net) where it has them)

The package and its config module import no torch, so ``import mlcore.registry`` and listing the
families stay cheap for the command line's ``--help`` and the web admin's forms; the other
modules are imported the first time a family's network, data or trainer is needed (``Family``
and ``Training`` below do it, in one place). Adding a family means one new folder and one entry
in ``BUILTIN_FAMILIES``; the command line, the importers table and the site pick it up from here.
Checkpoints name their family, and the loader uses this registry to rebuild config and network.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = [
    "BUILTIN_FAMILIES",
    "Family",
    "Training",
    "TrainInput",
    "UnknownFamilyError",
    "register",
    "get_family",
    "family_names",
    "trainable_families",
]

# The family packages: each registers itself when imported.
BUILTIN_FAMILIES = ("mlcore.fast_style", "mlcore.gatys", "mlcore.pix2pix", "mlcore.stylegan2", "mlcore.ugatit")

_families: dict[str, Family] = {}
_builtins_loaded = False


@dataclass(frozen=True)
class TrainInput:
    """One input a training run reads, besides its config (stored by path in run.json)."""

    name: str  # key in the run's ``inputs`` mapping, e.g. "style"; the CLI flag is --style
    kind: str  # "image" (one image file), "folder" (a folder of images) or "file"
    help: str  # one line for a form or --help
    required: bool = True


@dataclass(frozen=True)
class Training:
    """How to train a family with mlcore.engine: its training config, the inputs a run reads and
    the layout of a dataset in words. The rest comes from its ``trainer`` and ``data`` modules."""

    config_class: type  # frozen mlcore.config.Config with at least ``steps`` and ``batch_size``
    inputs: tuple[TrainInput, ...]
    dataset_layout: str  # for forms, reports and errors (the web admin shows it without torch)
    package: str = ""  # set by register()

    def make_task(self, config: Any, inputs: dict[str, str], **kwargs: Any) -> Any:
        """The family's ``trainer.Task(config, inputs, *, device, precision, seed)``."""
        return _module(self.package, "trainer").Task(config, inputs, **kwargs)

    def inspect_dataset(self, root: Any) -> Any:
        """What is in a dataset folder and every problem in words (an mlcore.data.DatasetReport)."""
        return _module(self.package, "data").inspect_dataset(root)

    def dataset_inputs(self, root: Any) -> dict[str, str]:
        """The run's ``inputs`` for a dataset folder that inspect_dataset found good."""
        return _module(self.package, "data").dataset_inputs(root)


@dataclass(frozen=True)
class Family:
    """What mlcore needs to know about one model family."""

    name: str  # the identifier stored in checkpoints, e.g. "fast_style"
    label: str  # a human name for catalogues and logs
    package: str  # its folder as a module name, e.g. "mlcore.fast_style"
    config_class: type  # its architecture config (mlcore.config.Config)
    training: Training | None = None  # present when mlcore can train it
    has_attention: bool = False  # its inferer can show where the network looks
    style_image: bool = False  # it paints with a style image the user gives (Gatys)
    checkpoint: bool = True  # a model is a network checkpoint (Gatys has none: it optimises each picture)
    optimises_each_picture: bool = False  # minutes per picture rather than a forward pass
    # It makes images from seeds and latents (StyleGAN2) instead of converting a photo: its
    # ``translate`` refuses, and the Convert flow must not offer it.
    generator: bool = False

    @property
    def cli_name(self) -> str:
        return self.name.replace("_", "-")

    def build(self, config: Any) -> nn.Module:
        """A freshly initialised network for ``config``."""
        return self._network_module().build(config)

    def translate(self, net: nn.Module, x01: torch.Tensor) -> torch.Tensor:
        """Run ``net`` on an image batch in the mlcore convention (mlcore.images); any network
        range, fixed input size or padding is the inferer's business."""
        return _module(self.package, "inferer").translate(net, x01)

    def tiler(self, net: nn.Module) -> Any:
        """How ``net`` translates a photo in tiles (an mlcore.tiling.Tiler), or None: the
        ``tiler(net)`` of the family's inferer module, where it has one."""
        hook = getattr(_module(self.package, "inferer"), "tiler", None)
        return hook(net) if hook is not None else None

    @property
    def attention(self) -> Callable[[nn.Module, torch.Tensor], torch.Tensor] | None:
        """(network, image batch) -> a picture of where the network looks, or None."""
        return _module(self.package, "inferer").attention if self.has_attention else None

    def _network_module(self) -> ModuleType:
        if not self.checkpoint:
            raise ValueError(f"{self.label} has no network to build: it optimises each picture")
        return _module(self.package, "networks")


def _module(package: str, name: str) -> ModuleType:
    return importlib.import_module(f"{package}.{name}")


class UnknownFamilyError(KeyError):
    """No family of that name is registered."""

    def __str__(self) -> str:  # KeyError would otherwise print the message in quotes
        return str(self.args[0]) if self.args else "unknown model family"


def register(family: Family) -> Family:
    """Register ``family`` under its name; registering the same name twice is an error."""
    if family.training is not None and not family.training.package:
        family = replace(family, training=replace(family.training, package=family.package))
    existing = _families.get(family.name)
    if existing is not None and existing != family:
        raise ValueError(f"model family {family.name!r} is already registered")
    _families[family.name] = family
    return family


def get_family(name: str) -> Family:
    """The family registered as ``name`` (or its command-line name, fast-style);
    ``UnknownFamilyError`` lists the known ones."""
    _load_builtins()
    family = _families.get(name) or _families.get(name.replace("-", "_"))
    if family is None:
        known = ", ".join(family_names()) or "none"
        raise UnknownFamilyError(f"unknown model family {name!r} (known families: {known})")
    return family


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
    for module in BUILTIN_FAMILIES:
        importlib.import_module(module)  # the package calls register() on import
    _builtins_loaded = True
