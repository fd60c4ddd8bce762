"""StyleGAN2 has no photo-to-picture hook: it makes images from seeds and latents.

The registry's ``translate`` hook is what the Convert flow runs on an uploaded photo; a
generator family cannot take one, so the hook refuses clearly instead of returning something
unrelated to the photo. Generating and mixing live in ``mlcore.stylegan2.generate``; putting a
photo into the model (projection) in ``mlcore.stylegan2.project``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["translate"]


def translate(net: Any, x01: Any) -> Any:
    """Always a ``ValueError``: StyleGAN2 does not translate photos."""
    raise ValueError("StyleGAN2 makes images from seeds; it does not translate photos: "
                     "use mlcore.stylegan2.generate, or mlcore.stylegan2.project to put a photo into the model")
