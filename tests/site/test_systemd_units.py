"""The systemd units of site/systemd and the settings files beside them are what a web or worker
host runs (README: "Deployment"). Each unit must parse, and its ExecStart must be a command
this checkout really has: the gunicorn config and WSGI module, the Celery app and the worker's
options, each run here through the program's own parser. The settings files must be files
systemd can read, naming settings the code reads."""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "site" / "systemd"
INSTALLED_AT = "/srv/restyle"  # where the units expect the checkout (README: "Deployment")
VENV_BIN = Path(sys.executable).parent
# Settings the examples name that other issue-11 branches add; each leaves this set when its
# branch is merged (the test below says so as soon as the code reads one).
COMING = set()  # settings the examples name before the code reads them (none now)


def parse_unit(path):
    """{section: {key: [values]}}, as systemd reads a unit: repeated keys add up."""
    sections, current = {}, None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"{path.name}: not a unit line: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def defaults(service):
    """The unit's own Environment= defaults (what the env files override)."""
    return dict(item.split("=", 1) for value in service.get("Environment", []) for item in shlex.split(value))


def exec_starts(path, environment, instance="conversions", host="web1"):
    """Each ExecStart as systemd would run it on this checkout: specifiers and ${VAR}s filled in."""
    commands = []
    for command in parse_unit(path)["Service"]["ExecStart"]:
        command = command.replace("%i", instance).replace("%H", host)
        assert "%" not in command, f"{path.name}: a specifier left in ExecStart: {command}"
        command = re.sub(r"\$\{(\w+)\}", lambda m: environment[m.group(1)], command)
        argv = shlex.split(command)
        assert argv[0].startswith(f"{INSTALLED_AT}/.venv/bin/"), argv[0]
        commands.append([str(VENV_BIN / Path(argv[0]).name), *argv[1:]])
    return commands


def exec_start(path, environment, **specifiers):
    [argv] = exec_starts(path, environment, **specifiers)
    return argv


def read_env_file(path):
    """KEY=value lines as systemd's EnvironmentFile= reads them, which knows no trailing comments."""
    values = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), f"{path.name}: not KEY=value: {line!r}"
        assert not re.search(r"\s", value), f"{path.name}: {key}'s value would keep its spaces and comment: {value!r}"
        values[key] = value
    return values


@pytest.fixture
def checkout_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTYLE_")}
    return {**env, "RESTYLE_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}


def run(argv, env):
    return subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_the_web_unit_runs_gunicorn_with_the_sites_config_and_wsgi_application(checkout_env):
    unit = UNITS / "restyle-web.service"
    service = parse_unit(unit)["Service"]
    argv = exec_start(unit, defaults(service))
    assert Path(argv[0]).name == "gunicorn" and argv[1:] == ["-c", "site/gunicorn.conf.py", "config.wsgi"]
    # gunicorn loads its config and the WSGI application (so Django's settings) and exits.
    done = run([*argv, "--check-config"], {**checkout_env, **defaults(service), "RESTYLE_VAR_DIR": checkout_env["RESTYLE_VAR_DIR"]})
    assert done.returncode == 0, done.stderr
    assert service["KillMode"] == ["mixed"]  # TERM to the master alone: requests in flight finish


def test_the_worker_unit_runs_a_celery_worker_of_the_config_app_that_shuts_down_warm(checkout_env):
    unit = UNITS / "restyle-worker@.service"
    service = parse_unit(unit)["Service"]
    environment = defaults(service) | read_env_file(UNITS / "worker.env.example")
    argv = exec_start(unit, environment, instance="conversions", host="gpu1")
    assert argv[1:4] == ["-A", "config", "worker"] and argv[4:6] == ["-n", "conversions@gpu1"]
    assert environment["RESTYLE_WORKER_POOL"] in ("prefork", "threads")
    # Celery loads the app and parses every option; an unknown one or a missing app is an error.
    done = run([sys.executable, "-m", "celery", *argv[1:], "--help"], checkout_env)
    assert done.returncode == 0, done.stderr
    broken = run([sys.executable, "-m", "celery", *argv[1:], "--no-such-option", "--help"], checkout_env)
    assert broken.returncode != 0  # (so the check above can fail)
    # The worker's own settings file comes after the host's, so it wins.
    assert service["EnvironmentFile"] == ["/etc/restyle/restyle.env", "/etc/restyle/worker-%i.env"]
    # Warm shutdown: TERM to the main process only, which lets the running job finish.
    assert (service["KillMode"], service["KillSignal"]) == (["mixed"], ["SIGTERM"])


MANAGE_PY_PARSES = """
import json, sys, django
django.setup()
from django.core.management import get_commands, load_command_class
for name, *args in json.loads(sys.argv[1]):
    command = load_command_class(get_commands()[name], name)  # KeyError: no such command
    command.create_parser("manage.py", name).parse_args(args)  # exits 2 on an unknown option
"""


def test_the_migrate_unit_runs_manage_py_commands_this_checkout_has(checkout_env):
    unit = UNITS / "restyle-migrate.service"
    commands = exec_starts(unit, defaults(parse_unit(unit)["Service"]))
    assert [argv[1:3] for argv in commands] == [["manage.py", "migrate"], ["manage.py", "collectstatic"]]
    assert all(Path(argv[0]).name == "python" for argv in commands)
    done = run([sys.executable, "-c", MANAGE_PY_PARSES, json.dumps([argv[2:] for argv in commands])], checkout_env)
    assert done.returncode == 0, done.stderr
    broken = run([sys.executable, "-c", MANAGE_PY_PARSES, json.dumps([["migrate", "--no-such-option"]])], checkout_env)
    assert broken.returncode != 0  # (so the check above can fail)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_verifies_the_units_installed_on_this_checkout(tmp_path):
    """`systemd-analyze verify` on copies whose paths point at this checkout and its virtualenv."""
    copies = []
    for unit in sorted(UNITS.glob("*.service")):
        text = unit.read_text().replace(f"{INSTALLED_AT}/.venv/bin", str(VENV_BIN)).replace(INSTALLED_AT, str(REPO))
        copy = tmp_path / unit.name.replace("@.service", "@conversions.service")  # a template, as one instance
        copy.write_text(text)
        copies.append(str(copy))
    done = subprocess.run(["systemd-analyze", "verify", *copies], capture_output=True, text=True, timeout=60)
    complaints = [line for line in (done.stdout + done.stderr).splitlines() if any(Path(c).name in line for c in copies)]
    assert done.returncode == 0 and not complaints, done.stdout + done.stderr
    assert {Path(c).name for c in copies} == {"restyle-web.service", "restyle-worker@conversions.service",
                                              "restyle-migrate.service"}


def test_the_settings_files_are_readable_by_systemd_and_name_settings_the_code_reads():
    code = "\n".join(p.read_text() for folder in ("config", "translator", "site") for p in (REPO / folder).rglob("*.py"))
    unit_text = "\n".join(p.read_text() for p in UNITS.glob("*.service"))
    named = set()
    for example in (REPO / "site" / "restyle.env.example", UNITS / "worker.env.example"):
        named |= {key for key in read_env_file(example) if key.startswith("RESTYLE_")}
    assert {"RESTYLE_SECRET_KEY", "RESTYLE_BROKER_URL", "RESTYLE_ALLOWED_HOSTS", "RESTYLE_WORKER_QUEUES"} <= named

    def read_by_code(key):
        short = key.removeprefix("RESTYLE_")
        return key in code or re.search(rf"""\benv\w*\(\s*["']{short}["']""", code) or f"${{{key}}}" in unit_text

    unknown = sorted(key for key in named - COMING if not read_by_code(key))
    assert not unknown, f"the examples name settings nothing reads: {unknown}"
    merged = sorted(key for key in COMING if read_by_code(key))
    assert not merged, f"now read by the code: take them out of COMING: {merged}"


THREAD_VARIABLES = ("RESTYLE_WORKER_TORCH_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def test_the_worker_example_gives_torch_and_the_native_libraries_one_thread_count():
    example = read_env_file(UNITS / "worker.env.example")
    counts = {example[name] for name in THREAD_VARIABLES}
    assert len(counts) == 1 and int(counts.pop()) >= 1, {name: example.get(name) for name in THREAD_VARIABLES}


def procfile_worker_environment(kind, environ):
    """The variables site/Procfile's `kind` line gives its worker, as honcho's shell expands them:
    the line up to the worker's command, run with `env` in its place."""
    [line] = [line for line in (REPO / "site" / "Procfile").read_text().splitlines() if line.startswith(f"{kind}:")]
    prefix = line.partition(":")[2].partition(" site/respawn.sh ")[0]
    done = subprocess.run(["sh", "-c", f"{prefix} env"], env=environ, capture_output=True, text=True, check=True)
    return dict(item.split("=", 1) for item in done.stdout.splitlines() if "=" in item)


@pytest.mark.parametrize("kind", ["conversions", "slow", "training"])
def test_each_procfile_worker_passes_make_runs_thread_count_to_torch_and_the_native_libraries(kind):
    plain = {"PATH": os.environ["PATH"]}
    given = procfile_worker_environment(kind, {**plain, "RESTYLE_WORKER_TORCH_THREADS": "3"})
    assert [given[name] for name in THREAD_VARIABLES] == ["3", "3", "3"]
    alone = procfile_worker_environment(kind, plain)  # honcho without make: one thread each
    assert [alone[name] for name in THREAD_VARIABLES] == ["1", "1", "1"]


def test_make_run_divides_the_cores_between_its_three_workers(tmp_path):
    """The run recipe's line that counts the threads, run by the shell with a stand-in nproc."""
    recipe = (REPO / "Makefile").read_text().partition("\nrun: demo\n")[2].split("\n\n")[0]
    [line] = [line for line in recipe.splitlines() if "threads=" in line]
    script = line.strip().rstrip("\\").replace("$$", "$") + ' echo "$threads"'
    for cores, expected in ((1, "1"), (2, "1"), (3, "1"), (8, "2"), (16, "5")):
        fake = tmp_path / f"bin{cores}"
        fake.mkdir()
        (fake / "nproc").write_text(f"#!/bin/sh\necho {cores}\n")
        (fake / "nproc").chmod(0o755)
        environ = {"PATH": f"{fake}:{os.environ['PATH']}"}
        done = subprocess.run(["sh", "-c", script], env=environ, capture_output=True, text=True, check=True)
        assert done.stdout.strip() == expected, (cores, done.stdout, done.stderr)
    done = subprocess.run(["sh", "-c", script], env={**environ, "RESTYLE_WORKER_TORCH_THREADS": "7"},
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "7"  # a count set by hand wins
