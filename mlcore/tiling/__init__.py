"""Translating a photo of any size in bounded memory.

- ``mlcore.tiling.layers``: layers that run exactly on a rectangle of their input;
- ``mlcore.tiling.plan``: a network as a plan of whole maps and tiled chains, with instance
  norms that take the statistics of the whole map (exact: the tiles give the untiled result
  up to float rounding);
- ``mlcore.tiling.blend``: overlapping tiles with feathered blending, for networks whose
  receptive field is the whole input (Pix2Pix's U-Net), which no tiling makes exact;
- ``mlcore.tiling.memory``: how much memory a tiled translation needs.

A family offers tiling with ``tiler(net)`` in its ``inferer`` module (None when a network
cannot tile); ``mlcore.inference.Inferer.translate`` decides when to use it.
"""

from mlcore.tiling.tiler import Tiler

__all__ = ["Tiler"]
