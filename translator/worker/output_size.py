"""The photo made the size its conversion asked for (translator.output_sizes), before a network
runs on it: the time a feed-forward network takes grows with the pixels, so a 12 MP photo at a
long side of 1024 converts about 15 times faster than in full."""
import logging

from PIL import Image

from ..output_sizes import fitted

log = logging.getLogger(__name__)


def fit_long_side(image, long_side):
    """`image` (upright: its EXIF orientation already applied) scaled down with Lanczos so its
    long side is at most `long_side` (None: as it is). Never scaled up; the image itself when it
    already fits. Colour and alpha are scaled apart, as mlcore.inference shrinks them, so a
    transparent photo keeps its transparency."""
    size = fitted(image.width, image.height, long_side)
    if size == image.size:
        return image
    from mlcore.images import split_alpha

    rgb, alpha = split_alpha(image)
    log.info("scaling the photo from %dx%d to %dx%d (long side %d)", *image.size, *size, long_side)
    rgb = rgb.resize(size, Image.Resampling.LANCZOS)
    if alpha is None:
        return rgb
    rgb.putalpha(alpha.resize(size, Image.Resampling.LANCZOS))
    return rgb
