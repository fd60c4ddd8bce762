"""Training in two processes (torchrun, gloo, CPU) with DistributedDataParallel.

What makes a 2-process run equal a 1-process run at the same global batch B: each rank trains
on its B/2 slice of the one-process sample stream, and DDP averages the ranks' gradients, which
for losses that are means over the batch is the gradient of the whole batch. That holds where
each image is normalised by its own statistics (instance norm: U-GAT-IT, fast style, pix2pix
with arch.norm=instance) and nothing random runs in the step (pix2pix's dropout draws other
numbers on two ranks). Batch norm, pix2pix's default, normalises over each rank's B/2 images
(torch's SyncBatchNorm would pool them, but runs on GPUs only), so there the runs differ by
design. What is left is float summation order (gloo's sum of two halves against one sum over
the batch): the trained generators' outputs agree to TOLERANCE and the logged losses to
LOSS_TOLERANCE (relative). The weights themselves are no measure: a convolution's bias before
an affine-free instance norm has a true gradient of 0, so its gradient is float noise, which
Adam turns into steps of up to lr; those biases differ by up to 6 x lr after 6 steps (1.0e-3
measured) and change no output.

The runs themselves are in ddp_runs.py, started once by torchrun (the processes cost seconds
each, the runs milliseconds).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mlcore import engine
from mlcore.checkpoint import load_model
from mlcore.data import SampleStream
from mlcore.engine import list_checkpoints, load_training_checkpoint, read_metrics, read_run
from mlcore.tools.make_pairs import make_pairs
from mlcore.registry import get_family
from state_checks import assert_identical, stop_after

import ddp_runs

HERE = Path(__file__).parent
# Largest difference of the exported generators' outputs (in -1..1) on fixed inputs between a
# 1- and a 2-process run after 6 steps: 5.9e-7 measured. Float32 summation order, not a
# different computation (see the module doc). The losses: 6e-8 relative measured.
TOLERANCE = 1e-5
LOSS_TOLERANCE = 1e-6
UGATIT_TOLERANCE = 1e-4


def final(run_dir: Path) -> dict:
    return load_training_checkpoint(list_checkpoints(run_dir / "checkpoints")[-1][1])


def output_difference(run_a: Path, run_b: Path) -> float:
    """Largest difference of the two runs' exported generators on the same random inputs."""
    inputs = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    outputs = []
    for run in (run_a, run_b):
        saved = load_model(run / "model.safetensors")
        generator = get_family(saved.family).build(saved.config).eval()
        generator.load_state_dict(saved.state_dict)
        with torch.no_grad():
            output = generator(inputs)
        outputs.append(output[0] if isinstance(output, tuple) else output)  # U-GAT-IT: (image, cam, heatmap)
    return (outputs[0] - outputs[1]).abs().max().item()


def assert_same_losses(run_a: Path, run_b: Path, names=("loss", "gan", "l1", "d"), rel=None) -> None:
    # The logged losses of a 2-process run are the mean of the ranks' (each over its half).
    for a, b in zip(read_metrics(run_a), read_metrics(run_b), strict=True):
        assert (a["step"], a["epoch"]) == (b["step"], b["epoch"])
        for name in names:
            assert a[name] == pytest.approx(b[name], rel=rel or LOSS_TOLERANCE), (a["step"], name)


@pytest.fixture(scope="module")
def pairs(photos: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pairs") / "edges"
    make_pairs(photos, folder, kind="edges2photo", count=5, size=36, seed=0)
    return folder


@pytest.fixture(scope="module")
def runs(pairs: Path, horse2zebra: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """OUT/runs after ddp_runs.py; one 1-process run stopped at step 3 is made first, for the
    two processes to resume."""
    out = tmp_path_factory.mktemp("ddp")
    engine.start(out / "runs" / "one_process_stopped", should_stop=stop_after(3),
                 **ddp_runs.settings(ddp_runs.INSTANCE, pairs))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parents[1])])}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         str(HERE / "ddp_runs.py"), str(out), str(pairs), str(horse2zebra)],
        env=env, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (out / "stdout.txt").write_text(done.stdout)
    return out / "runs"


@pytest.fixture(scope="module")
def reports(runs: Path) -> list[dict]:
    return [json.loads((runs.parent / "reports" / f"rank_{r}.json").read_text()) for r in (0, 1)]


@pytest.fixture(scope="module")
def one_process(pairs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The instance-norm run in one process at the same global batch (2)."""
    run_dir = tmp_path_factory.mktemp("one")
    engine.start(run_dir, **ddp_runs.settings(ddp_runs.INSTANCE, pairs))
    return run_dir


def test_each_rank_takes_a_disjoint_slice_of_the_one_process_stream():
    one = SampleStream(5, 4, seed=3, start=6)
    ranks = [SampleStream(5, 4, seed=3, start=6, rank=r, world_size=2) for r in (0, 1)]
    for _, whole, first, second in zip(range(4), one, *ranks):
        assert first + second == whole and len(first) == 2
    with pytest.raises(ValueError, match="does not split evenly over 2"):
        SampleStream(5, 3, seed=0, rank=0, world_size=2)


def test_two_processes_stopped_and_resumed_end_bit_identical_to_an_uninterrupted_pair(runs, reports):
    assert reports[0]["outcome"]["stopped"] == reports[1]["outcome"]["stopped"] == 3  # rank 1 stopped too
    straight, resumed = final(runs / "straight"), final(runs / "stopped")
    assert straight["step"] == resumed["step"] == 6
    assert_identical(straight["task"], resumed["task"])  # weights, batch norm statistics, Adam, schedulers
    assert_identical(straight["rng_by_rank"], resumed["rng_by_rank"])  # dropout noise of both ranks
    assert_identical(load_model(runs / "straight" / "model.safetensors").state_dict,
                     load_model(runs / "stopped" / "model.safetensors").state_dict)
    losses = lambda run: [(m["step"], m["loss"], m["d"]) for m in read_metrics(run)]  # noqa: E731
    assert losses(runs / "stopped") == losses(runs / "straight")


def test_two_processes_match_one_process_at_the_same_global_batch(runs, one_process):
    assert output_difference(runs / "instance", one_process) < TOLERANCE
    assert_same_losses(runs / "instance", one_process)


def test_with_batch_norm_two_processes_normalise_over_their_own_half_of_the_batch(runs, pairs, tmp_path):
    engine.start(tmp_path, **ddp_runs.settings(ddp_runs.TINY, pairs))
    # Not a tolerance: the default config's runs differ by design (batch statistics of each
    # rank's 1 image, not of 2; dropout noise drawn per rank): 1.5e-3 relative measured.
    differences = [abs(a[name] - b[name]) / abs(b[name])
                   for a, b in zip(read_metrics(runs / "straight"), read_metrics(tmp_path), strict=True)
                   for name in ("loss", "d")]
    assert max(differences) > 100 * LOSS_TOLERANCE


def test_a_two_process_checkpoint_resumes_in_one_process(runs, one_process):
    checkpoint = load_training_checkpoint(list_checkpoints(runs / "instance_stopped" / "checkpoints")[-1][1])
    assert (checkpoint["step"], checkpoint["samples_seen"], checkpoint["world_size"]) == (3, 6, 2)
    assert set(checkpoint["task"]["networks"]["generator"]) == set(final(one_process)["task"]["networks"]["generator"])

    result = engine.resume(runs / "instance_stopped")  # this test's process: one rank
    assert (result.status, result.step) == ("completed", 6)
    assert read_run(runs / "instance_stopped")["world_size"] == 1
    assert "world_size" not in final(runs / "instance_stopped")  # a one-process checkpoint again
    # The same data from step 4 on (the data position carried over), so the same run.
    assert output_difference(runs / "instance_stopped", one_process) < TOLERANCE
    assert_same_losses(runs / "instance_stopped", one_process)


def test_a_one_process_checkpoint_resumes_in_two(runs, reports, one_process):
    assert reports[0]["outcome"]["from_one_process"] == "completed"
    resumed = final(runs / "one_process_stopped")
    assert resumed["world_size"] == 2 and len(resumed["rng_by_rank"]) == 2
    assert output_difference(runs / "one_process_stopped", one_process) < TOLERANCE
    assert_same_losses(runs / "one_process_stopped", one_process)


def test_only_rank_0_writes_the_run_folder(runs, reports):
    written_by_0 = " ".join(reports[0]["writes"])
    for name in ("straight/run.json", "straight/metrics.jsonl", "straight/samples/step_000003.jpg",
                 "straight/checkpoints/step_000006.pt", "straight/model.safetensors", "cli/run.json"):
        assert name in written_by_0, name
    assert reports[1]["writes"] == []


def test_run_json_and_checkpoints_record_the_processes(runs):
    run = read_run(runs / "straight")
    assert (run["status"], run["world_size"], run["config"]["batch_size"]) == ("completed", 2, 2)
    assert load_model(runs / "straight" / "model.safetensors").meta["training"]["world_size"] == 2
    checkpoint = final(runs / "straight")
    assert torch.equal(checkpoint["rng"]["torch"], checkpoint["rng_by_rank"][0]["torch"])
    assert not torch.equal(checkpoint["rng_by_rank"][0]["torch"], checkpoint["rng_by_rank"][1]["torch"])


def test_the_command_line_trains_under_torchrun(runs, reports):
    assert reports[0]["outcome"]["cli"] == reports[1]["outcome"]["cli"] == 0
    run = read_run(runs / "cli")
    assert (run["status"], run["step"], run["world_size"]) == ("completed", 2, 2)
    printed = (runs.parent / "stdout.txt").read_text()
    assert printed.count(str(runs / "cli" / "model.safetensors")) == 1  # rank 0 alone prints


def test_a_batch_that_does_not_split_over_the_processes_is_refused(reports):
    assert "batch_size 3 does not split evenly over 2 training processes" in reports[0]["outcome"]["odd"]
    assert reports[1]["outcome"]["odd"] == reports[0]["outcome"]["odd"]


def test_u_gat_it_trains_its_six_networks_in_two_processes_as_in_one(runs, horse2zebra, tmp_path):
    engine.start(tmp_path, **ddp_runs.ugatit_settings(horse2zebra))
    # Looser than pix2pix's (outputs 1.6e-5, losses 1.3e-5 relative measured on these images):
    # two generators with a CAM loss weighted 1000 and Adam steps of up to lr on gradients that
    # are float noise make the summation order louder; still no different computation.
    assert output_difference(runs / "ugatit", tmp_path) < UGATIT_TOLERANCE
    assert_same_losses(runs / "ugatit", tmp_path, names=("loss", "d_loss", "cycle", "cam"), rel=UGATIT_TOLERANCE)
