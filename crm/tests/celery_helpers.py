"""Start and stop real Celery worker processes for tests (see conftest.py fixtures), and what the chaos
tests around them share: workers started and stopped for one test, a real SMTP server in its own process."""

import contextlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest
from kombu import pools as kombu_pools

from crm.celery import app as celery_app
from crm.queues import all_queues
from crm.tests.mail_helpers import free_port

ROOT = Path(__file__).resolve().parents[2]


def database_url(settings_dict) -> str:
    host = settings_dict["HOST"] or "127.0.0.1"
    host = quote(host, safe="") if host.startswith("/") else host
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    auth = quote(settings_dict["USER"] or "", safe="")
    if settings_dict["PASSWORD"]:
        auth += ":" + quote(settings_dict["PASSWORD"], safe="")
    return f"postgres://{auth}@{host}{port}/{settings_dict['NAME']}"


def spawn_worker(settings_dict, var_dir: Path, *, queue: str | None = None, pool: str = "solo", concurrency: int = 1,
                 **extra_env) -> dict:
    """Starts `celery worker` on a private queue (or `queue`) against the test database; waits until it
    answers. `pool="prefork"` runs the production pool (the consumer stays awake while tasks run)."""
    queue = queue or f"test-{uuid.uuid4().hex[:10]}"
    node = f"{queue}@localhost"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(settings_dict),
        "DJANGO_SETTINGS_MODULE": "crm.settings_test",
        "CELERY_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CRM_VAR_DIR": str(var_dir),
        **extra_env,
    }
    log = open(var_dir / "worker.log", "w")  # noqa: SIM115 - closed by stop_worker
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", "worker", "-Q", ",".join(all_queues(queue)), "-n", node,
         "--pool", pool, "--concurrency", str(concurrency),
         "--without-mingle", "--without-gossip", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    worker = {"queue": queue, "node": node, "var_dir": var_dir, "process": process, "log": log}
    deadline = time.monotonic() + 60
    while not celery_app.control.ping(destination=[node], timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_worker(worker)
            raise RuntimeError("The Celery worker did not start:\n" + (var_dir / "worker.log").read_text())
    return worker


def stop_worker(worker: dict, *, kill: bool = False) -> None:
    """SIGTERM (a warm shutdown) or SIGKILL; a worker that has not stopped after 30 s is killed, and so
    are its pool processes (prefork), which a killed parent would leave behind."""
    process = worker["process"]
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    if process.poll() is None:
        process.kill() if kill else process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    worker["log"].close()


def reset_broker_connections() -> None:
    """Closes this process's pooled broker connections (the broker restarted, or moved): what it sends
    next goes over a new one. kombu keeps its pools per URL for the whole process; `pools.reset()`
    closes and forgets them (emptying one in place would leave the producer pool waiting forever)."""
    kombu_pools.reset()
    celery_app.amqp._producer_pool = None
    celery_app._pool = None


@contextlib.contextmanager
def broker(url: str):
    """Points what this process sends, pings and inspects at another broker (a private Redis), and back."""
    saved = celery_app.conf["broker_url"]
    celery_app.conf["broker_url"] = url
    reset_broker_connections()
    try:
        yield
    finally:
        celery_app.conf["broker_url"] = saved
        reset_broker_connections()


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


class Workers:
    """The real workers one test starts, each with a folder of its own under `folder` (worker0, worker1, ...);
    the `workers` fixture stops every one still running when the test ends, whatever happened."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.started: list[dict] = []

    def start(self, settings_dict, **options) -> dict:
        """`spawn_worker(settings_dict, <its folder>, **options)`: a worker answering pings."""
        var_dir = self.folder / f"worker{len(self.started)}"
        var_dir.mkdir(parents=True)
        worker = spawn_worker(settings_dict, var_dir, **options)
        self.started.append(worker)
        return worker

    def log(self) -> str:
        """The end of the latest worker's log, for an assertion's message."""
        return (self.started[-1]["var_dir"] / "worker.log").read_text()[-3000:] if self.started else ""

    def stop_all(self) -> None:
        for worker in self.started:
            if worker["process"].poll() is None:
                stop_worker(worker)
            elif not worker["log"].closed:
                worker["log"].close()


@pytest.fixture
def workers(tmp_path):
    started = Workers(tmp_path / "workers")
    yield started
    started.stop_all()


def received(path: Path) -> list[str]:
    """The lines the SMTP sink wrote: one "<recipient> <Message-ID>" per message it accepted."""
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


@contextlib.contextmanager
def sink_process(tmp_path: Path, delay_ms: int = 0):
    """(port, file): a real SMTP server (marketing.smtp_sink, aiosmtpd) in a process of its own, so the workers
    under test share nothing with it; `received(file)` reads what it accepted. `delay_ms`: a slow server."""
    path, port = tmp_path / "received.txt", free_port()
    process = subprocess.Popen([sys.executable, "-m", "marketing.smtp_sink", str(port), str(path), str(delay_ms)],  # noqa: S603
                               cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield port, path
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture
def smtp_sink(tmp_path):
    with sink_process(tmp_path) as sink:
        yield sink

