"""Import community StyleGAN2 generators: NVlabs network pickles and rosinality checkpoints.

Both become a state dict in the names and shapes of NVlabs stylegan2-ada-pytorch
``training/networks.py`` (which ``mlcore.stylegan2.networks`` keeps), plus the architecture it
implies as the fields of ``StyleGAN2Config``.

NVlabs ``.pkl`` (stylegan2-ada-pytorch, and stylegan3 with ``--cfg=stylegan2``): read by
``nvlabs_pickle`` without running the code they carry. The tensors already have our names;
the architecture is read off the records' attributes (what the network was built with) and
checked against the shapes. Conditional generators (``c_dim > 0``: the site has no class
picker), StyleGAN3 generators (alias-free, ``synthesis.input`` and ``L0_...`` layers) and
architectures other than ``skip`` are refused in words.

rosinality/stylegan2-pytorch ``.pt``: ``torch.save`` dicts, the training layout (``g``,
``d``, ``g_ema``, ``g_optim``, ``d_optim``, ``args``: an ``argparse.Namespace``) or the
``convert_weight.py`` layout (``g_ema``, ``latent_avg``), read with
``torch.load(weights_only=True)`` admitting ``argparse.Namespace`` and nothing else. Its layers
compute what NVlabs' do; the names and a few shapes differ:

- ``style.{i+1}`` (EqualLinear, lr_mul) = ``mapping.fc{i}``: same stored values, both keep
  ``weight / lr_mul`` and apply ``lr_mul / sqrt(in)`` and ``lr_mul`` at run time;
- ``input.input`` [1,C,4,4] = ``synthesis.b4.const`` [C,4,4];
- ``conv1`` / ``to_rgb1`` = ``b4.conv1`` / ``b4.torgb``; ``convs.{2k}``, ``convs.{2k+1}``,
  ``to_rgbs.{k}`` = ``b{2^(k+3)}.conv0``, ``.conv1``, ``.torgb``;
- ``conv.weight`` [1,O,I,k,k] = ``weight`` [O,I,k,k]; ``conv.modulation`` = ``affine`` (both
  bias-initialised to 1, gain 1/sqrt(w_dim)); ``activate.bias`` [C] = ``bias`` [C] (a fused
  leaky ReLU with gain sqrt 2, as NVlabs' bias_act 'lrelu'); ToRGB ``bias`` [1,3,1,1] = ``bias``
  [3]; ``noise.weight`` [1] = ``noise_strength`` []; ``noises.noise_{j}`` [1,1,r,r] =
  ``noise_const`` [r,r], j = 0 for b4.conv1, 2k+1 and 2k+2 for conv0 and conv1 of block k;
- the blur kernels: rosinality stores ``make_kernel([1,3,3,1])`` (normalised to sum 1)
  multiplied by ``factor**2 = 4`` for its up-sampling Blur and Upsample; NVlabs stores the
  normalised filter (sum 1) as ``resample_filter`` and applies the gain 4 when it up-samples.
  So ``resample_filter = kernel / 4``, checked to be the [1,3,3,1] filter.
- the up-sampling conv: rosinality runs ``conv_transpose2d(x, w^T, stride=2, padding=0)`` then
  blurs with pads (1, 1); NVlabs ``conv2d_resample(up=2, padding=1, flip_weight=False)`` runs
  the same transposed conv without flipping the weight (its wrapper gets ``flip_weight=True``)
  then ``upfirdn2d`` with pads (1, 1) and gain 4: the same operation, so the weight is copied
  as it is. (Both projects flip TensorFlow's Conv0_up weight when converting from TF, which
  agrees.) The noise is added after the blur in both.
- the mapping's ``w_avg``: ``latent_avg`` when the file has it (convert_weight.py), otherwise
  estimated as the mean of the mapping over ``W_AVG_SAMPLES`` z drawn from a fixed seed (what
  rosinality's ``mean_latent`` does per run); the checkpoint's meta says which.
- rosinality's mapping lr multiplier (``lr_mlp``, 0.01) is not saved in its files; 0.01 is
  assumed. Its channel rule (512 up to 32 px, then ``2^(14)/res * channel_multiplier``) is
  NVlabs' ``min(channel_base // res, channel_max)`` with ``channel_base = 16384 *
  channel_multiplier`` for multipliers 1 and 2, read off the shapes.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import re
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from mlcore.importers.errors import ImporterError
from mlcore.importers.nvlabs_pickle import PersistentRecord, load_nvlabs_pickle, record_state_dict
from mlcore.importers.torch_files import check_state_dict, is_state_dict, load_torch_file

__all__ = [
    "WHICH",
    "W_AVG_SAMPLES",
    "expected_generator_shapes",
    "nvlabs_generator",
    "rosinality_generator",
    "import_nvlabs_stylegan2",
    "import_rosinality",
]

log = logging.getLogger(__name__)

WHICH = ("G_ema", "G")  # the generator to import: the EMA one (what NVlabs' generate.py uses) or the trained one
W_AVG_SAMPLES = 10_000
_W_AVG_SEED = 0
_FILTER_TAPS = (1.0, 3.0, 3.0, 1.0)
_BLOCK = re.compile(r"^b(\d+)$")


def _fir_filter() -> torch.Tensor:
    taps = torch.tensor(_FILTER_TAPS)
    kernel = taps[:, None] * taps[None, :]
    return kernel / kernel.sum()


def _channels(resolution: int, channel_base: int, channel_max: int) -> int:
    return min(channel_base // resolution, channel_max)


def expected_generator_shapes(config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Names and shapes of an NVlabs ``Generator``'s state dict (architecture ``skip``, noise on,
    unconditional) for the fields of ``StyleGAN2Config``; our reading of NVlabs networks.py."""
    w_dim, z_dim, channels = config["w_dim"], config["z_dim"], config["img_channels"]
    shapes: dict[str, tuple[int, ...]] = {}
    for i in range(config["mapping_layers"]):
        shapes[f"mapping.fc{i}.weight"] = (w_dim, z_dim if i == 0 else w_dim)
        shapes[f"mapping.fc{i}.bias"] = (w_dim,)
    shapes["mapping.w_avg"] = (w_dim,)

    def layer(prefix: str, cin: int, cout: int, res: int) -> None:
        shapes.update({f"{prefix}.weight": (cout, cin, 3, 3), f"{prefix}.noise_strength": (),
                       f"{prefix}.bias": (cout,), f"{prefix}.resample_filter": (4, 4),
                       f"{prefix}.noise_const": (res, res), f"{prefix}.affine.weight": (cin, w_dim),
                       f"{prefix}.affine.bias": (cin,)})

    log2 = int(math.log2(config["resolution"]))
    previous = 0
    for res in (2 ** i for i in range(2, log2 + 1)):
        cout = _channels(res, config["channel_base"], config["channel_max"])
        block = f"synthesis.b{res}"
        shapes[f"{block}.resample_filter"] = (4, 4)
        if res == 4:
            shapes[f"{block}.const"] = (cout, 4, 4)
        else:
            layer(f"{block}.conv0", previous, cout, res)
        layer(f"{block}.conv1", cout, cout, res)
        shapes.update({f"{block}.torgb.weight": (channels, cout, 1, 1), f"{block}.torgb.bias": (channels,),
                       f"{block}.torgb.affine.weight": (cout, w_dim), f"{block}.torgb.affine.bias": (cout,)})
        previous = cout
    return shapes


def _check_against(state_dict: dict[str, torch.Tensor], config: dict[str, Any], *, source: Path,
                   needs: str) -> dict[str, torch.Tensor]:
    expected = {k: torch.empty(shape) for k, shape in expected_generator_shapes(config).items()}
    return check_state_dict(state_dict, expected, source=source, needs=needs, network="the generator")


def _channel_rule(channels: dict[int, int], *, base: Any = None, cmax: Any = None, where: str) -> tuple[int, int]:
    """(channel_base, channel_max) with ``min(base // res, max) == channels[res]`` at every res;
    the values the file names win when they fit."""
    top = max(channels)
    cmax_options = [v for v in (cmax, max(channels.values())) if isinstance(v, int)]
    base_options = [v for v in (base,) if isinstance(v, int)]
    base_options += [c * r for r, c in sorted(channels.items(), reverse=True)] + [max(channels.values()) * top]
    for m in cmax_options:
        for b in base_options:
            if all(_channels(r, b, m) == c for r, c in channels.items()):
                return b, m
    listed = ", ".join(f"{r}px: {c}" for r, c in sorted(channels.items()))
    raise ImporterError(f"{where}: the channel counts ({listed}) follow no min(channel_base / resolution, "
                        "channel_max) rule, which Restyle's StyleGAN2 networks need")


def estimate_w_avg(state_dict: dict[str, torch.Tensor], *, num_layers: int, lr_multiplier: float,
                   samples: int = W_AVG_SAMPLES, seed: int = _W_AVG_SEED) -> torch.Tensor:
    """Mean of the mapping network over ``samples`` z (NVlabs/rosinality mapping formulas):
    z normalised by its second moment, then per layer leaky ReLU(0.2) of the equalised-lr
    linear layer, times sqrt 2."""
    z_dim = state_dict["mapping.fc0.weight"].shape[1]
    x = torch.randn(samples, z_dim, generator=torch.Generator().manual_seed(seed))
    x = x * (x.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()
    with torch.no_grad():
        for i in range(num_layers):
            weight, bias = state_dict[f"mapping.fc{i}.weight"].float(), state_dict[f"mapping.fc{i}.bias"].float()
            x = F.linear(x, weight * (lr_multiplier / math.sqrt(weight.shape[1])), bias * lr_multiplier)
            x = F.leaky_relu(x, 0.2) * math.sqrt(2)
    return x.mean(dim=0)


# --- NVlabs pickles ----------------------------------------------------------------------------


def nvlabs_generator(path: str | os.PathLike, which: str = "G_ema") -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(state dict in NVlabs names, StyleGAN2Config fields) of one generator of an NVlabs pickle."""
    state_dict, config, _ = _nvlabs_generator(Path(path), which)
    return state_dict, config


def _nvlabs_generator(path: Path, which: str) -> tuple[dict[str, torch.Tensor], dict[str, Any], dict[str, Any]]:
    if which not in WHICH:
        raise ImporterError(f"which must be one of {', '.join(WHICH)}; got {which!r}")
    data = load_nvlabs_pickle(path)
    record = data.get(which)
    if not isinstance(record, PersistentRecord):
        found = ", ".join(sorted(map(str, data))) or "nothing"
        raise ImporterError(f"{path}: no {which} network (not an NVlabs StyleGAN2 pickle; it holds {found})")
    where = f"{path}: {which}"
    mapping, synthesis = record.child("mapping"), record.child("synthesis")
    if record.class_name != "Generator" or mapping is None or synthesis is None:
        raise ImporterError(f"{where} is a {record.class_name or 'nameless'} network, not a StyleGAN2 Generator "
                            "with mapping and synthesis networks")
    layers = synthesis.children()
    if "input" in layers or any(re.match(r"^L\d+_", n) for n in layers) or "class SynthesisInput" in synthesis.module_src:
        raise ImporterError(f"{where} is a StyleGAN3 (alias-free, --cfg=stylegan3-t/-r) generator; Restyle runs "
                            "StyleGAN2 generators (stylegan3 pickles trained with --cfg=stylegan2 import)")
    blocks = {int(m.group(1)): child for n, child in layers.items() if (m := _BLOCK.match(n))}
    if not blocks or set(layers) - {f"b{r}" for r in blocks}:
        raise ImporterError(f"{where}: the synthesis network's layers ({', '.join(layers)}) are not StyleGAN2 "
                            "blocks b4, b8, ...")
    architectures = {b.attr("architecture", "skip") for b in blocks.values()}
    if architectures != {"skip"}:
        raise ImporterError(f"{where}: a synthesis network of architecture {', '.join(sorted(architectures))}; "
                            "Restyle's StyleGAN2 generator is the paper's 'skip' one")

    kwargs = record.init_kwargs
    c_dim = record.attr("c_dim", kwargs.get("c_dim", 0))
    if c_dim:
        raise ImporterError(f"{where} is a conditional generator (c_dim={c_dim}: one class label per image); "
                            "Restyle imports unconditional ones only")
    synthesis_kwargs = {**kwargs, **(kwargs.get("synthesis_kwargs") or {}), **synthesis.init_kwargs}
    state_dict = {k: v.float() for k, v in record_state_dict(record, where=where).items()}

    def need(key: str) -> torch.Tensor:
        tensor = state_dict.get(key)
        if tensor is None:
            raise ImporterError(f"{where}: no {key} (not a StyleGAN2 generator's weights)")
        return tensor

    resolution = record.attr("img_resolution", kwargs.get("img_resolution"))
    if not isinstance(resolution, int) or resolution != max(blocks):
        raise ImporterError(f"{where}: img_resolution {resolution!r} does not match its last block b{max(blocks)}")
    channels = {r: need(f"synthesis.b{r}.conv1.weight").shape[0] for r in blocks}
    channel_base, channel_max = _channel_rule(channels, base=synthesis_kwargs.get("channel_base"),
                                              cmax=synthesis_kwargs.get("channel_max"), where=where)
    num_layers = mapping.attr("num_layers")
    if not isinstance(num_layers, int):
        num_layers = sum(1 for n in mapping.children() if re.match(r"^fc\d+$", n))
    fc0 = mapping.child("fc0")
    lr_multiplier = fc0.attr("bias_gain") if fc0 is not None else None
    if not isinstance(lr_multiplier, (int, float)):
        lr_multiplier = (kwargs.get("mapping_kwargs") or {}).get("lr_multiplier", 0.01)
    num_fp16_res = synthesis.attr("num_fp16_res", synthesis_kwargs.get("num_fp16_res"))
    if not isinstance(num_fp16_res, int):
        num_fp16_res = sum(1 for b in blocks.values() if b.attr("use_fp16"))
    first_layer = blocks[4].child("conv1") if 4 in blocks else None
    conv_clamp = first_layer.attr("conv_clamp") if first_layer is not None else synthesis_kwargs.get("conv_clamp")
    config = {
        "resolution": resolution,
        "z_dim": int(record.attr("z_dim", kwargs.get("z_dim"))),
        "w_dim": int(record.attr("w_dim", kwargs.get("w_dim"))),
        "mapping_layers": int(num_layers),
        "mapping_lr_multiplier": float(lr_multiplier),
        "channel_base": int(channel_base),
        "channel_max": int(channel_max),
        "num_fp16_res": int(num_fp16_res),
        "conv_clamp": None if conv_clamp is None else float(conv_clamp),
        "img_channels": int(record.attr("img_channels", kwargs.get("img_channels", 3))),
    }
    meta: dict[str, Any] = {"source": f"NVlabs StyleGAN2 network pickle ({which})", "w_avg": "from the file"}
    if "mapping.w_avg" not in state_dict and f"mapping.fc{num_layers - 1}.weight" in state_dict:
        state_dict["mapping.w_avg"] = estimate_w_avg(state_dict, num_layers=num_layers,
                                                     lr_multiplier=config["mapping_lr_multiplier"])
        meta["w_avg"] = f"estimated from {W_AVG_SAMPLES} random z (the file tracks none)"
    training_set = data.get("training_set_kwargs")
    if isinstance(training_set, dict):
        meta["training_set"] = _plain(training_set)
    weights = _check_against(state_dict, config, source=path, needs=f"a StyleGAN2 generator ({which})")
    return weights, config, meta


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """The JSON-ready entries of a dict (numbers, strings, booleans), paths cut to their last part."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, (bool, int, float, str)) or value is None:
            out[str(key)] = os.path.basename(value) if key == "path" and isinstance(value, str) else value
        elif hasattr(value, "item") and getattr(value, "ndim", 1) == 0:  # numpy scalars
            out[str(key)] = value.item()
    return out


# --- rosinality checkpoints ------------------------------------------------------------------


def rosinality_generator(path: str | os.PathLike, which: str = "G_ema") -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(state dict in NVlabs names, StyleGAN2Config fields) of a rosinality/stylegan2-pytorch file."""
    state_dict, config, _ = _rosinality_generator(Path(path), which)
    return state_dict, config


def _load_rosinality_file(path: Path) -> dict[str, Any]:
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            loaded = load_torch_file(path)
    except ImporterError as exc:
        # torch names the global it refused deep in its message; say it first.
        refused = re.search(r"GLOBAL ([\w.]+)", str(exc.__cause__ or ""))
        if refused:
            raise ImporterError(f"{path}: refused to load: the file asks for {refused.group(1)}, which a "
                                "rosinality checkpoint never needs (it could run code)") from None
        raise
    if not isinstance(loaded, dict) or not any(k in loaded for k in ("g_ema", "g")):
        found = ", ".join(sorted(map(str, loaded))) if isinstance(loaded, dict) else type(loaded).__name__
        raise ImporterError(f"{path}: not a rosinality/stylegan2-pytorch checkpoint (expected a dict with a g_ema "
                            f"state dict; found {found or 'an empty dict'})")
    return loaded


def _rosinality_generator(path: Path, which: str) -> tuple[dict[str, torch.Tensor], dict[str, Any], dict[str, Any]]:
    if which not in WHICH:
        raise ImporterError(f"which must be one of {', '.join(WHICH)}; got {which!r}")
    loaded = _load_rosinality_file(path)
    key = "g_ema" if which == "G_ema" else "g"
    theirs = loaded.get(key)
    if theirs is None:
        raise ImporterError(f"{path}: no {key} state dict (the file holds {', '.join(sorted(map(str, loaded)))})")
    if not is_state_dict(theirs):
        raise ImporterError(f"{path}: {key} is not a state dict (a mapping of names to tensors)")
    if theirs and all(k.startswith("module.") for k in theirs):  # saved from a DistributedDataParallel wrapper
        theirs = {k[len("module."):]: v for k, v in theirs.items()}
    where = f"{path}: {key}"
    ours, config, used = _rosinality_to_nvlabs(dict(theirs), where=where)
    unused = sorted(set(theirs) - used)
    if unused:
        raise ImporterError(f"{where}: keys a rosinality StyleGAN2 Generator does not have: {', '.join(unused[:8])}"
                            + (f" and {len(unused) - 8} more" if len(unused) > 8 else ""))

    meta: dict[str, Any] = {"source": f"rosinality/stylegan2-pytorch checkpoint ({key})"}
    latent_avg = loaded.get("latent_avg")
    if isinstance(latent_avg, torch.Tensor) and latent_avg.numel() == config["w_dim"]:
        ours["mapping.w_avg"] = latent_avg.reshape(-1).float()
        meta["w_avg"] = "from the file (latent_avg)"
    else:
        ours["mapping.w_avg"] = estimate_w_avg(ours, num_layers=config["mapping_layers"],
                                               lr_multiplier=config["mapping_lr_multiplier"])
        meta["w_avg"] = f"estimated from {W_AVG_SAMPLES} random z (the file has no latent_avg)"
    args = loaded.get("args")
    if isinstance(args, argparse.Namespace):
        meta["training_args"] = _plain(vars(args))
        size = getattr(args, "size", None)
        if isinstance(size, int) and size != config["resolution"]:
            raise ImporterError(f"{where}: args.size is {size} but the weights are for {config['resolution']}px")
    weights = _check_against(ours, config, source=path, needs="a StyleGAN2 generator")
    return weights, config, meta


def _rosinality_to_nvlabs(theirs: dict[str, torch.Tensor], *, where: str) -> tuple[dict[str, torch.Tensor], dict[str, Any], set[str]]:
    used: set[str] = set()

    def take(key: str, dims: int | None = None) -> torch.Tensor:
        tensor = theirs.get(key)
        if tensor is None:
            raise ImporterError(f"{where}: no {key} (not a rosinality/stylegan2-pytorch Generator state dict)")
        if dims is not None and tensor.dim() != dims:
            raise ImporterError(f"{where}: {key} has shape {list(tensor.shape)}; expected {dims} dimensions")
        used.add(key)
        return tensor.float()

    def filter_of(key: str) -> torch.Tensor:
        kernel = take(key, 2) / 4  # stored times factor**2 for up-sampling
        if kernel.shape != (4, 4) or not torch.allclose(kernel, _fir_filter(), atol=1e-6):
            raise ImporterError(f"{where}: {key} is not the [1,3,3,1] filter Restyle's StyleGAN2 uses")
        return kernel

    n_mlp = sum(1 for k in theirs if re.match(r"^style\.\d+\.weight$", k))
    n_up = sum(1 for k in theirs if re.match(r"^to_rgbs\.\d+\.conv\.weight$", k))
    if n_mlp == 0:
        raise ImporterError(f"{where}: no style.N mapping layers (not a rosinality/stylegan2-pytorch Generator state dict)")
    ours: dict[str, torch.Tensor] = {}
    for i in range(n_mlp):
        ours[f"mapping.fc{i}.weight"] = take(f"style.{i + 1}.weight", 2)
        ours[f"mapping.fc{i}.bias"] = take(f"style.{i + 1}.bias", 1)

    def styled(ours_prefix: str, theirs_prefix: str, noise: str, blur: bool) -> None:
        ours[f"{ours_prefix}.weight"] = take(f"{theirs_prefix}.conv.weight", 5)[0]
        ours[f"{ours_prefix}.affine.weight"] = take(f"{theirs_prefix}.conv.modulation.weight", 2)
        ours[f"{ours_prefix}.affine.bias"] = take(f"{theirs_prefix}.conv.modulation.bias", 1)
        ours[f"{ours_prefix}.bias"] = take(f"{theirs_prefix}.activate.bias", 1)
        ours[f"{ours_prefix}.noise_strength"] = take(f"{theirs_prefix}.noise.weight", 1).reshape(())
        ours[f"{ours_prefix}.noise_const"] = take(noise, 4)[0, 0]
        ours[f"{ours_prefix}.resample_filter"] = filter_of(f"{theirs_prefix}.conv.blur.kernel") if blur else _fir_filter()

    def to_rgb(ours_prefix: str, theirs_prefix: str) -> None:
        ours[f"{ours_prefix}.weight"] = take(f"{theirs_prefix}.conv.weight", 5)[0]
        ours[f"{ours_prefix}.affine.weight"] = take(f"{theirs_prefix}.conv.modulation.weight", 2)
        ours[f"{ours_prefix}.affine.bias"] = take(f"{theirs_prefix}.conv.modulation.bias", 1)
        ours[f"{ours_prefix}.bias"] = take(f"{theirs_prefix}.bias", 4).reshape(-1)

    ours["synthesis.b4.const"] = take("input.input", 4)[0]
    ours["synthesis.b4.resample_filter"] = _fir_filter()
    styled("synthesis.b4.conv1", "conv1", "noises.noise_0", blur=False)
    to_rgb("synthesis.b4.torgb", "to_rgb1")
    for k in range(n_up):
        block = f"synthesis.b{2 ** (k + 3)}"
        styled(f"{block}.conv0", f"convs.{2 * k}", f"noises.noise_{2 * k + 1}", blur=True)
        styled(f"{block}.conv1", f"convs.{2 * k + 1}", f"noises.noise_{2 * k + 2}", blur=False)
        to_rgb(f"{block}.torgb", f"to_rgbs.{k}")
        ours[f"{block}.resample_filter"] = filter_of(f"to_rgbs.{k}.upsample.kernel")

    resolution = 4 * 2 ** n_up
    channels = {4: ours["synthesis.b4.const"].shape[0]}
    channels.update({2 ** (k + 3): ours[f"synthesis.b{2 ** (k + 3)}.conv1.weight"].shape[0] for k in range(n_up)})
    channel_base, channel_max = _channel_rule(channels, where=where)
    w_dim, z_dim = ours["mapping.fc0.weight"].shape
    config = {
        "resolution": resolution,
        "z_dim": int(z_dim),
        "w_dim": int(w_dim),
        "mapping_layers": n_mlp,
        "mapping_lr_multiplier": 0.01,  # rosinality's lr_mlp default; its files do not record it
        "channel_base": channel_base,
        "channel_max": channel_max,
        "num_fp16_res": 0,
        "conv_clamp": None,
        "img_channels": int(ours["synthesis.b4.torgb.weight"].shape[0]),
    }
    return ours, config, used


# --- converters -------------------------------------------------------------------------------


def import_nvlabs_stylegan2(src: str | os.PathLike, out: str | os.PathLike, *, name: str | None = None,
                            which: str = "G_ema", meta: dict[str, Any] | None = None) -> Path:
    """Convert one generator of an NVlabs network pickle into a ``stylegan2`` checkpoint."""
    src = Path(src)
    state_dict, config, found_meta = _nvlabs_generator(src, which)
    return _save(src, out, state_dict, config, {**found_meta, "which": which}, name=name, meta=meta)


def import_rosinality(src: str | os.PathLike, out: str | os.PathLike, *, name: str | None = None,
                      which: str = "G_ema", meta: dict[str, Any] | None = None) -> Path:
    """Convert a rosinality/stylegan2-pytorch generator into a ``stylegan2`` checkpoint."""
    src = Path(src)
    state_dict, config, found_meta = _rosinality_generator(src, which)
    return _save(src, out, state_dict, config, {**found_meta, "which": which}, name=name, meta=meta)


def _save(src: Path, out: str | os.PathLike, state_dict: dict[str, torch.Tensor], config: dict[str, Any],
          found_meta: dict[str, Any], *, name: str | None, meta: dict[str, Any] | None) -> Path:
    # The family is imported here, not at the top: the importers table loads without it.
    from mlcore.checkpoint import save_model
    from mlcore.stylegan2 import networks
    from mlcore.stylegan2.config import StyleGAN2Config

    try:
        arch = StyleGAN2Config(**config)
    except ValueError as exc:
        raise ImporterError(f"{src}: unsupported generator: {exc}") from None
    weights = check_state_dict(state_dict, networks.build(arch).state_dict(), source=src,
                               needs="a generator Restyle's StyleGAN2 network can hold", network="the generator")
    full_meta = {"name": name or src.stem, **found_meta, "resolution": config["resolution"], **(meta or {})}
    if name:
        full_meta["name"] = name
    path = save_model(out, family="stylegan2", config=arch, state_dict=weights, meta=full_meta)
    log.info("imported %s (%dpx) from %s into %s", found_meta["source"], config["resolution"], src, path)
    return path
