"""FID (Heusel et al. 2017) and KID (Binkowski et al. 2018) of a generator against real images.

    net = load_inception()                              # MetricUnavailable offline: no number
    result = compute_fid_kid(generate_fn, real_batches, count=10_000, feature_net=net)
    result.fid, result.kid

- ``frechet_distance``: ``|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))``. The trace of the
  matrix square root is the sum of the square roots of the eigenvalues of ``S1 S2``, which are
  those of the symmetric positive semi-definite ``R^T S2 R`` for any ``R R^T = S1``; so a
  symmetric eigenvalue solver suffices (no scipy, no complex parts to drop). ``R`` is S1's
  Cholesky factor when S1 is positive definite (more images than feature dimensions, the real
  case: fast), else its eigen-decomposition square root (exact for singular S1, slower).
- ``kernel_inception_distance``: the unbiased estimate of the squared MMD with the cubic
  polynomial kernel ``k(x, y) = (x.y / d + 1)^3``, averaged over random subsets of
  ``min(n_real, n_fake, max_subset_size)`` features of each side, as the KID paper and NVlabs'
  ``metrics/kernel_inception_distance.py`` define it. The subsets come from a private seeded
  generator, so the number is reproducible and the global RNG of a training run is untouched.
- ``compute_fid_kid`` streams: FID keeps running float64 sums (mean and second moment, as
  NVlabs' FeatureStats), KID a uniform reservoir of at most ``kid_max_features`` features per
  side, so memory does not grow with ``count``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import numpy as np
import torch

__all__ = ["FeatureMoments", "FidKidResult", "compute_fid_kid", "frechet_distance", "kernel_inception_distance"]

log = logging.getLogger(__name__)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """The Frechet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2)."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(f"mismatched statistics: mu {mu1.shape} / {mu2.shape}, sigma {sigma1.shape} / {sigma2.shape}")
    root1 = _factor(sigma1)
    middle = root1.T @ sigma2 @ root1
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt = float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())  # tiny negatives are round-off
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)


def _factor(matrix: np.ndarray) -> np.ndarray:
    """Some R with R R^T = matrix (symmetric positive semi-definite)."""
    symmetric = (matrix + matrix.T) / 2
    try:
        return np.linalg.cholesky(symmetric)
    except np.linalg.LinAlgError:  # singular: fewer samples than dimensions
        eigenvalues, vectors = np.linalg.eigh(symmetric)
        return vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))


def kernel_inception_distance(
    features1: np.ndarray | torch.Tensor, features2: np.ndarray | torch.Tensor, *,
    num_subsets: int = 100, max_subset_size: int = 1000, seed: int = 0,
) -> float:
    """KID between two feature sets (rows are samples); see the module docstring."""
    f1, f2 = _as_float64(features1), _as_float64(features2)
    if f1.ndim != 2 or f2.ndim != 2 or f1.shape[1] != f2.shape[1]:
        raise ValueError(f"expected two N x D feature arrays of one D; got {f1.shape} and {f2.shape}")
    m = min(len(f1), len(f2), max_subset_size)
    if m < 2:
        raise ValueError(f"KID needs at least 2 features on each side; got {len(f1)} and {len(f2)}")
    d = f1.shape[1]
    rng = np.random.default_rng(seed)
    total = 0.0
    for _ in range(num_subsets):
        x = f1[rng.choice(len(f1), m, replace=False)]
        y = f2[rng.choice(len(f2), m, replace=False)]
        k_xx = (x @ x.T / d + 1.0) ** 3
        k_yy = (y @ y.T / d + 1.0) ** 3
        k_xy = (x @ y.T / d + 1.0) ** 3
        # unbiased: the within-set sums leave out the diagonal k(x_i, x_i)
        within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        total += within - 2.0 * k_xy.sum() / (m * m)
    return float(total / num_subsets)


def _as_float64(features: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu().numpy()
    return np.asarray(features, np.float64)


class FeatureMoments:
    """Running mean and covariance of feature rows, plus a uniform reservoir of rows for KID."""

    def __init__(self, dim: int, *, reservoir_size: int, seed: int) -> None:
        self.dim = dim
        self.count = 0
        self._sum = np.zeros(dim, np.float64)
        self._outer = np.zeros((dim, dim), np.float64)
        self._reservoir = np.zeros((reservoir_size, dim), np.float32)
        self._rng = np.random.default_rng(seed)

    def add(self, features: torch.Tensor) -> None:
        rows = _as_float64(features)
        self._sum += rows.sum(axis=0)
        self._outer += rows.T @ rows
        for row in rows:  # Algorithm R: every row seen so far is kept with the same probability
            if self.count < len(self._reservoir):
                self._reservoir[self.count] = row
            else:
                slot = int(self._rng.integers(0, self.count + 1))
                if slot < len(self._reservoir):
                    self._reservoir[slot] = row
            self.count += 1

    def mean_and_cov(self) -> tuple[np.ndarray, np.ndarray]:
        if self.count < 2:
            raise ValueError(f"FID needs at least 2 images on each side; got {self.count}")
        mean = self._sum / self.count
        cov = (self._outer - self.count * np.outer(mean, mean)) / (self.count - 1)
        return mean, cov

    def kept(self) -> np.ndarray:
        return self._reservoir[: min(self.count, len(self._reservoir))]


@dataclass(frozen=True)
class FidKidResult:
    fid: float
    kid: float
    num_real: int  # images the real statistics came from
    num_fake: int  # generated images
    network: str  # the feature network's label (which weights)

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def compute_fid_kid(
    generate_fn: Callable[[int, int], torch.Tensor],
    real_images_iter: Iterable[torch.Tensor],
    count: int,
    feature_net: Callable[[torch.Tensor], torch.Tensor] | None = None,
    *,
    batch_size: int = 32,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    kid_max_features: int = 10_000,
    seed: int = 0,
) -> FidKidResult:
    """FID and KID of ``count`` generated images against up to ``count`` real ones.

    ``generate_fn(first, n)`` returns generated images ``first .. first + n - 1`` as N x 3 x H x W
    in [0, 1] (the index lets the caller derive fixed seeds, so the figure is reproducible).
    ``real_images_iter`` yields batches in the same convention; it is read until ``count`` real
    images (fewer, with a warning, if it ends first). ``feature_net`` maps images to feature rows;
    None loads the FID Inception, which raises ``MetricUnavailable`` offline: there is never a
    number from another network.
    """
    if count < 2:
        raise ValueError(f"count must be at least 2; got {count}")
    if feature_net is None:
        from mlcore.metrics.inception import load_inception

        feature_net = load_inception()
    label = getattr(feature_net, "label", type(feature_net).__name__)

    kept = min(count, kid_max_features)
    real: FeatureMoments | None = None
    for batch in real_images_iter:
        features = feature_net(batch[: count - (real.count if real is not None else 0)])
        if real is None:
            real = FeatureMoments(features.shape[1], reservoir_size=kept, seed=seed)
        real.add(features)
        if real.count >= count:
            break
    if real is None or real.count < 2:
        raise ValueError("FID/KID need at least 2 real images; the real images gave "
                         f"{0 if real is None else real.count}")
    if real.count < count:
        log.warning("FID/KID: only %d real images for %d generated ones", real.count, count)

    fake = FeatureMoments(real.dim, reservoir_size=kept, seed=seed + 1)
    while fake.count < count:
        n = min(batch_size, count - fake.count)
        images = generate_fn(fake.count, n)
        if images.shape[0] != n:
            raise ValueError(f"generate_fn({fake.count}, {n}) returned {images.shape[0]} images")
        fake.add(feature_net(images))

    fid = frechet_distance(*real.mean_and_cov(), *fake.mean_and_cov())
    kid = kernel_inception_distance(real.kept(), fake.kept(), num_subsets=kid_subsets,
                                    max_subset_size=kid_subset_size, seed=seed)
    log.info("FID %.4f, KID %.6f (%d real, %d generated, %s)", fid, kid, real.count, fake.count, label)
    return FidKidResult(fid=fid, kid=kid, num_real=real.count, num_fake=fake.count, network=label)
