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


# --- S3-compatible storage ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """moto's S3 server, a real HTTP endpoint of this test session's own, with one bucket."""
    from tests.s3_server import MotoS3Server

    server = MotoS3Server(tmp_path_factory.mktemp("moto")).start()
    yield server
    server.stop()


class S3Store:
    """One test's corner of the bucket: the settings point there, `keys()` lists it."""

    def __init__(self, server, prefix):
        self.server, self.prefix = server, prefix

    def keys(self):
        return self.server.keys(self.prefix)

    def env(self):
        return self.server.env(self.prefix)

    def delete(self, name):
        self.server.client().delete_object(Bucket=self.server.bucket, Key=f"{self.prefix}/{name}")

    def acl(self, name):
        return self.server.client().get_object_acl(Bucket=self.server.bucket, Key=f"{self.prefix}/{name}")


@pytest.fixture
def s3_storage(settings, s3_server):
    """This test's files go to the S3 server, under a prefix of its own (so it counts only its own)."""
    import uuid

    prefix = f"t-{uuid.uuid4().hex[:10]}"
    settings.STORAGES = s3_server.storages(settings.STORAGES, prefix)
    return S3Store(s3_server, prefix)
