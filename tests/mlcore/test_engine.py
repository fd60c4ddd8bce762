"""The training engine: resume ends bit-identical, stops are clean, the run folder tells all."""

from __future__ import annotations

import json

import pytest
import torch

from mlcore import engine
from mlcore.checkpoint import load_model
from mlcore.data import DatasetError
from mlcore.engine import RunFolderError, list_checkpoints, load_training_checkpoint, read_metrics, read_run
from state_checks import assert_identical, stop_after


def settings(config, inputs, **overrides):
    values = dict(family="fast_style", config=config, inputs=inputs, num_workers=0, log_every=1,
                  sample_every=2, checkpoint_every=4)
    values.update(overrides)
    return values


def final_state(run_dir):
    step, path = list_checkpoints(run_dir / "checkpoints")[-1]
    return step, load_training_checkpoint(path)


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory, tiny_train_config, train_inputs):
    """Six steps without a stop: the reference every resumed run must match."""
    run_dir = tmp_path_factory.mktemp("straight")
    result = engine.start(run_dir, **settings(tiny_train_config, train_inputs))
    return run_dir, result


def test_a_run_stopped_and_resumed_in_a_new_trainer_ends_bit_identical(
    straight_run, tmp_path, tiny_train_config, train_inputs
):
    straight_dir, straight = straight_run
    stopped = engine.start(tmp_path, should_stop=stop_after(3), **settings(tiny_train_config, train_inputs))
    assert (stopped.status, stopped.step) == ("stopped", 3)
    assert stopped.model_path is None and stopped.checkpoint_path.endswith("step_000003.pt")

    # A new Trainer from the folder alone, loading data with worker processes this time.
    resumed = engine.resume(tmp_path, num_workers=2)
    assert (resumed.status, resumed.step) == ("completed", 6) == (straight.status, straight.step)

    (step_a, a), (step_b, b) = final_state(straight_dir), final_state(tmp_path)
    assert step_a == step_b == 6
    assert_identical(a["task"], b["task"])  # weights and Adam state
    assert_identical(a["rng"], b["rng"])
    model_a, model_b = load_model(straight.model_path), load_model(resumed.model_path)
    assert_identical(model_a.state_dict, model_b.state_dict)
    losses = lambda run: [(m["step"], m["loss"], m["content"], m["style"], m["tv"]) for m in read_metrics(run)]
    assert losses(tmp_path) == losses(straight_dir)  # steps 4..6 included, one record per step


def test_a_run_resumed_with_its_dataset_at_another_path_ends_bit_identical_and_records_the_move(
    straight_run, tmp_path, tiny_train_config, train_inputs
):
    """Another host: the same files, unpacked elsewhere; run.json's recorded paths are gone."""
    import shutil

    host_a = tmp_path / "host-a"
    shutil.copytree(train_inputs["content"], host_a / "content")
    shutil.copy(train_inputs["style"], host_a / "style.jpg")
    run_dir = tmp_path / "run"
    inputs_a = {"style": host_a / "style.jpg", "content": host_a / "content"}
    engine.start(run_dir, should_stop=stop_after(3), **settings(tiny_train_config, inputs_a))
    host_b = tmp_path / "host-b"
    host_a.rename(host_b)

    with pytest.raises(DatasetError, match="not a folder"):  # where run.json says the dataset is
        engine.resume(run_dir)
    resumed = engine.resume(run_dir, inputs={"style": host_b / "style.jpg", "content": host_b / "content"})

    assert (resumed.status, resumed.step) == ("completed", 6)
    (_, a), (_, b) = final_state(straight_run[0]), final_state(run_dir)
    assert_identical(a["task"], b["task"])
    assert_identical(load_model(straight_run[1].model_path).state_dict, load_model(resumed.model_path).state_dict)
    assert read_run(run_dir)["inputs"] == {"style": str(host_b / "style.jpg"), "content": str(host_b / "content")}


def test_only_recorded_inputs_can_be_replaced(straight_run, tmp_path):
    run_dir, _ = straight_run
    with pytest.raises(ValueError, match=r"has no input styles to replace; it records content, style"):
        engine.Trainer.open(run_dir, inputs={"styles": tmp_path / "style.jpg"})
    with pytest.raises(ValueError, match=r"has no input vgg_weights to replace"):  # a family input never recorded
        engine.Trainer.open(run_dir, inputs={"vgg_weights": tmp_path / "vgg16.pth"})
    with pytest.raises(ValueError, match=r"content has none"):
        engine.Trainer.open(run_dir, inputs={"content": ""})
    assert read_run(run_dir)["inputs"]["content"] != ""  # nothing was written


def test_metrics_logged_after_the_last_checkpoint_are_redone_not_duplicated(
    straight_run, tmp_path, tiny_train_config, train_inputs
):
    engine.start(tmp_path, should_stop=stop_after(2), **settings(tiny_train_config, train_inputs))
    with open(tmp_path / "metrics.jsonl", "a") as handle:  # a dead worker got further, unsaved
        handle.write(json.dumps({"step": 3, "loss": -1.0}) + "\n" + '{"step": 4, "lo')
    engine.resume(tmp_path)
    assert [m["step"] for m in read_metrics(tmp_path)] == [1, 2, 3, 4, 5, 6]
    assert [m["loss"] for m in read_metrics(tmp_path)] == [m["loss"] for m in read_metrics(straight_run[0])]


def test_the_run_folder_describes_the_run(straight_run):
    run_dir, result = straight_run
    run = read_run(run_dir)
    assert run["status"] == "completed" and run["step"] == run["total_steps"] == 6
    assert (run["family"], run["device"], run["precision"], run["seed"]) == ("fast_style", "cpu", "fp32", 0)
    assert run["config"]["loss_network"] == "random" and run["model"] == "model.safetensors"
    assert run["labels"] == ["random VGG (test only, not a real style model)"]
    assert sorted(p.name for p in (run_dir / "samples").iterdir()) == [
        "latest.jpg", "step_000002.jpg", "step_000004.jpg", "step_000006.jpg"]
    assert [s for s, _ in list_checkpoints(run_dir / "checkpoints")] == [4, 6]  # keep_checkpoints=2
    records = read_metrics(run_dir)
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert {"time", "elapsed", "images_per_second", "epoch", "lr", "loss"} <= set(records[0])
    assert records[0]["lr"] == {"transformer": 1e-3}
    assert result.sample_path.endswith("step_000006.jpg")


def test_progress_reports_every_logged_step_then_the_outcome(tmp_path, tiny_train_config, train_inputs):
    seen = []
    engine.start(tmp_path, on_progress=seen.append,
                 **settings(tiny_train_config, train_inputs, steps=4, log_every=2, sample_every=3))
    assert [(p.step, p.status) for p in seen] == [
        (2, "running"), (3, "running"), (4, "running"), (4, "completed")]
    last = seen[-1]
    assert last.total_steps == 4 and last.images_per_second > 0 and last.eta_seconds == 0
    assert set(last.metrics) == {"loss", "content", "style", "tv"}
    assert last.sample_path.endswith("step_000004.jpg") and last.checkpoint_path.endswith("step_000004.pt")
    assert seen[1].sample_path.endswith("step_000003.jpg")
    assert last.labels == ("random VGG (test only, not a real style model)",)


def test_resuming_a_completed_run_does_nothing(straight_run):
    run_dir, result = straight_run
    before = (run_dir / "model.safetensors").stat().st_mtime_ns
    again = engine.resume(run_dir)
    assert (again.status, again.step, again.model_path) == ("completed", 6, result.model_path)
    assert (run_dir / "model.safetensors").stat().st_mtime_ns == before


def test_a_run_folder_is_not_started_twice(straight_run, tiny_train_config, train_inputs):
    with pytest.raises(RunFolderError, match="already holds a training run"):
        engine.start(straight_run[0], **settings(tiny_train_config, train_inputs))


def test_resume_needs_a_run_folder(tmp_path):
    with pytest.raises(RunFolderError, match="not a training run folder"):
        engine.resume(tmp_path)


def test_inputs_are_checked_against_the_family(tmp_path, tiny_train_config, train_inputs):
    with pytest.raises(ValueError, match="needs inputs style, content, vgg_weights; missing: content"):
        engine.start(tmp_path, **settings(tiny_train_config, {"style": train_inputs["style"]}))


def test_a_failing_run_says_why_in_run_json(tmp_path, tiny_train_config, train_inputs):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match="broken.jpg: cannot read image"):
        engine.start(tmp_path / "run", **settings(tiny_train_config, {**train_inputs, "content": str(photos)}))
    run = read_run(tmp_path / "run")
    assert run["status"] == "failed" and "broken.jpg" in run["error"]


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_reduced_precision_trains_and_checkpoints_its_scaler(tmp_path, tiny_train_config, train_inputs, precision):
    result = engine.start(tmp_path, precision=precision,
                          **settings(tiny_train_config, train_inputs, steps=2, sample_every=0))
    assert result.status == "completed" and read_run(tmp_path)["precision"] == precision
    state = load_training_checkpoint(result.checkpoint_path)
    assert ("scale" in state["precision"]) == (precision == "fp16")
    model = load_model(result.model_path)
    assert all(t.dtype == torch.float32 for t in model.state_dict.values())
