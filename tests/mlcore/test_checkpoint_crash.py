"""A process killed while writing a training checkpoint never costs the previous good one."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import torch

from mlcore.engine import list_checkpoints, load_training_checkpoint
from mlcore.engine.checkpoints import checkpoint_path, latest_training_checkpoint, save_training_checkpoint
from mlcore.fileio import remove_stale_temp_files

REPO_ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent("""
    import os, sys, time, torch
    from mlcore.engine.checkpoints import checkpoint_path, save_training_checkpoint
    folder, mode = sys.argv[1], sys.argv[2]
    weights = {"w": torch.randn(4_000_000)}  # 16 MB: a write takes a while
    save_training_checkpoint(checkpoint_path(folder, 1), {"step": 1, "task": weights})
    if mode == "hang-before-rename":
        def hang(fd):  # the new bytes are written, not yet durable or renamed
            print("writing", flush=True)
            time.sleep(60)
        os.fsync = hang
        save_training_checkpoint(checkpoint_path(folder, 2), {"step": 2, "task": weights})
    else:  # write checkpoints back to back until killed
        print("writing", flush=True)
        step = 2
        while True:
            save_training_checkpoint(checkpoint_path(folder, step), {"step": step, "task": weights})
            if step > 2:  # keep two, as the trainer does: the older goes once the newer is in place
                os.remove(checkpoint_path(folder, step - 2))
            step += 1
""")


def start_writer(folder: Path, mode: str) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(folder), mode], cwd=REPO_ROOT,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "writing"
    return process


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def test_killed_before_the_rename_the_previous_checkpoint_stays_and_loads(tmp_path):
    process = start_writer(tmp_path, "hang-before-rename")
    kill(process)
    leftovers = [p.name for p in tmp_path.iterdir()]
    assert any(name.endswith(".tmp") for name in leftovers)  # the half-done write is there...
    assert [step for step, _ in list_checkpoints(tmp_path)] == [1]  # ...and is not a checkpoint
    path, state = latest_training_checkpoint(tmp_path)
    assert state["step"] == 1 and state["task"]["w"].numel() == 4_000_000
    remove_stale_temp_files(tmp_path)  # what a resuming trainer does first
    assert [p.name for p in tmp_path.iterdir()] == ["step_000001.pt"]


def test_killed_at_random_moments_every_checkpoint_on_disk_loads(tmp_path):
    rng = random.Random()
    for attempt in range(3):
        folder = tmp_path / str(attempt)
        process = start_writer(folder, "loop")
        time.sleep(rng.uniform(0.05, 0.5))
        kill(process)
        found = list_checkpoints(folder)
        assert found  # two, or three if killed between a write and the removal
        for step, path in found:
            assert load_training_checkpoint(path)["step"] == step


def test_a_corrupt_newest_checkpoint_falls_back_to_the_one_before(tmp_path):
    save_training_checkpoint(checkpoint_path(tmp_path, 1), {"step": 1, "task": {"w": torch.ones(3)}})
    checkpoint_path(tmp_path, 2).write_bytes(b"PK\x03\x04 truncated by a full disk")
    path, state = latest_training_checkpoint(tmp_path)
    assert path.name == "step_000001.pt" and state["step"] == 1
