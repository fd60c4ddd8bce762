"""The VGG loss network of the perceptual losses (Johnson: VGG16; Gatys: VGG19).

    vgg = load_vgg("vgg16")                       # torchvision's ImageNet weights
    feats = vgg(images01, ["relu2_2", "relu3_3"])  # {"relu2_2": N x 128 x H/2 x W/2, ...}

``VGGFeatures`` takes images in the mlcore convention (RGB in [0, 1], see mlcore.images),
applies the ImageNet mean/std normalisation itself and returns the named activations
(``conv{b}_{i}``, ``relu{b}_{i}``, ``pool{b}``), running only as deep as the deepest one asked
for. It is frozen: eval mode, no parameter gradients (gradients still flow to the input).

Where the ImageNet weights come from (``weights="imagenet"``), first found wins:
1. ``path=`` (the CLI's ``--vgg-weights``), or the environment variable
   ``RESTYLE_VGG16_WEIGHTS`` / ``RESTYLE_VGG19_WEIGHTS``: torchvision's ``.pth`` state dict
   (loaded with ``weights_only=True``) or a ``.safetensors`` file with the same keys;
2. torch hub's cache (``$TORCH_HOME/hub/checkpoints/vgg16-397923af.pth``), where torchvision
   itself keeps them;
3. a download of torchvision's published file into that cache, unless ``download=False`` or
   ``RESTYLE_OFFLINE=1``.
When none works, ``MissingVGGWeightsError`` says which file to fetch, from where, and where to
point mlcore at it.

``weights="random"`` builds a randomly initialised network (fixed seed) for tests: its
features are not a perceptual metric, so anything trained or painted with it is not a real
style model and must say so (``RANDOM_VGG_LABEL``); loading one logs a warning.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

__all__ = [
    "ARCHES",
    "RANDOM_VGG_LABEL",
    "VGG_WEIGHTS",
    "MissingVGGWeightsError",
    "VGGFeatures",
    "load_vgg",
    "layer_names",
    "imagenet_weights_on_disk",
]

log = logging.getLogger(__name__)

RANDOM_VGG_LABEL = "random VGG (test only, not a real style model)"

# torchvision's layer layout: numbers are conv widths (3x3, padding 1, each followed by a ReLU),
# "M" a 2x2 max pool. Indices in the Sequential match torchvision's ``features`` module.
_LAYOUTS: dict[str, list[int | str]] = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
              512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}
ARCHES = tuple(_LAYOUTS)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class WeightsFile:
    """torchvision's published ImageNet weights for one architecture."""

    url: str
    env_var: str

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def hash_prefix(self) -> str:  # torchvision names files <arch>-<sha256 prefix>.pth
        return self.filename.rsplit("-", 1)[-1].split(".")[0]


VGG_WEIGHTS: dict[str, WeightsFile] = {
    "vgg16": WeightsFile("https://download.pytorch.org/models/vgg16-397923af.pth", "RESTYLE_VGG16_WEIGHTS"),
    "vgg19": WeightsFile("https://download.pytorch.org/models/vgg19-dcbb9e9d.pth", "RESTYLE_VGG19_WEIGHTS"),
}


class MissingVGGWeightsError(RuntimeError):
    """The ImageNet VGG weights are neither on this machine nor downloadable."""


def layer_names(arch: str) -> tuple[str, ...]:
    """Names of every layer of ``arch`` in order: conv1_1, relu1_1, conv1_2, ..., pool5."""
    return tuple(name for name, _ in _layer_plan(arch))


def _layer_plan(arch: str) -> list[tuple[str, int | str]]:
    if arch not in _LAYOUTS:
        raise ValueError(f"unknown VGG architecture {arch!r} (choose from {', '.join(ARCHES)})")
    plan: list[tuple[str, int | str]] = []
    block, conv = 1, 0
    for item in _LAYOUTS[arch]:
        if item == "M":
            plan.append((f"pool{block}", "M"))
            block, conv = block + 1, 0
        else:
            conv += 1
            plan.append((f"conv{block}_{conv}", item))
            plan.append((f"relu{block}_{conv}", "R"))
    return plan


class VGGFeatures(nn.Module):
    """A frozen VGG feature extractor with ImageNet normalisation; see the module docstring."""

    def __init__(self, arch: str = "vgg16", *, pooling: str = "max") -> None:
        super().__init__()
        if pooling not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg'; got {pooling!r}")
        self.arch = arch
        self.weights_source = "untrained"  # set by load_vgg: the weights file's name, or "random"
        with torch.random.fork_rng(devices=[]):  # nn.Conv2d's own init must not move the global RNG
            layers, names = self._build(arch, pooling)
        self.features = nn.Sequential(*layers)  # same indices as torchvision's vgg.features
        self.layer_names = tuple(names)
        self._index = {name: i for i, name in enumerate(names)}
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    @staticmethod
    def _build(arch: str, pooling: str) -> tuple[list[nn.Module], list[str]]:
        layers: list[nn.Module] = []
        names: list[str] = []
        in_channels = 3
        for name, item in _layer_plan(arch):
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
            elif item == "R":
                layers.append(nn.ReLU(inplace=False))  # conv outputs may be asked for too
            else:
                layers.append(nn.Conv2d(in_channels, int(item), kernel_size=3, padding=1))
                in_channels = int(item)
            names.append(name)
        return layers, names

    @property
    def is_random(self) -> bool:
        return self.weights_source == "random"

    @property
    def label(self) -> str:
        """What this loss network is, for checkpoint meta and logs."""
        if self.is_random:
            return RANDOM_VGG_LABEL
        return f"{self.arch.upper()} ImageNet weights ({self.weights_source})"

    def train(self, mode: bool = True) -> VGGFeatures:
        return super().train(False)  # always frozen: a trainer's .train() must not change it

    def forward(self, images01: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """The activations named in ``layers`` for a batch of RGB images in [0, 1]."""
        wanted = {}
        for name in layers:
            if name not in self._index:
                raise ValueError(f"{self.arch} has no layer {name!r} (layers: {', '.join(self.layer_names)})")
            wanted[self._index[name]] = name
        x = (images01 - self.mean.to(images01.dtype)) / self.std.to(images01.dtype)
        out: dict[str, torch.Tensor] = {}
        for i, layer in enumerate(self.features[: max(wanted) + 1]):
            x = layer(x)
            if i in wanted:
                out[wanted[i]] = x
        return out


def load_vgg(
    arch: str = "vgg16",
    weights: str = "imagenet",
    *,
    path: str | os.PathLike | None = None,
    download: bool = True,
    downloader: Callable[[str, str], None] | None = None,
    pooling: str = "max",
    device: str | torch.device = "cpu",
    seed: int = 0,
) -> VGGFeatures:
    """A frozen ``VGGFeatures`` with ``weights`` "imagenet" (see the module docstring) or "random".

    ``downloader(url, destination)`` replaces torch hub's download (tests pass one that fails).
    ``seed`` fixes the random weights, so every "random" network of an arch is the same one.
    """
    net = VGGFeatures(arch, pooling=pooling)
    if weights == "random":
        _init_random(net, seed)
        net.weights_source = "random"
        log.warning("using a %s", RANDOM_VGG_LABEL)
    elif weights == "imagenet":
        file = _find_imagenet_weights(arch, path=path, download=download, downloader=downloader)
        net.features.load_state_dict(_read_features_state_dict(file, arch))
        net.weights_source = file.name
        log.info("loaded %s ImageNet weights from %s", arch, file)
    else:
        raise ValueError(f"VGG weights must be 'imagenet' or 'random'; got {weights!r}")
    return net.to(device)


def imagenet_weights_on_disk(arch: str, *, path: str | os.PathLike | None = None) -> Path | None:
    """The ImageNet weights file ``load_vgg`` would use without downloading, or None."""
    try:
        return _find_imagenet_weights(arch, path=path, download=False, downloader=None)
    except MissingVGGWeightsError:
        return None


def _init_random(net: VGGFeatures, seed: int) -> None:
    # torchvision's VGG initialisation, drawn from a private generator so the global RNG (and
    # with it a training run's reproducibility) is untouched.
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in net.features:
            if isinstance(module, nn.Conv2d):
                fan_out = module.out_channels * module.kernel_size[0] * module.kernel_size[1]
                module.weight.normal_(0.0, (2.0 / fan_out) ** 0.5, generator=generator)
                module.bias.zero_()


def _find_imagenet_weights(
    arch: str, *, path: str | os.PathLike | None, download: bool,
    downloader: Callable[[str, str], None] | None,
) -> Path:
    if arch not in VGG_WEIGHTS:
        raise ValueError(f"unknown VGG architecture {arch!r} (choose from {', '.join(ARCHES)})")
    source = VGG_WEIGHTS[arch]
    how_to = (
        f"download {source.url} on a machine that is online and name the file with --vgg-weights "
        f"(a run's vgg_weights input) or the environment variable {source.env_var}, or put it in "
        f"{_hub_checkpoints() / source.filename}"
    )
    for given, origin in ((path, "the given path"), (os.environ.get(source.env_var), source.env_var)):
        if given:
            file = Path(given).expanduser()
            if not file.is_file():
                raise MissingVGGWeightsError(
                    f"{arch} ImageNet weights: {origin} names {file}, which is not a file; {how_to}"
                )
            return file
    cached = _hub_checkpoints() / source.filename
    if cached.is_file():
        return cached
    if not download or os.environ.get("RESTYLE_OFFLINE", "") not in ("", "0"):
        why = "downloads are switched off" + (" (RESTYLE_OFFLINE)" if download else "")
    else:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            log.info("downloading %s to %s", source.url, cached)
            if downloader is None:
                torch.hub.download_url_to_file(source.url, str(cached), hash_prefix=source.hash_prefix)
            else:
                downloader(source.url, str(cached))
            if cached.is_file():
                return cached
            why = "the download produced no file"
        except Exception as exc:  # offline, proxy, disk: all mean "not here", said below
            why = f"the download failed ({type(exc).__name__}: {exc})"
    raise MissingVGGWeightsError(
        f"{arch} ImageNet weights ({source.filename}) are not on this machine and {why}; {how_to}. "
        "(weights='random' / --random-vgg exists for tests only.)"
    )


def _hub_checkpoints() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def _read_features_state_dict(file: Path, arch: str) -> dict[str, torch.Tensor]:
    """The ``features.*`` tensors of a torchvision VGG state dict, keys without the prefix."""
    try:
        if file.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(file))
        else:
            state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{file}: cannot read VGG weights ({type(exc).__name__}: {exc})") from exc
    if not isinstance(state, dict):
        raise ValueError(f"{file}: not a state dict")
    features = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
    if not features:  # a features-only state dict ("0.weight", ...)
        features = {k: v for k, v in state.items() if k.split(".")[0].isdigit()}
    expected = {f"{i}.{p}" for i, (_, item) in enumerate(_layer_plan(arch)) if isinstance(item, int)
                for p in ("weight", "bias")}
    if set(features) != expected:
        missing = sorted(expected - set(features), key=lambda k: int(k.split(".")[0]))
        raise ValueError(
            f"{file}: not a torchvision {arch} state dict "
            f"(missing {', '.join('features.' + k for k in missing[:4]) or 'nothing'}"
            f"{', ...' if len(missing) > 4 else ''}; "
            f"{len(set(features) - expected)} unexpected feature tensors)"
        )
    return features
