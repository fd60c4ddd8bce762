"""``Inferer``: the one public way to run a trained model on a picture.

    from mlcore.images import open_image
    from mlcore.inference import Inferer

    inferer = Inferer.load("wave.safetensors")          # once per process
    result = inferer.translate(open_image(upload))     # PIL in, PIL out, same size

Callers should open files with ``mlcore.images.open_image``, which applies the EXIF
orientation. ``translate`` applies it too when handed an image that still carries an
orientation tag, so a phone photo never comes back rotated.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import torch
from PIL import Image, ImageOps
from torch import nn

from mlcore import images, runtime
from mlcore.checkpoint import load_model
from mlcore.memory import MemoryModel
from mlcore.registry import Family, get_family
from mlcore.tiling import Tiler
from mlcore.tiling.memory import fit_tiled

__all__ = ["Inferer", "MemoryBudgetError", "parse_dtype", "DTYPES"]

log = logging.getLogger(__name__)

DTYPES: dict[str, torch.dtype] = {
    "fp32": torch.float32,
    "bf16": torch.bfloat16,
    "fp16": torch.float16,
}


def parse_dtype(dtype: str | torch.dtype) -> torch.dtype:
    """``torch.float32`` etc. as they are, or one of the names in ``DTYPES``."""
    if isinstance(dtype, torch.dtype):
        return dtype
    try:
        return DTYPES[dtype]
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r} (choose from {', '.join(DTYPES)})") from None


class MemoryBudgetError(ValueError):
    """Even a small image would not fit in the memory a translation is given."""


# ONNX Runtime's peak over eager torch's estimate (``memory``), measured at 1024 x 1024 on one
# thread (peak RSS above the loaded session): Johnson 1116 / 933 MiB (1.20), Engstrom with its
# margin 1393 / 1000 (1.39), Pix2Pix unet_256 642 / 573 (1.12). A whole photo runs there only
# when this much of the estimate fits the budget; otherwise on eager torch, whose use it models.
ONNX_MEMORY_FACTOR = 1.5

# The smallest side a photo is shrunk to for its translation to fit in memory.
_MIN_FIT_SIDE = 64


class Inferer:
    """A network ready for inference (eval mode, no gradients) plus what it needs to run."""

    def __init__(
        self,
        net: nn.Module,
        *,
        family: Family | str,
        config: Any,
        meta: dict[str, Any] | None = None,
        device: str | torch.device = "cpu",
        dtype: str | torch.dtype = torch.float32,
        backend: str = "auto",
    ) -> None:
        """``backend``: "auto" (ONNX Runtime on CPU in fp32 when it imports and the network
        passes a parity probe, else eager torch), "torch" (always eager) or "onnxruntime"
        (``BackendUnavailable`` when it cannot be used); see mlcore.runtime."""
        self._family = get_family(family) if isinstance(family, str) else family
        self._config = config
        self._meta = dict(meta or {})
        self.device = torch.device(device)
        self.dtype = parse_dtype(dtype)
        self.net = net.to(device=self.device, dtype=self.dtype).eval().requires_grad_(False)
        self._memory: MemoryModel | None = None
        self._tiled_memory: dict[int, MemoryModel] = {}
        self._init_backend(backend)

    # --- backend (mlcore.runtime) ---------------------------------------------------------------

    def _init_backend(self, backend: str) -> None:
        if backend not in runtime.BACKENDS:
            raise ValueError(f"unknown backend {backend!r} (choose from {', '.join(runtime.BACKENDS)})")
        self._backend_choice = backend
        self._backend: str | None = "torch" if backend == "torch" else None
        self._onnx: runtime.OnnxTranslator | None = None
        # What "auto" has run (runtime.work_key): an export pays only for work that comes again.
        self._seen: set[tuple] = set()
        self.last_backend: str | None = None
        if backend == "torch":
            return
        refusal = self._onnx_refusal()
        if refusal is None:
            if backend == "onnxruntime":
                self._resolve_backend()  # now, so that a refusal comes from the constructor
        elif backend == "onnxruntime":
            raise runtime.BackendUnavailable(f"cannot run {self.family} on ONNX Runtime: {refusal}")
        else:
            log.info("%s runs on eager torch: %s", self.family, refusal)
            self._backend = "torch"

    def _onnx_refusal(self) -> str | None:
        if self.device.type != "cpu":
            return f"ONNX Runtime is used on the CPU only, not {self.device}"
        if self.dtype != torch.float32:
            return f"ONNX Runtime is used in fp32 only, not {self.dtype}"
        if self._family.generator or not self._family.checkpoint:
            return f"{self._family.label} does not convert photos with a network"
        return runtime.onnxruntime_available()

    def _resolve_backend(self) -> str:
        """Export the translate path at the probe shape and check parity (once)."""
        if self._backend is None:
            started = time.perf_counter()
            translator = runtime.OnnxTranslator(self._family, self.net)
            try:
                translator.check_parity()
            except runtime.BackendUnavailable as exc:
                if self._backend_choice == "onnxruntime":
                    raise
                log.warning("%s falls back to eager torch: %s", self.family, exc)
                self._backend = "torch"
            else:
                self._onnx, self._backend = translator, "onnxruntime"
                log.info("%s runs on ONNX Runtime (export, session and parity probe: %.2fs)",
                         self.family, time.perf_counter() - started)
        return self._backend

    @property
    def backend(self) -> str:
        """The backend this inferer runs pictures of ``MIN_AUTO_PIXELS`` and more on:
        "onnxruntime" or "torch" (asking may run the parity probe, once)."""
        return self._resolve_backend()

    def backend_for(self, height: int, width: int, batch: int = 1, *, repeat: bool = False) -> str:
        """The backend the next ``batch`` x ``height`` x ``width`` picture runs on. "auto" keeps
        pictures under ``MIN_AUTO_PIXELS`` on eager torch, and runs the first of its kind
        eager too: an export costs seconds, more than one picture gains, so it is paid only
        for work that comes again (the second photo of a model, where one graph serves every
        size; else the second of that shape, as the tiles of one photo are). ``repeat``: the
        caller knows the work repeats (a run again of a picture that ran on ONNX Runtime)."""
        if self._backend == "torch":
            return "torch"
        if self._backend_choice == "auto":
            if height * width < runtime.MIN_AUTO_PIXELS:
                return "torch"
            if not repeat and runtime.work_key(self.net, (batch, 3, height, width)) not in self._seen:
                return "torch"
        return self._resolve_backend()

    def _onnx_for(self, x01: torch.Tensor, *, repeat: bool = False) -> runtime.OnnxTranslator | None:
        if x01.device.type != "cpu":
            return None
        batch, _, height, width = x01.shape
        backend = self.backend_for(height, width, batch, repeat=repeat)
        self._seen.add(runtime.work_key(self.net, tuple(x01.shape)))
        return self._onnx if backend == "onnxruntime" else None

    @classmethod
    def load(
        cls,
        path: str | os.PathLike,
        *,
        device: str | torch.device = "cpu",
        dtype: str | torch.dtype = torch.float32,
        backend: str = "auto",
    ) -> Inferer:
        """Load a Restyle checkpoint (``CheckpointError`` if it is not one); ``backend`` as
        in the constructor."""
        checkpoint = load_model(path, device="cpu")
        family = get_family(checkpoint.family)
        net = family.build(checkpoint.config)
        net.load_state_dict(checkpoint.state_dict, strict=True)
        log.info(
            "loaded %s model %r from %s on %s/%s",
            family.name, checkpoint.meta.get("name", ""), path, device, dtype,
        )
        return cls(
            net,
            family=family,
            config=checkpoint.config,
            meta=checkpoint.meta,
            device=device,
            dtype=dtype,
            backend=backend,
        )

    @property
    def family(self) -> str:
        return self._family.name

    @property
    def config(self) -> Any:
        return self._config

    @property
    def meta(self) -> dict[str, Any]:
        return dict(self._meta)

    @property
    def memory(self) -> MemoryModel:
        """How many bytes translating an image of a given size needs (``memory.bytes_for(w, h)``,
        ``memory.max_pixels(budget)``), worked out once on the meta device."""
        if self._memory is None:
            self._memory = MemoryModel.fit(
                lambda: self._family.build(self._config), self._family.translate, self.dtype
            )
        return self._memory

    @property
    def tiler(self) -> Tiler | None:
        """How this network translates a photo in tiles, or None when it cannot (a network whose
        every output pixel reads the whole picture, such as U-GAT-IT's)."""
        return self._family.tiler(self.net)

    @property
    def can_tile(self) -> bool:
        return self.tiler is not None

    def tiled_memory(self, tile: int | None = None) -> MemoryModel:
        """Like ``memory``, for the tiled translation at tile side ``tile`` (the tiler's default)."""
        tiler = self._require_tiler()
        side = tile or tiler.default_tile
        if side not in self._tiled_memory:
            self._tiled_memory[side] = fit_tiled(
                lambda: self._family.build(self._config),
                lambda net, x: self._family.tiler(net).translate(x, side),
                tile=side, dtype=self.dtype,
            )
        return self._tiled_memory[side]

    def fit_size(self, width: int, height: int, max_bytes: float, *, tile: int | None = None) -> tuple[int, int]:
        """The largest size of ``width`` x ``height``'s shape whose translation needs at most
        ``max_bytes`` (the size itself when it fits); with ``tile``, of the tiled translation at
        that tile side. ``MemoryBudgetError`` when even a 64-pixel side would not fit."""
        memory = self.tiled_memory(tile) if tile else self.memory
        most = memory.max_pixels(max_bytes)
        if width * height <= most:
            return width, height
        scale = (most / (width * height)) ** 0.5
        fitted = (int(width * scale), int(height * scale))
        if min(fitted) < _MIN_FIT_SIDE:
            need = memory.bytes_for(*_at_least(width, height, _MIN_FIT_SIDE)) / 2**20
            raise MemoryBudgetError(
                f"{self.family} needs about {need:.0f} MiB for even a small image; "
                f"{max_bytes / 2**20:.0f} MiB is allowed"
            )
        return fitted

    def plan(self, width: int, height: int, *, max_bytes: float | None = None,
             tile: int | str | None = "auto") -> tuple[tuple[int, int], int | None]:
        """(the size a ``width`` x ``height`` photo is translated at, the tile side or None for
        untiled): what ``translate`` does with these arguments (see there)."""
        if tile not in (None, "auto") and not (isinstance(tile, int) and tile > 0):
            raise ValueError(f"tile must be None, 'auto' or a positive int; got {tile!r}")
        if tile is None or (tile == "auto" and (self.tiler is None or max_bytes is None)):
            size = self.fit_size(width, height, max_bytes) if max_bytes is not None else (width, height)
            return size, None
        tiler = self._require_tiler()
        side = tiler.default_tile if tile == "auto" else tile
        if tile == "auto" and self.memory.bytes_for(width, height) <= max_bytes:
            return (width, height), None  # fits whole: no tiling, and no tiling overhead
        if max_bytes is None:
            return (width, height), side
        if tile != "auto":
            return self.fit_size(width, height, max_bytes, tile=side), side
        # Tiles have a working set of their own: under a small budget, a photo shrunk to fit
        # whole can be larger than one shrunk to fit in tiles. The larger wins.
        whole = self.fit_size(width, height, max_bytes)
        try:
            tiled = self.fit_size(width, height, max_bytes, tile=side)
        except MemoryBudgetError:
            return whole, None
        return (tiled, side) if tiled[0] * tiled[1] > whole[0] * whole[1] else (whole, None)

    def _require_tiler(self) -> Tiler:
        tiler = self.tiler
        if tiler is None:
            raise ValueError(f"{self.family} networks cannot translate in tiles")
        return tiler

    def translate_tensor(self, x01: torch.Tensor, *, eager: bool = False, repeat: bool = False) -> torch.Tensor:
        """``N x 3 x H x W`` in [0, 1] -> same shape, float32 in [0, 1], on the input's device
        (``eager``: on eager torch whatever the backend, as ``translate`` does where ONNX
        Runtime's memory would not fit the budget; ``repeat``: as ``backend_for``'s).
        ``last_backend`` says which ran."""
        onnx = None if eager else self._onnx_for(x01, repeat=repeat)
        if onnx is not None:
            try:
                y = onnx.translate(x01)
                self.last_backend = "onnxruntime"
                return y
            except Exception as exc:  # an export or runtime fault at this shape: eager still works
                if self._backend_choice == "onnxruntime":
                    raise runtime.BackendUnavailable(f"ONNX Runtime failed on {tuple(x01.shape)}: {exc}") from exc
                log.warning("%s: ONNX Runtime failed on %s, running eager torch: %s",
                            self.family, tuple(x01.shape), exc)
        self.last_backend = "torch"
        with torch.inference_mode():
            x = x01.to(device=self.device, dtype=self.dtype)
            y = self._family.translate(self.net, x)
            return y.to(device=x01.device, dtype=torch.float32)

    def translate(self, img: Image.Image, *, max_bytes: float | None = None,
                  tile: int | str | None = "auto", backend: str | None = None) -> Image.Image:
        """Translate a PIL image of any size and mode.

        Returns an image of the input's size: RGB, or RGBA carrying the input's alpha when the
        input had transparency (alpha band, palette alpha or a transparent colour).

        ``max_bytes`` bounds the memory the translation adds. With ``tile="auto"`` (the
        default), a photo whose whole translation would need more is translated in tiles when
        the family can (``tiler``; exact for fast style, blended for Pix2Pix), at its own size;
        a family that cannot tile, or a photo too large even in tiles, is shrunk first to the
        largest size that fits (``fit_size``), and the result has that size. ``tile=None``
        never tiles; an int forces tiles of that side (tests use small ones).

        ``backend`` asks for the backend a run again's original ran on, so that its pixels
        come out the same: "torch" (eager), "onnxruntime" (ONNX Runtime at once, where the
        inferer would run the first picture of a shape eager; still eager where ONNX Runtime
        is refused or would not fit the budget) or None (the inferer's choice). Tiles always
        run eager. ``last_backend`` says which ran.
        """
        if backend not in (None, "torch", "onnxruntime"):
            raise ValueError(f"unknown backend {backend!r} (choose from torch, onnxruntime)")
        if images.exif_orientation(img) != 1:
            img = ImageOps.exif_transpose(img)
        rgb, alpha = images.split_alpha(img)
        size, side = self.plan(rgb.width, rgb.height, max_bytes=max_bytes, tile=tile)
        if size != rgb.size:
            log.info("shrinking %dx%d to %dx%d to fit %.0f MiB", *rgb.size, *size, max_bytes / 2**20)
            rgb = rgb.resize(size, Image.Resampling.LANCZOS)
            alpha = alpha.resize(size, Image.Resampling.LANCZOS) if alpha is not None else None
        started = time.perf_counter()
        if side is None:
            repeat = backend == "onnxruntime"
            eager = backend == "torch" or (
                max_bytes is not None and not self._onnx_fits(rgb.width, rgb.height, max_bytes, repeat=repeat))
            x01 = images.pil_to_tensor(rgb)
            result = images.tensor_to_pil(self.translate_tensor(x01, eager=eager, repeat=repeat))
        else:
            result = images.tensor_to_pil(self._translate_tiled(images.pil_to_tensor(rgb), side))
        log.debug(
            "translated %dx%d image with %s in %.2fs%s",
            rgb.width, rgb.height, self.family, time.perf_counter() - started,
            f" in tiles of {side}" if side else "",
        )
        if alpha is not None:
            result.putalpha(alpha)
        return result

    def _onnx_fits(self, width: int, height: int, max_bytes: float, *, repeat: bool = False) -> bool:
        """Whether a whole translation on ONNX Runtime, where it would run there, fits in
        ``max_bytes``: its peak is up to ``ONNX_MEMORY_FACTOR`` times eager torch's, which is
        what ``memory`` models."""
        if self.backend_for(height, width, repeat=repeat) != "onnxruntime":
            return True
        return self.memory.bytes_for(width, height) * ONNX_MEMORY_FACTOR <= max_bytes

    def _translate_tiled(self, x01: torch.Tensor, tile: int) -> torch.Tensor:
        """``translate_tensor`` done by the family's tiler, eager torch."""
        tiler = self._require_tiler()
        self.last_backend = "torch"
        with torch.inference_mode():
            y = tiler.translate(x01.to(device=self.device, dtype=self.dtype), tile)
            return y.to(device=x01.device, dtype=torch.float32)

    @property
    def has_attention(self) -> bool:
        """Whether this family can show where it looks (``attention``)."""
        return self._family.attention is not None

    def attention(self, img: Image.Image) -> Image.Image:
        """The network's attention heat map for ``img`` as an RGB image of ``img``'s size
        (families with an attention hook only, e.g. U-GAT-IT; others raise ``ValueError``)."""
        if self._family.attention is None:
            raise ValueError(f"{self.family} models have no attention map")
        if images.exif_orientation(img) != 1:
            img = ImageOps.exif_transpose(img)
        rgb, _ = images.split_alpha(img)
        with torch.inference_mode():
            x = images.pil_to_tensor(rgb).to(device=self.device, dtype=self.dtype)
            return images.tensor_to_pil(self._family.attention(self.net, x))


def _at_least(width: int, height: int, side: int) -> tuple[int, int]:
    scale = side / min(width, height)
    return max(side, round(width * scale)), max(side, round(height * scale))
