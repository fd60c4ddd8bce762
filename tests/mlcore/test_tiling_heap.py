"""The cause of a tiled run's excess memory, and its cure: glibc keeps freed heap blocks in the
process (mlcore.tiling.heap). In a child process of its own, so that its heap is its own."""
import ctypes.util
import json
import subprocess
import sys
import textwrap

import pytest

MiB = 2**20

FREED_BANDS = textwrap.dedent("""
    import json, os, torch
    from mlcore.tiling.heap import release_free_memory
    page = os.sysconf("SC_PAGE_SIZE")
    def rss():
        return int(open("/proc/self/statm").read().split()[1]) * page
    # Freeing one large block raises glibc's mmap threshold to its size, as a tiled run's first
    # bands do; the next blocks below it come from the heap.
    big = torch.ones(6 * 2**20)  # 24 MiB
    del big
    start = rss()
    bands = [torch.ones(2**20) for _ in range(64)]  # 64 bands of 4 MiB, written, so resident
    keep = torch.ones(2**20)  # a later band still alive, above them in the heap
    del bands
    kept = rss()
    release_free_memory()
    print(json.dumps({"kept": kept - start, "after": rss() - start}))
""")


@pytest.mark.skipif(not ctypes.util.find_library("c") or sys.platform != "linux", reason="glibc's malloc only")
def test_freed_bands_stay_in_the_process_until_the_heap_is_trimmed():
    out = subprocess.run([sys.executable, "-c", FREED_BANDS], capture_output=True, text=True, check=True).stdout
    figures = json.loads(out.splitlines()[-1])
    assert figures["kept"] > 200 * MiB, figures  # 256 MiB freed, still resident
    assert figures["after"] < 40 * MiB, figures  # given back
