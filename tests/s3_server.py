"""A real S3 endpoint for the tests: moto's server mode in a process of its own, on a free port.

It speaks S3's HTTP API like any S3-compatible store, so the site, the workers (other processes)
and the tests' own boto3 client all talk to it over the network, exactly as they would to MinIO
or AWS. Nothing here knows about pytest; tests/conftest.py starts one per test session (s3_server).
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

ACCESS_KEY_ID = "restyle-test-key"
SECRET_ACCESS_KEY = "restyle-test-secret"
REGION = "us-east-1"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoS3Server:
    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.port = _free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.bucket = f"restyle-test-{uuid.uuid4().hex[:8]}"
        self.process = None

    def start(self, timeout=60):
        log = open(self.workdir / "moto.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited:\n{(self.workdir / 'moto.log').read_text()[-3000:]}")
            try:
                self.client().list_buckets()
                break
            except Exception:  # not listening yet
                if time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not answer on {self.endpoint_url} in {timeout} s")
                time.sleep(0.2)
        self.client().create_bucket(Bucket=self.bucket)
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name=REGION, aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def env(self, prefix=""):
        """The RESTYLE_STORAGE_* variables that point a Restyle process at this store."""
        return {
            "RESTYLE_STORAGE": "s3",
            "RESTYLE_STORAGE_BUCKET": self.bucket,
            "RESTYLE_STORAGE_ENDPOINT_URL": self.endpoint_url,
            "RESTYLE_STORAGE_REGION": REGION,
            "RESTYLE_STORAGE_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "RESTYLE_STORAGE_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "RESTYLE_STORAGE_PREFIX": prefix,
        }

    def storages(self, base, prefix=""):
        """Django's STORAGES `base` with the default storage on this store (under `prefix`)."""
        from config.storage import default_storage

        return {**base, "default": default_storage(
            kind="s3", bucket=self.bucket, endpoint_url=self.endpoint_url, region=REGION,
            access_key_id=ACCESS_KEY_ID, secret_access_key=SECRET_ACCESS_KEY, prefix=prefix,
        )}

    def keys(self, prefix=""):
        """Every object key under `prefix` (without it), sorted."""
        paginator = self.client().get_paginator("list_objects_v2")
        keys = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{prefix}/" if prefix else ""):
            keys += [item["Key"] for item in page.get("Contents", ())]
        return sorted(k[len(prefix) + 1:] if prefix else k for k in keys)
