"""``python -m mlcore.bench edges``: the border stripes of the ml5.js styles, exact against the
reflect margin, on a real network and a real photo from the shared data folder."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from mlcore.bench.__main__ import main


def run(args: list[str], folder: Path) -> tuple[int, str, dict]:
    figures = folder / "edges.json"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["edges", *args, "--json", str(figures)])
    return status, out.getvalue(), json.loads(figures.read_text())


def test_it_prints_the_machine_the_inputs_the_exact_baseline_the_fix_and_their_ratio(data_dir, tmp_path):
    if not (data_dir / "pretrained" / "fast-style-ml5" / "la_muse").is_dir():
        pytest.skip(f"no ml5.js styles in {data_dir} (set RESTYLE_DATA_DIR)")
    status, out, figures = run(["--data", str(data_dir), "--styles", "la_muse", "--images", "chelsea.png",
                                "--modes", "default", "reflect:32"], tmp_path)
    assert status == 0, out
    assert out.startswith("machine: ")
    assert "inputs: 1 ml5.js styles x chelsea.png" in out and "baseline exact, modes reflect:48, reflect:32" in out
    assert re.search(r"^la_muse\s+chelsea\.png\s+451x300 reflect:48\s+\w/\w\s+[\d.]+\s+[\d.]+\s+[\d.]+x", out, re.MULTILINE), out
    default, narrow = figures["rows"]
    assert default["mode"] == "reflect:48" and default["baseline"]["worst_side"] in ("right", "bottom")
    # The stripes of La Muse go; a 32-pixel margin leaves some (README: "Edges of the ml5.js styles").
    assert default["edge_ratio"] > 3 and default["mode_excess"] < 1.5 < default["baseline_excess"]
    assert narrow["edge_ratio"] < default["edge_ratio"]
    assert set(default["measured"]["band8"]) == {"left", "right", "top", "bottom"}
    assert len(default["measured"]["band16_stats"]["right"]["mean_difference"]) == 3  # per channel
    assert "reflect:48: edge band" in out


def test_a_mode_off_the_stride_grid_or_a_missing_style_is_refused_before_anything_runs(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["edges", "--modes", "reflect:30"])
    assert "P a multiple of 4" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["edges", "--data", str(tmp_path), "--styles", "la_muse"])
    assert f"not in the data folder {tmp_path}: la_muse" in capsys.readouterr().err
