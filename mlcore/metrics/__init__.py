"""Perceptual measures for generative models: FID and KID on the FID Inception, LPIPS-VGG16.

Every network here needs published weights. Each is found from a local file (an argument or a
``RESTYLE_..._WEIGHTS`` variable), torch hub's cache or a download; when none works the loader
raises ``MetricUnavailable`` with a message naming the file, its URL and the variable, and no
number is produced from anything else. Projection has a clearly labelled non-perceptual fallback.
"""

from mlcore.metrics.fid import (
    FidKidResult,
    compute_fid_kid,
    frechet_distance,
    kernel_inception_distance,
)
from mlcore.metrics.inception import (
    INCEPTION_WEIGHTS,
    InceptionFeatures,
    inception_weights_on_disk,
    load_inception,
)
from mlcore.metrics.lpips import (
    FALLBACK_LABEL,
    LPIPS,
    LPIPS_WEIGHTS,
    FallbackDistance,
    load_lpips,
    projection_distance,
)
from mlcore.metrics.weights_files import MetricUnavailable

__all__ = [
    "FALLBACK_LABEL", "INCEPTION_WEIGHTS", "LPIPS", "LPIPS_WEIGHTS", "FallbackDistance", "FidKidResult",
    "InceptionFeatures", "MetricUnavailable", "compute_fid_kid", "frechet_distance", "inception_weights_on_disk",
    "kernel_inception_distance", "load_inception", "load_lpips", "projection_distance",
]
