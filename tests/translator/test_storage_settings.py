"""The storage setting: the local folder by default, an S3-compatible store on request, and a
start-up that stops, naming the variable, when the store is not fully described. Start-up cases
are fresh `manage.py` processes with only the given RESTYLE_* variables."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.storage import default_storage

REPO = Path(__file__).resolve().parents[2]

S3 = {
    "RESTYLE_STORAGE": "s3",
    "RESTYLE_STORAGE_BUCKET": "restyle-files",
    "RESTYLE_STORAGE_ACCESS_KEY_ID": "key-id",
    "RESTYLE_STORAGE_SECRET_ACCESS_KEY": "secret",
    "RESTYLE_STORAGE_ENDPOINT_URL": "http://127.0.0.1:9000",
    "RESTYLE_STORAGE_REGION": "eu-west-1",
    "RESTYLE_STORAGE_PREFIX": "/site-a/",
}


def start(tmp_path, **variables):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RESTYLE_", "DJANGO_"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", RESTYLE_VAR_DIR=str(tmp_path / "var"), **variables)
    code = ("import json, django; django.setup(); from django.conf import settings as s; "
            "print(json.dumps(s.STORAGES['default']))")
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_files_live_in_the_media_folder_by_default(tmp_path):
    done = start(tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_s3_storage_is_private_and_keeps_every_name(tmp_path):
    done = start(tmp_path, **S3)
    assert done.returncode == 0, done.stderr
    storage = json.loads(done.stdout.strip().splitlines()[-1])
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert {k: options[k] for k in ("bucket_name", "endpoint_url", "region_name", "access_key", "secret_key",
                                    "location", "addressing_style")} == {
        "bucket_name": "restyle-files", "endpoint_url": "http://127.0.0.1:9000", "region_name": "eu-west-1",
        "access_key": "key-id", "secret_key": "secret", "location": "site-a", "addressing_style": "path",
    }
    # No ACL is ever sent (no public-read), URLs are signed, an existing name is never overwritten.
    assert options["default_acl"] is None and options["querystring_auth"] is True
    assert options["querystring_expire"] <= 600 and options["file_overwrite"] is False


@pytest.mark.parametrize("missing", ["RESTYLE_STORAGE_BUCKET", "RESTYLE_STORAGE_ACCESS_KEY_ID",
                                     "RESTYLE_STORAGE_SECRET_ACCESS_KEY"])
def test_s3_without_its_bucket_or_credentials_stops_start_up_naming_the_variable(tmp_path, missing):
    done = start(tmp_path, **{**S3, missing: ""})
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and missing in done.stderr.splitlines()[-1]


def test_an_unknown_storage_or_a_bad_endpoint_is_refused_in_words():
    with pytest.raises(ImproperlyConfigured, match="RESTYLE_STORAGE must be one of local, s3, not 'ftp'"):
        default_storage(kind="ftp")
    with pytest.raises(ImproperlyConfigured, match="RESTYLE_STORAGE_ENDPOINT_URL must be an http"):
        default_storage(kind="s3", bucket="b", access_key_id="k", secret_access_key="s", endpoint_url="minio:9000")
    with pytest.raises(ImproperlyConfigured, match="RESTYLE_STORAGE_ADDRESSING_STYLE"):
        default_storage(kind="s3", bucket="b", access_key_id="k", secret_access_key="s", addressing_style="dns")


def test_without_an_endpoint_the_client_chooses_how_to_address_aws():
    options = default_storage(kind="s3", bucket="b", access_key_id="k", secret_access_key="s")["OPTIONS"]
    assert (options["endpoint_url"], options["addressing_style"], options["location"]) == (None, "auto", "")
