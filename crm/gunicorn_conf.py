"""gunicorn's configuration: `gunicorn crm.wsgi --config python:crm.gunicorn_conf`.

The environment tunes it (docs/operations.md): GUNICORN_BIND (or PORT), WEB_CONCURRENCY
(processes), GUNICORN_THREADS (threads per process), GUNICORN_WORKER_CLASS ("gthread", the default, or
"sync" to compare), GUNICORN_ACCESS_LOG ("-" for stdout,
a path, or "" for none). Everything gunicorn writes stays under CRM_VAR_DIR (default var/):
its control socket is var/run/gunicorn.ctl, not one shared by every instance in the home folder.
"""

import os
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
_VAR = Path(os.environ.get("CRM_VAR_DIR", _ROOT / "var"))

bind = [os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"]
# gthread: requests wait on PostgreSQL most of the time, so threads overlap that wait at less
# memory per request than more processes (docs/operations.md, "gunicorn").
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 5000  # a slow leak in a dependency cannot grow a process forever
max_requests_jitter = 500
_access = os.environ.get("GUNICORN_ACCESS_LOG", "-")
accesslog = _access or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
control_socket = str(_VAR / "run" / "gunicorn.ctl")
worker_tmp_dir = str(_VAR / "run")


def on_starting(server):
    """In the master, before any worker: a configuration error stops gunicorn with one sentence
    (instead of every worker failing to boot with a traceback)."""
    (_VAR / "run").mkdir(parents=True, exist_ok=True, mode=0o700)
    if _access and _access != "-":
        Path(_access).parent.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    import django

    from crm.preflight import problems

    found = problems()
    if not found:
        django.setup()
        return
    for problem in found:
        sys.stderr.write(f"Configuration error: {problem}\n")
    sys.stderr.flush()
    os._exit(2)  # gunicorn turns SystemExit in a hook into a traceback


def child_exit(server, worker):
    """With PROMETHEUS_MULTIPROC_DIR, a worker that exits stops counting in the live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
