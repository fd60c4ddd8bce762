"""Fixtures shared by every test folder: where the real data is, and real image files."""
import io
import os
import random
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
# Real images and weights (never copied into the repository); relative paths are from the repo.
DATA_DIR = REPO / os.environ.get("RESTYLE_DATA_DIR", REPO.parent / "shared" / "data")


@pytest.fixture(scope="session")
def data_dir():
    if not DATA_DIR.is_dir():
        pytest.skip(f"the shared data folder is not at {DATA_DIR} (set RESTYLE_DATA_DIR)")
    return DATA_DIR


@pytest.fixture
def make_image_bytes():
    """Real encoded images, made in memory: make_image_bytes("PNG", size=(40, 30))."""

    def make(fmt="JPEG", size=(64, 48), mode="RGB", color=(200, 120, 40), noise=False, **save_args):
        if noise:  # incompressible content, for files of a predictable size
            image = Image.frombytes(mode, size, random.Random(0).randbytes(size[0] * size[1] * len(mode)))
        else:
            image = Image.new(mode, size, color)
        buf = io.BytesIO()
        image.save(buf, fmt, **save_args)
        return buf.getvalue()

    return make
