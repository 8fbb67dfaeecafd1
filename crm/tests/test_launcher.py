"""The launcher (`make run` = stack.py run) heals: real processes, killed with SIGTERM the way an
operator or the OOM killer would, are restarted with back-off; a child that keeps crashing stops
everything with a message that names it. Runs stack.py against the test database, with its own
embedded Redis, no demo data and a short back-off."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from crm.tests.celery_helpers import database_url
from stack import ROOT, describe_exit, free_port

# django_db: so that the session sets up the test database the launcher runs against.
pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("launcher"), pytest.mark.django_db]


def wait_until(condition, seconds=60.0, step=0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(step)
    return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by the launcher) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def healthz(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:  # noqa: S310 # nosec B310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


class Launcher:
    def __init__(self, var: Path, port: int, process: subprocess.Popen, log: Path):
        self.var, self.port, self.process, self.log_path = var, port, process, log

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def pid(self, slug: str) -> int:
        return int((self.var / "run" / f"{slug}.pid").read_text())

    def restarted(self, slug: str, old_pid: int) -> int | None:
        """The new pid of a child once the launcher has started it again."""
        try:
            pid = self.pid(slug)
        except (FileNotFoundError, ValueError):
            return None
        return pid if pid != old_pid and alive(pid) else None


@pytest.fixture(scope="module")
def launcher(tmp_path_factory, django_db_setup):
    """One launcher for this module (starting one takes half a minute): the tests run in file order,
    the one that makes it give up last."""
    tmp_path = tmp_path_factory.mktemp("launcher")
    var = tmp_path / "var"
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if key not in {"DJANGO_SETTINGS_MODULE", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"}}
    env.update({
        "DATABASE_URL": database_url(connection.settings_dict),
        "CRM_VAR_DIR": str(var), "PORT": str(port), "CRM_DEMO": "0", "DEBUG": "1",
        "CRM_RESTART_BACKOFF": "0.3", "CRM_RESTART_LIMIT": "3", "CRM_RESTART_WINDOW": "120",
        "CELERY_CONCURRENCY": "1", "WEB_CONCURRENCY": "1",
    })
    log = tmp_path / "launcher.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "stack.py", "run"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    running = Launcher(var, port, process, log)
    try:
        assert wait_until(lambda: healthz(port) == 200 or process.poll() is not None, 120), running.log
        assert process.poll() is None, running.log
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # Ctrl-C
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_a_killed_worker_and_a_killed_redis_are_restarted(launcher):
    worker = launcher.pid("worker")
    os.kill(worker, signal.SIGTERM)
    new_worker = wait_until(lambda: launcher.restarted("worker", worker), 60)
    assert new_worker, launcher.log
    assert "the Celery worker stopped (exit code 0); restarting it in 0.3 s" in launcher.log
    assert f"restarted the Celery worker (pid {new_worker})" in launcher.log

    redis = launcher.pid("redis")
    os.kill(redis, signal.SIGTERM)
    assert wait_until(lambda: launcher.restarted("redis", redis), 60), launcher.log
    assert "the embedded Redis stopped" in launcher.log
    # Same address: the web server and the worker reconnect, and health is whole again.
    assert wait_until(lambda: healthz(launcher.port) == 200, 60), launcher.log
    body = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{launcher.port}/healthz", timeout=5).read())  # noqa: S310 # nosec B310
    assert body["checks"] == {"database": "ok", "redis": "ok", "worker": "ok"} or body["status"] == "ok"

    # Nothing else was stopped along the way.
    assert launcher.process.poll() is None
    assert "stopping everything" not in launcher.log
    assert alive(launcher.pid("web")) and alive(launcher.pid("beat"))


def test_a_child_that_keeps_crashing_stops_everything_and_is_named(launcher):
    pids = {slug: launcher.pid(slug) for slug in ("redis", "web", "beat")}
    # CRM_RESTART_LIMIT=3 within 120 s. The launcher is shared with the test above, whose stopped worker
    # may still count: kill the worker until the launcher gives up, at most three times.
    for _crash in range(3):
        worker = launcher.pid("worker")
        os.kill(worker, signal.SIGKILL)
        assert wait_until(lambda w=worker: launcher.process.poll() is not None or launcher.restarted("worker", w),
                          60), launcher.log
        if launcher.process.poll() is not None:
            break
    assert launcher.process.wait(timeout=60) == 1, launcher.log
    assert "the Celery worker keeps crashing (3 times in 120 s, last: killed by SIGKILL); stopping everything." \
        in launcher.log
    # Everything it started is gone, and said so by its pid files.
    assert not [slug for slug, pid in pids.items() if alive(pid)], launcher.log
    assert not list((launcher.var / "run").glob("*.pid"))


def test_exit_descriptions():
    assert describe_exit(0) == "exit code 0"
    assert describe_exit(-15) == "killed by SIGTERM"
