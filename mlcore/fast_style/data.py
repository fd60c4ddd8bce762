"""The dataset layout fast-style training reads, as one folder (the web admin's unit):

    style.jpg     the style image (.jpg, .jpeg, .png or .webp; any name if it is the only image
                  at the top of the folder)
    content/      the content photos, in any subfolders (e.g. COCO train2014)
"""

from __future__ import annotations

import os
from pathlib import Path

from mlcore.data import IMAGE_SUFFIXES, DatasetError, DatasetReport, find_images
from mlcore.fast_style import FAMILY

__all__ = ["LAYOUT", "inspect_dataset", "dataset_inputs"]

LAYOUT = FAMILY.training.dataset_layout


def _style_image(root: Path) -> tuple[Path | None, str | None]:
    """The style image and, when there is none to pick, the problem in words."""
    top = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                 and not p.name.startswith("."))
    named = [p for p in top if p.stem.lower() == "style"]
    if len(named) == 1:
        return named[0], None
    if len(top) == 1:
        return top[0], None
    if not top:
        return None, "There is no style image at the top of the dataset (put it there as style.jpg)."
    names = ", ".join(p.name for p in top[:5])
    return None, f"There are several images at the top of the dataset ({names}); name the style image style.jpg."


def inspect_dataset(root: str | os.PathLike) -> DatasetReport:
    """What is in a fast-style dataset folder, and every problem in words (never raises)."""
    root = Path(root)
    if not root.is_dir():
        return DatasetReport(LAYOUT, {}, problems=(f"{root} is not a folder.",))
    problems: list[str] = []
    style, problem = _style_image(root)
    if problem:
        problems.append(problem)
    content: list[Path] = []
    if not (root / "content").is_dir():
        problems.append("There is no content/ folder of photos.")
    else:
        try:
            content = find_images(root / "content")
        except DatasetError:
            problems.append("The content/ folder holds no photos (JPEG, PNG or WebP).")
    samples = ([style] if style else []) + content[:5]
    counts = {"style images": 1 if style else 0, "content photos": len(content)}
    return DatasetReport(LAYOUT, counts, samples=tuple(samples), problems=tuple(problems))


def dataset_inputs(root: str | os.PathLike) -> dict[str, str]:
    """The training run's inputs for a dataset folder that ``inspect_dataset`` found good."""
    root = Path(root)
    style, problem = _style_image(root)
    if problem:
        raise DatasetError(problem)
    return {"style": str(style), "content": str(root / "content")}
