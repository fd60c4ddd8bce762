"""How site/smoke.py tells the processes of its own `make run` from everything else on the
machine: it kills what it finds at the end, so it must never claim a stranger's process."""
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("smoke", REPO / "site" / "smoke.py")
smoke = importlib.util.module_from_spec(spec)
spec.loader.exec_module(smoke)


def test_it_finds_a_marked_session_and_a_member_that_lost_its_environment_and_nothing_else(tmp_path):
    var_dir = tmp_path / "var"
    site = smoke.Site(REPO / ".venv-smoke", var_dir, tmp_path)
    # As honcho starts a Procfile process: the leader of a new session, with the run's variables;
    # below it a process whose environment is gone (redis-server writes its title over it).
    leader = subprocess.Popen(
        ["bash", "-c", "env -i sleep 60 & wait"], env={**os.environ, "RESTYLE_VAR_DIR": str(var_dir)},
        start_new_session=True,
    )
    stranger = subprocess.Popen(["sleep", "60"], start_new_session=True)  # someone else's
    try:
        deadline = time.monotonic() + 10
        while len(found := {pid for pid, _, _ in site.processes()}) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        members = [int(p) for p in subprocess.run(["pgrep", "-s", str(leader.pid)], capture_output=True,
                                                   text=True).stdout.split()]
        assert found == {leader.pid} | set(members) and len(found) == 2
        assert stranger.pid not in found and os.getpid() not in found
    finally:
        for process in (leader, stranger):
            os.killpg(process.pid, 9)
            process.wait()


def test_with_no_run_of_its_own_it_finds_nothing(tmp_path):
    assert smoke.Site(REPO / ".venv-smoke", tmp_path / "var", tmp_path).processes() == []


def test_without_the_shared_data_it_fails_naming_the_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RESTYLE_DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setattr(sys, "argv", ["smoke.py", "--venv", str(tmp_path / "venv")])
    assert smoke.main() == 1
    err = capsys.readouterr().err
    assert f"the shared data folder is not at {tmp_path / 'nowhere'} (set RESTYLE_DATA_DIR)" in err
    assert not (tmp_path / "venv").exists()
