"""The multi-process runs of tests/mlcore/test_distributed.py, in one torchrun launch (starting
processes costs far more than these tiny runs):

    torchrun --standalone --nproc-per-node 2 tests/mlcore/ddp_runs.py OUT PAIRS UNPAIRED

Each rank records, with a Python audit hook (no mock: the interpreter reports every open for
writing, rename, removal and mkdir), what it wrote under OUT/runs, and saves that list as
OUT/reports/rank_<r>.json, with what each scenario returned.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from mlcore import cli, engine
from mlcore.pix2pix import Pix2PixTrainConfig
from mlcore.ugatit import UGATITTrainConfig
from state_checks import stop_after

TINY = Pix2PixTrainConfig.preset("tiny", steps=6)  # batch norm and dropout: the paper's
INSTANCE = TINY.override({"arch.norm": "instance", "arch.dropout": False})  # per-image statistics
# Six networks, two optimisers, each generator called three times in one backward, frozen
# discriminators in the generators' step: the GAN that asks most of DDP.
UGATIT = UGATITTrainConfig.preset("tiny", steps=3, batch_size=2)
WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def settings(config, pairs: Path) -> dict:
    return dict(family="pix2pix", config=config, inputs={"data": str(pairs)}, num_workers=0, log_every=1,
                sample_every=3, checkpoint_every=3)


def ugatit_settings(unpaired: Path) -> dict:
    return dict(family="ugatit", config=UGATIT, inputs={"data": str(unpaired)}, num_workers=0, log_every=1,
                sample_every=0, checkpoint_every=0)


def main(out: Path, pairs: Path, unpaired: Path) -> None:
    runs, rank = out / "runs", int(os.environ["RANK"])
    writes: list[str] = []

    def audit(event: str, args: tuple) -> None:
        if event == "open" and isinstance(args[0], (str, os.PathLike)):
            path, mode, flags = args
            if not ((mode and any(c in mode for c in "wxa+")) or (flags or 0) & WRITING):
                return
        elif event == "os.rename":  # os.replace too
            path = args[1]
        elif event in ("os.remove", "os.mkdir", "os.rmdir"):
            path = args[0]
        else:
            return
        if str(path).startswith(str(runs)):
            writes.append(f"{event} {Path(path).relative_to(runs)}")

    sys.addaudithook(audit)
    stop = stop_after(3) if rank == 0 else None  # asked of rank 0 only: every rank must stop
    outcome = {
        "straight": engine.start(runs / "straight", **settings(TINY, pairs)).status,
        "stopped": engine.start(runs / "stopped", should_stop=stop, **settings(TINY, pairs)).step,
        "resumed": engine.resume(runs / "stopped").status,
        "instance": engine.start(runs / "instance", **settings(INSTANCE, pairs)).status,
        "instance_stopped": engine.start(runs / "instance_stopped", should_stop=stop_after(3) if rank == 0 else None,
                                         **settings(INSTANCE, pairs)).step,
        "from_one_process": engine.resume(runs / "one_process_stopped").status,  # made by one process
        "ugatit": engine.start(runs / "ugatit", **ugatit_settings(unpaired)).status,
    }
    try:
        engine.start(runs / "odd", **settings(TINY.replace(batch_size=3), pairs))
    except ValueError as exc:
        outcome["odd"] = str(exc)
    # Last, as it ends the process group: the command line, as `torchrun ... -m mlcore train` runs it.
    outcome["cli"] = cli.main(["train", "pix2pix", "--run-dir", str(runs / "cli"), "--data", str(pairs),
                               "--preset", "tiny", "--steps", "2", "--workers", "0"])
    reports = out / "reports"
    reports.mkdir(exist_ok=True)
    (reports / f"rank_{rank}.json").write_text(json.dumps({"writes": writes, "outcome": outcome}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
