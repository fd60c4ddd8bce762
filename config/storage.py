"""Where uploaded and generated files live: the `default` entry of Django's STORAGES.

"local" (the embedded default) is a folder on this machine, MEDIA_ROOT: enough when the web
process and the workers share one disk. "s3" is any S3-compatible object store (AWS S3, MinIO,
Ceph, moto in the tests) through django-storages, which is what lets a worker on another
machine read the photo it converts and write the result the web host serves.

Objects are never public: no ACL is sent with an upload (the bucket's private default holds),
and every file reaches its owner through an owner-checked view that streams it from the store
(translator/files.py), so no page or API answer ever holds a bucket URL.
"""
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

KINDS = ("local", "s3")


def default_storage(*, kind, bucket=None, endpoint_url=None, region=None, access_key_id=None,
                    secret_access_key=None, prefix=None, addressing_style=None):
    """The STORAGES["default"] entry for `kind`; ImproperlyConfigured names the variable that is
    missing or wrong."""
    kind = (kind or "local").strip().lower()
    if kind not in KINDS:
        raise ImproperlyConfigured(f"RESTYLE_STORAGE must be one of {', '.join(KINDS)}, not {kind!r}")
    if kind == "local":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    required = {
        "RESTYLE_STORAGE_BUCKET": bucket,
        "RESTYLE_STORAGE_ACCESS_KEY_ID": access_key_id,
        "RESTYLE_STORAGE_SECRET_ACCESS_KEY": secret_access_key,
    }
    missing = [name for name, value in required.items() if not (value or "").strip()]
    if missing:
        raise ImproperlyConfigured(f"RESTYLE_STORAGE=s3 needs {' and '.join(missing)}")
    if endpoint_url:
        parts = urlsplit(endpoint_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ImproperlyConfigured(
                f"RESTYLE_STORAGE_ENDPOINT_URL must be an http(s) URL with a host, not {endpoint_url!r}"
            )
    # Self-hosted stores (MinIO, Ceph, moto) answer on one host name: the bucket goes in the path.
    addressing_style = addressing_style or ("path" if endpoint_url else "auto")
    if addressing_style not in ("auto", "path", "virtual"):
        raise ImproperlyConfigured(
            f"RESTYLE_STORAGE_ADDRESSING_STYLE must be auto, path or virtual, not {addressing_style!r}"
        )
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket.strip(),
            "endpoint_url": endpoint_url or None,
            "region_name": region or None,
            "access_key": access_key_id,
            "secret_key": secret_access_key,
            "location": (prefix or "").strip("/"),
            "addressing_style": addressing_style,
            "signature_version": "s3v4",
            # Private objects: no ACL sent (so no public-read), and any URL the library makes is
            # signed and short-lived. The views stream files; these URLs are a second fence.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 300,
            # Like the local folder: a name in use is never overwritten, the new file gets another.
            "file_overwrite": False,
            # A file opened from the store (a worker's photo, a checkpoint) is fetched whole into
            # memory up to this size, then into a temporary file. The file views and the live
            # page's log do not open files this way: translator/storage_reads.py streams them.
            "max_memory_size": 8 * 1024 * 1024,
        },
    }
