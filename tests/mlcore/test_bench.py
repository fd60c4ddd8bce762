"""``python -m mlcore.bench``: every case runs end to end at the smallest settings, printing the
machine, the inputs and a table with the baseline, the measured figures and their ratio, and
every figure as JSON; a training case's baseline steps the engine's own task on the engine's own
first batch."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mlcore.bench.__main__ import CASE_MODULES, main
from mlcore.bench.harness import (
    Column,
    MeasurementFailed,
    MiB,
    Report,
    Table,
    machine,
    peak_rss,
    reset_peak_rss,
    run_child,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

# The smallest settings: the tiny presets' networks at 32 px, one warm-up and one timed step.
TINY = ["--preset", "tiny", "--size", "32", "--warmup", "1", "--steps", "1"]
TRAINING_RUNS = {
    "fast-style": [*TINY, "--batch-sizes", "1", "--workers", "0"],
    "pix2pix": [*TINY, "--batch-sizes", "2"],  # the engine loads with its default 2 worker processes
    "ugatit": [*TINY, "--batch-sizes", "1", "--variants", "full", "--workers", "0"],
}


def run(case: str, args: list[str], folder: Path) -> tuple[int, str, dict]:
    """The case in this process (its measurements in child processes, as always): exit status,
    what it printed and the JSON it wrote."""
    figures = folder / f"{case}.json"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main([case, *args, "--json", str(figures)])
    return status, out.getvalue(), json.loads(figures.read_text())


@pytest.fixture(scope="module", params=list(TRAINING_RUNS))
def training_run(request, tmp_path_factory):
    """Each training case run once for the tests below (a run takes seconds of child processes)."""
    case = request.param
    return (case, *run(case, TRAINING_RUNS[case], tmp_path_factory.mktemp(case)))


def test_alone_it_lists_one_case_per_case_module_with_what_it_measures():
    done = subprocess.run([sys.executable, "-m", "mlcore.bench"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    listed = re.findall(r"^  (\S+)  +(.+)$", done.stdout, re.M)
    assert [name for name, _ in listed] == [module.replace("_", "-") for module in CASE_MODULES]
    assert dict(listed)["ugatit"] == "U-GAT-IT training (Kim et al. 2020) at 256 px, light and full, batch 1"
    assert dict(listed)["pix2pix"].endswith("batch 1 and 16")


def test_an_unknown_case_is_refused_with_the_list():
    done = subprocess.run([sys.executable, "-m", "mlcore.bench", "cyclegan"], cwd=REPO_ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "unknown case 'cyclegan'" in done.stderr and "fast-style" in done.stderr


def test_a_training_case_prints_the_machine_the_inputs_and_baseline_engine_and_ratio_side_by_side(training_run):
    case, status, out, figures = training_run
    assert status == 0, out
    lines = out.splitlines()
    assert re.match(r"machine: .+, \d+ cores, torch \S+ \(\d+ threads\), Python 3\.\d+", lines[0]), out
    assert lines[1].startswith("inputs: ") and "32x32" in lines[1] and "tiny preset" in lines[1]
    assert "device cpu, precision fp32, 1 warm-up + 1 timed step(s)" in lines[1]
    row = figures["rows"][0]
    shown = (rf"^{row['variant']}\s+{row['batch_size']}\s+1\s+[\d.]+\s+[\d.]+\s+[\d.]+x"
             rf"\s+[\d,]+\s+[\d,]+\s+[\d.]+x$")
    assert re.search(shown, out, re.M), out


def test_a_training_case_s_json_holds_every_figure(training_run):
    case, _, _, figures = training_run
    assert figures["case"] == case and figures["machine"]["cores"] >= 1
    assert figures["inputs"]["size"] == 32 and figures["inputs"]["steps"] == 1
    [row] = figures["rows"]
    for what in ("baseline", "engine"):
        assert row[f"{what}_images_per_second"] == pytest.approx(row["batch_size"] / row[f"{what}_seconds"])
        assert row[f"{what}_peak_bytes"] > 100 * MiB  # a process that has loaded torch and trained
    assert row["speed_ratio"] == pytest.approx(row["engine_images_per_second"] / row["baseline_images_per_second"])
    assert row["memory_ratio"] == pytest.approx(row["engine_peak_bytes"] / row["baseline_peak_bytes"])


def test_the_baseline_runs_the_engine_s_own_step_on_its_first_batch(training_run):
    # Same task (built and seeded as the engine builds it), same batch, same step function: the
    # first step's losses are the engine's to the last digit, in another process.
    _, _, _, figures = training_run
    [row] = figures["rows"]
    baseline, engine = row["baseline_first_step"], row["engine_first_step"]
    assert set(baseline) == set(engine) and "loss" in engine
    assert baseline == pytest.approx(engine, rel=1e-6)


def test_the_memory_case_prints_both_translations_side_by_side_and_the_budget_shrinks_the_photo(tmp_path):
    # 60 MiB: the Engstrom network's reflect margin (mlcore.fast_style.inferer) makes even a
    # small photo need about 40 MiB. A 0.2 MP photo needs over 3 times the budget, so the
    # shrunk photo's peak is well below the baseline's whatever the allocator's noise (at
    # 0.05 MP the two peaks were 6 MiB apart, and once the wrong way round).
    status, out, figures = run("memory", ["--megapixels", "0.2", "--families", "fast_style", "--budget-mb", "60"],
                               tmp_path)
    assert status == 0, out
    assert out.startswith("machine: ") and "budget 60 MiB" in out
    assert re.search(r"^fast_style\s+516x387\s+[\d,]+\s+[\d,]+\s+\d+x\d+\s+[\d,]+\s+[\d,]+\s+[\d.]+x$", out, re.M), out
    [row] = figures["rows"]
    assert row["baseline_size"] == "516x387" and row["baseline_estimate"] > 3 * 60 * MiB
    width, height = map(int, row["budget_size"].split("x"))
    assert width < 516 and row["budget_estimate"] <= 60 * MiB
    assert row["budget_peak"] < row["baseline_peak"] and row["ratio"] < 1


def test_the_tiled_memory_rows_set_tiles_beside_the_untiled_baseline(tmp_path):
    # Small tiles on a small photo: several tiles, each measured in its child like 4096x4096.
    status, out, figures = run("memory", ["--tiled", "--sizes", "160x96", "--cases", "johnson", "--tile", "48"],
                               tmp_path)
    assert status == 0, out
    assert "budget 2304 MiB, tiles of 48" in out and "bound 3 GiB" in out
    assert re.search(r"^johnson\s+160x96\s+[\d,]+\s+[\d,]+\s+160x96\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+yes\s", out, re.M), out
    [row] = figures["rows"]
    assert row["tiled_size"] == row["untiled_size"] == "160x96"  # the budget did not shrink it
    assert row["tiled_peak"] > 0 and row["untiled_peak"] > 0 and row["tiled_seconds"] > 0
    assert row["tiled_process_peak"] > row["tiled_loaded"] > row["tiled_peak"]  # torch is most of a small run
    assert row["untiled_estimate"] > row["tiled_estimate"] > 0
    assert row["mae_255"] < 0.01  # exact tiles: the same 8-bit picture, rounding aside


def test_the_tiled_memory_rows_refuse_a_bad_size(capsys):
    with pytest.raises(SystemExit) as refused:
        main(["memory", "--tiled", "--sizes", "4096"])
    assert refused.value.code == 2
    assert "WIDTHxHEIGHT" in capsys.readouterr().err


def test_a_bad_size_is_refused_before_anything_runs(capsys):
    with pytest.raises(SystemExit) as refused:
        main(["pix2pix", "--size", "40"])
    assert refused.value.code == 2
    assert "multiple of 32" in capsys.readouterr().err


def test_a_dataset_in_the_wrong_layout_is_refused_in_words(tmp_path, capsys):
    (tmp_path / "photos").mkdir()
    with pytest.raises(SystemExit):
        main(["ugatit", "--data", str(tmp_path), *TINY])
    assert "trainA" in capsys.readouterr().err


def test_a_failed_measurement_says_why_in_one_line():
    with pytest.raises(MeasurementFailed, match="KeyError: 'no_such_network'"):
        run_child("memory", {"network": "no_such_network", "width": 8, "height": 8, "budget": None})


def test_peak_memory_starts_over_when_reset():
    reset_peak_rss()
    block = b"x" * (200 * MiB)  # written, so resident
    high = peak_rss()
    del block
    low = reset_peak_rss()
    assert high - low > 150 * MiB
    assert peak_rss() < high


@pytest.mark.parametrize("load, said", [(2.5, False), (3.5, True)])
def test_a_busy_machine_is_said_under_the_figures(capsys, load, said):
    table = Table((Column("name", "name", 4, left=True), Column("seconds", "s", 4)))
    report = Report(case="demo", json_to=None, machine={**machine(), "cores": 2, "load_average": load},
                    inputs={}, inputs_line="inputs: none", table=table)
    report.add({"name": "a", "seconds": 1, "load_average": 0.2})
    assert report.finish({"s": "seconds"}) == 0
    out = capsys.readouterr().out
    assert f"load average {load:g} at the start" in out.splitlines()[0]
    assert ("busy machine: load average 0.2 to 3.5 on 2 cores" in out) is said
