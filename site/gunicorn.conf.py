"""gunicorn settings for the web process (the workers run networks, the web process does not)."""
import os
from pathlib import Path

bind = f"{os.environ.get('RESTYLE_HOST', '127.0.0.1')}:{os.environ.get('RESTYLE_PORT', '8000')}"
workers = int(os.environ.get("RESTYLE_WEB_WORKERS", "2"))
threads = int(os.environ.get("RESTYLE_WEB_THREADS", "4"))
# Uploads of up to the size limit over slow phone connections.
timeout = 120
accesslog = "-"
errorlog = "-"
# `gunicornc` talks to this socket. Its default is one per user ($HOME/.gunicorn), which a second
# site on the machine (another checkout, `make smoke`) would take over and delete on stop.
_var_dir = Path(os.environ.get("RESTYLE_VAR_DIR") or Path(__file__).resolve().parent.parent / "var")
control_socket = str(_var_dir / "gunicorn.ctl")


def post_worker_init(worker):
    # Every web process also settles jobs that faults left behind (translator/sweeper.py), so
    # that they end even when no Celery worker is left to do it.
    from translator import sweeper

    sweeper.start()
