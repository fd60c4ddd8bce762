"""The Django admin: catalogue and versions, users' jobs, datasets and training runs."""
from . import catalogue, datasets, jobs, shares, training, webhooks  # noqa: F401  (each registers its admins)
