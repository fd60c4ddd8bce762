"""Peak memory of a zip download, streamed (translator.zips) against the baseline of building it
in memory with zipfile: `python -m tests.translator.organise.zip_memory [--files 8] [--mib 1]`."""
import argparse
import io
import os
import tempfile
import tracemalloc
import zipfile


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--mib", type=float, default=1.0)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    import django

    django.setup()
    from django.core.files.storage import FileSystemStorage

    from translator import zips

    storage = FileSystemStorage(location=tempfile.mkdtemp())

    class Stored:  # what open_stream needs of a FieldFile
        def __init__(self, name):
            self.name, self.storage = name, storage

        def open(self, mode="rb"):
            return storage.open(self.name, mode)

    entries = [(f"r{i}.jpg", Stored(storage.save(f"r{i}.jpg", io.BytesIO(os.urandom(int(args.mib * 2**20))))))
               for i in range(args.files)]
    list(zips.stream(entries[:1]))  # imports and first-use caches are not counted
    tracemalloc.start()
    size = sum(len(chunk) for chunk in zips.stream(entries))
    streamed = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    tracemalloc.start()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, stored in entries:
            with stored.open() as handle:
                archive.writestr(name, handle.read())
    built = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"zip of {args.files} x {args.mib} MiB random files, {size / 2**20:.2f} MiB: peak traced memory "
          f"streamed {streamed / 2**10:.0f} KiB, built in memory (baseline) {built / 2**10:.0f} KiB, "
          f"ratio {built / streamed:.0f}x")


if __name__ == "__main__":
    main()
