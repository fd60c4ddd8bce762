"""Reading files from the object store without fetching them whole first.

django-storages' S3 backend opens an object for reading as an S3File, which downloads all of it
into a SpooledTemporaryFile (memory up to `max_memory_size`, then a temporary file on disk)
before the first byte can be read (storages/backends/s3.py, `S3File._get_file`). That is
fine for a worker fetching a photo or a checkpoint, but it would make a file view hold a whole
file before it answers, and the admin's live page fetch a whole training log to show its end.
Here, with the S3 storage, a file is opened as the body of one GET (a botocore StreamingBody,
read as it arrives from the store) and a file's end is one ranged GET; any other storage (the
local folder) is read as before, through Django's storage API.

One module for it, in the app rather than config/storage.py (which only turns settings into
the STORAGES entry): the files' views and the run files read through it, and nothing else
needs to know which backend holds the files.
"""


def is_object_store(storage):
    """Whether `storage` is the S3 backend (the default storage is a lazy object: isinstance
    sees through it)."""
    from storages.backends.s3 import S3Storage  # boto3 loads only where the store is used

    return isinstance(storage, S3Storage)


def open_stream(field):
    """(a file-like object to read `field`'s file from, its size in bytes or None when the
    reader knows it anyway). From the object store, the body of a GET, read as it arrives;
    otherwise the FieldFile opened as Django opens it. FileNotFoundError when the file is gone."""
    if not is_object_store(field.storage):
        return field.open("rb"), None
    answer = _get(field.storage, field.name)
    return answer["Body"], answer["ContentLength"]


def read_tail(storage, name, size):
    """At most the last `size` bytes of the object `name` in the S3 `storage`, asked of the store
    with a suffix range (`Range: bytes=-size`), so no more than that crosses the network.
    FileNotFoundError when it is not there."""
    from botocore.exceptions import ClientError

    try:
        answer = _get(storage, name, Range=f"bytes=-{int(size)}")
    except ClientError as err:
        # A suffix range of an empty object cannot be satisfied (RFC 9110 14.1.1): its end is nothing.
        if err.response.get("Error", {}).get("Code") == "InvalidRange":
            return b""
        raise
    with answer["Body"] as body:
        return body.read()


def _get(storage, name, **extra):
    """The S3 GetObject answer for the storage's file `name` (the key is made as the backend
    makes it: under the storage's location); FileNotFoundError for a missing object."""
    from botocore.exceptions import ClientError
    from storages.utils import clean_name, safe_join

    key = safe_join(storage.location, clean_name(name))
    # No object parameters are passed: config/storage.py sets none (no customer-side encryption
    # key, no requester-pays), so a GET needs nothing but the key.
    try:
        return storage.bucket.Object(key).get(**extra)
    except ClientError as err:
        if err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
            raise FileNotFoundError(f"File does not exist: {key}") from err
        raise
