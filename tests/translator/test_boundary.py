"""Django meets mlcore in one package, translator/worker/, and the web process does not load
torch to serve an ordinary page."""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path


REPO = Path(__file__).resolve().parents[2]
TRANSLATOR = REPO / "translator"
WORKER = TRANSLATOR / "worker"
PROBE = Path(__file__).with_name("web_process_probe.py")


def _is_dynamic_import(func):
    return (isinstance(func, ast.Name) and func.id in ("__import__", "import_module")) or (
        isinstance(func, ast.Attribute) and func.attr == "import_module"
    )


def imports_of(source, *packages):
    """(line, module) of every import of `packages` in `source`: at the top, inside functions
    and classes, and importlib.import_module / __import__ calls that name one."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        elif (isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names = [node.args[0].value]
        else:
            continue
        found += [(node.lineno, name) for name in names if name.split(".")[0] in packages]
    return found


def test_the_walk_finds_mlcore_imported_anywhere_in_a_module():
    source = """
import os, mlcore.registry
from mlcore import engine
from .mlcore_helpers import nothing  # relative: translator's own module, not mlcore
import mlcorex

class Form:
    def config(self):
        from mlcore.fast_style.config import FastStyleTrainConfig
        return importlib.import_module("mlcore.engine"), __import__("mlcore")
"""
    assert imports_of(source, "mlcore") == [(2, "mlcore.registry"), (3, "mlcore"), (9, "mlcore.fast_style.config"),
                                      (10, "mlcore.engine"), (10, "mlcore")]


def test_only_translator_worker_imports_mlcore_or_torch():
    outside = {}
    for path in sorted(TRANSLATOR.rglob("*.py")):
        if WORKER in path.parents:
            continue
        if found := imports_of(path.read_text(encoding="utf-8"), "mlcore", "torch"):
            outside[str(path.relative_to(REPO))] = found
    assert outside == {}, f"mlcore or torch imported outside translator/worker/: {outside}"
    # The walk reads real files: the worker package is where the imports are.
    assert any(imports_of(p.read_text(encoding="utf-8"), "mlcore") for p in WORKER.rglob("*.py"))


def _probe(what, tmp_path):
    # The probe migrates and fills a database of its own: the SQLite file in its empty var folder,
    # even in the PostgreSQL pass (what it checks, the imports, does not depend on the database).
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RESTYLE_DATABASE_URL")}
    env.update(RESTYLE_VAR_DIR=str(tmp_path), PYTHONPATH=str(REPO), DJANGO_SETTINGS_MODULE="config.settings_test")
    done = subprocess.run([sys.executable, str(PROBE), what], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_ordinary_pages_leave_torch_and_mlcore_unloaded_in_the_web_process(tmp_path):
    """The upload page, the gallery, a result, the API's lists, the admin's index, every
    changelist and a run's page, served in a fresh process that has also imported every module
    of translator.worker and the Celery tasks."""
    seen = _probe("ordinary", tmp_path)
    assert set(seen["statuses"].values()) == {200}, seen["statuses"]
    assert "/" in seen["statuses"] and "/gallery/" in seen["statuses"]
    assert "/admin/translator/trainingrun/" in seen["statuses"]
    assert seen["torch"] is False
    assert seen["mlcore"] == []


def test_the_admins_training_form_reads_mlcores_config_without_torch(tmp_path):
    """The one ordinary-looking page that imports mlcore: the form is generated from the
    family's config class, which lives in mlcore's torch-free config modules."""
    seen = _probe("training-form", tmp_path)
    assert set(seen["statuses"].values()) == {200}, seen["statuses"]
    assert "mlcore.fast_style.config" in seen["mlcore"]
    assert seen["torch"] is False
