"""Fixtures for the mlcore tests: real files from the shared data folder (``data_dir``, in
tests/conftest.py) and an ml5.js checkpoint imported once."""

from __future__ import annotations

from pathlib import Path

import pytest


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data not found: {path} (set RESTYLE_DATA_DIR to the data folder)")
    return path


@pytest.fixture(scope="session")
def wave_dir(data_dir: Path) -> Path:
    """The ml5.js 'wave' style folder (manifest.json + Variable_N files)."""
    return _require(data_dir / "pretrained" / "fast-style-ml5" / "wave")


@pytest.fixture(scope="session")
def chelsea_path(data_dir: Path) -> Path:
    """scikit-image's chelsea.png: 451 x 300 RGB, odd width."""
    return _require(data_dir / "images" / "content" / "chelsea.png")


@pytest.fixture(scope="session")
def wave_checkpoint(wave_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wave style imported once per test session into a Restyle checkpoint."""
    from mlcore.importers import import_ml5

    return import_ml5(wave_dir, tmp_path_factory.mktemp("ckpt") / "wave.safetensors")
