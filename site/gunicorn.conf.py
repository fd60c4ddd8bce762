"""gunicorn settings for the web process (the workers run networks, the web process does not)."""
import os

bind = f"{os.environ.get('RESTYLE_HOST', '127.0.0.1')}:{os.environ.get('RESTYLE_PORT', '8000')}"
workers = int(os.environ.get("RESTYLE_WEB_WORKERS", "2"))
threads = int(os.environ.get("RESTYLE_WEB_THREADS", "4"))
# Uploads of up to the size limit over slow phone connections.
timeout = 120
accesslog = "-"
errorlog = "-"


def post_worker_init(worker):
    # Every web process also settles jobs that faults left behind (translator/sweeper.py), so
    # that they end even when no Celery worker is left to do it.
    from translator import sweeper

    sweeper.start()
