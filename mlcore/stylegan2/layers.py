"""Which of a StyleGAN2 generator's ws drive which resolution, and the coarse, middle and fine
style ranges, worked out from the resolution or the ws count alone. Imports no torch, so the
web site can tell which ranges a model has from its recorded resolution.

The synthesis network hands block b4 ws 0 (its conv1) and 1 (its ToRGB); every later block
b{R} takes three from where the previous one stopped, its conv0, its conv1 and its ToRGB, and
its conv0 shares its w with the previous block's ToRGB. So a model of resolution R has
``2 log2(R) - 2`` ws, and ws i modulates the convolution at ``2 ** (2 + (i + 1) // 2)`` px (the
last one only the final ToRGB, at R). The ranges follow the StyleGAN paper's split: coarse
4-8 px (pose, shape), middle 16-32 px (features), fine 64 px and up (colour, texture). A 32 px
model therefore has no fine layers: its "fine" range is empty.
"""

LAYER_RANGE_NAMES = ("coarse", "middle", "fine")


def num_ws_for_resolution(resolution: int) -> int:
    """The ws count of a generator of ``resolution`` px (a power of two, at least 4)."""
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 4 or resolution & (resolution - 1):
        raise ValueError(f"a StyleGAN2 resolution is a power of two of at least 4; got {resolution!r}")
    return 2 * (resolution.bit_length() - 1) - 2


def check_num_ws(num_ws: int) -> int:
    # num_ws = 2 log2(R) - 2 for R = 4, 8, 16...: even and at least 2.
    if isinstance(num_ws, bool) or not isinstance(num_ws, int) or num_ws < 2 or num_ws % 2:
        raise ValueError(f"a StyleGAN2 generator takes an even number of ws (2 log2(resolution) - 2); got {num_ws!r}")
    return num_ws


def ws_resolutions(num_ws: int) -> list[int]:
    """For each ws index, the resolution in pixels of the convolution it modulates (the last
    one: the output resolution, where it drives only the final ToRGB)."""
    num_ws = check_num_ws(num_ws)
    resolution = 2 ** ((num_ws + 2) // 2)
    return [min(2 ** (2 + (i + 1) // 2), resolution) for i in range(num_ws)]


def layer_ranges(num_ws: int) -> dict[str, tuple[int, int]]:
    """{"coarse": (0, a), "middle": (a, b), "fine": (b, num_ws)}: ws ranges (start, stop) of the
    4-8 px, 16-32 px and 64 px-and-up layers; together they cover every ws once."""
    resolutions = ws_resolutions(num_ws)
    a = sum(1 for r in resolutions if r <= 8)
    b = sum(1 for r in resolutions if r <= 32)
    return {"coarse": (0, a), "middle": (a, b), "fine": (b, len(resolutions))}


def ranges_for_resolution(resolution: int) -> dict[str, tuple[int, int]]:
    """``layer_ranges`` of a generator of ``resolution`` px."""
    return layer_ranges(num_ws_for_resolution(resolution))


def empty_ranges(resolution: int) -> list[str]:
    """The range names that hold no ws at ``resolution`` (e.g. ["fine"] at 32 px)."""
    return [name for name, (start, stop) in ranges_for_resolution(resolution).items() if start == stop]
