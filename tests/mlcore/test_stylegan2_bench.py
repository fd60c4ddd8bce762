"""``python -m mlcore.bench stylegan2`` at the smallest settings: it prints the machine, the
inputs (with the kimg timed) and one table with the bare-loop baseline, the engine and their
ratio for training, NVlabs' published 256 px figure as a labelled reference row, and generation;
the bare loop and the engine ran the same first step (the same losses)."""

from __future__ import annotations

import contextlib
import io
import json
import re

import pytest

from mlcore.bench.__main__ import CASE_MODULES, main
from mlcore.bench.stylegan2 import PUBLISHED_S_PER_KIMG

ARGS = ["--size", "32", "--steps", "1", "--gen-images", "2", "--gen-batch", "2", "--project-steps", "2",
        "--w-avg-samples", "10"]


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    figures = tmp_path_factory.mktemp("bench") / "stylegan2.json"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["stylegan2", *ARGS, "--json", str(figures)])
    return status, out.getvalue(), json.loads(figures.read_text())


def test_the_case_is_listed():
    assert "stylegan2" in CASE_MODULES


def test_it_prints_the_machine_inputs_and_training_baseline_engine_ratio_side_by_side(bench):
    status, out, figures = bench
    assert status == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("machine: ") and "cores" in lines[0]
    assert lines[1].startswith("inputs: ") and "32x32" in lines[1] and "batch 4" in lines[1]
    assert "1 timed training step(s) = 0.004 kimg" in lines[1]
    rows = {row["what"]: row for row in figures["rows"]}
    training = rows["training 32 px"]
    assert training["unit"] == "s/kimg" and training["baseline"] > 0 and training["measured"] > 0
    assert training["ratio"] == pytest.approx(training["measured"] / training["baseline"])
    assert training["baseline_kimg"] == training["measured_kimg"] == 0.004
    assert training["baseline_peak_bytes"] > 0 and training["measured_peak_bytes"] > 0
    # The bare loop and the engine ran the same first step on the same batch from the same start.
    assert training["baseline_first_step"] == pytest.approx(training["measured_first_step"], rel=1e-5)
    assert re.search(r"^training 32 px +s/kimg +[\d.,]+ +[\d.,]+ +[\d.]+x", out, re.M), out


def test_nvlabs_published_figure_is_a_labelled_reference_row_not_a_measurement(bench):
    _, out, figures = bench
    published = next(row for row in figures["rows"] if "published" in row["what"])
    assert published["measured"] == PUBLISHED_S_PER_KIMG == 12.53
    assert "baseline" not in published and "ratio" not in published
    assert "not measured here" in published["note"] and "A100" in figures["footnotes"]["published"]


def test_generation_and_projection_rows(bench):
    _, _, figures = bench
    rows = {row["what"]: row for row in figures["rows"]}
    generation = rows["generation 32 px"]
    assert generation["unit"] == "img/s" and generation["baseline"] > 0 and generation["measured"] > 0
    projection = rows["projection 32 px"]
    assert projection["unit"] == "steps/s"
    assert projection.get("measured", 0) > 0 or "not measured" in projection["note"]
