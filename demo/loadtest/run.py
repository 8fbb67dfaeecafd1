"""`make loadtest`: the CRM under load, as a user would see it over HTTP.

Starts gunicorn (DEBUG off, compressed static files, crm/gunicorn_conf.py) on the seeded database
named by DATABASE_URL, then runs Locust (demo/loadtest/locustfile.py) twice, each bounded in time:

1. 50 signed-in users, each thinking 1-3 s between pages (the issue's "50 busy users");
2. saturation: 16 users without think time, which keeps every worker busy: the most the machine serves.

For each run it prints p50 / p95 / p99 in ms, requests per second and errors, overall and per page,
and the load average, since other work on the machine changes the figures. The load client runs on
the same machine and takes CPU from the server; the report says so.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python demo/loadtest/run.py [--users 50 --duration 60
        --saturation-users 16 --saturation-duration 30 --workers 2 --threads 4 --port 8010]

Seed first (`manage.py seed --contacts 20000 --accounts 20000`, `manage.py seed_sales`): the users sign in
as the seeded managers, reps and executive."""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
LOCUSTFILE = ROOT / "demo" / "loadtest" / "locustfile.py"


def server_env(args) -> dict[str, str]:
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        raise SystemExit("Set DATABASE_URL (and REDIS_URL) to a seeded database: see docs/benchmarks.md.")
    env.update({"DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1,localhost", "WEB_CONCURRENCY": str(args.workers),
                "GUNICORN_THREADS": str(args.threads), "GUNICORN_WORKER_CLASS": args.worker_class,
                "GUNICORN_ACCESS_LOG": "", "GUNICORN_LOG_LEVEL": "warning",
                "CRM_VAR_DIR": str(ROOT / "var" / "loadtest")})
    env.setdefault("SECRET_KEY", "insecure-loadtest-key-only-for-local-runs")
    return env


def static_is_current(env: dict[str, str]) -> bool:
    """collectstatic compresses every file (minutes on a busy machine): skipped when the manifest is
    newer than our static files and the front-end lock file."""
    manifest = Path(env["CRM_VAR_DIR"]) / "static" / "staticfiles.json"
    if not manifest.exists():
        return False
    sources = [ROOT / "package-lock.json", *(path for path in (ROOT / "static").rglob("*") if path.is_file())]
    return all(path.stat().st_mtime < manifest.stat().st_mtime for path in sources)


def start_server(env: dict[str, str], port: int) -> subprocess.Popen:
    if not static_is_current(env):
        print("collectstatic (compressed files, once) ...", flush=True)
        subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], cwd=ROOT,  # noqa: S603
                       env=env, check=True)
    log = (Path(env["CRM_VAR_DIR"]) / "gunicorn.log").open("a", encoding="utf-8")  # slow-request lines go here
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and gunicorn
        [PYTHON, "-m", "gunicorn", "crm.wsgi", "--config", "python:crm.gunicorn_conf", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped (exit code {server.returncode}); see the lines above.")
        try:  # the sign-in page, not /healthz: that one says 503 while no Celery worker runs
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/auth/login/", timeout=2) as answer:  # noqa: S310 # nosec B310
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    stop_server(server)
    raise SystemExit("gunicorn did not answer within 60 s.")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def sign_in_once(port: int, out: Path) -> Path:
    """Signs each seeded user in once and keeps the session cookies for the Locust users: hashing a
    password is deliberately slow (PBKDF2), and 50 sign-ins at the start would measure nothing else."""
    import requests

    from demo.loadtest import pages

    sessions = {}
    for email in pages.USERS:
        client = requests.Session()
        form = client.get(f"http://127.0.0.1:{port}{pages.LOGIN_URL}", timeout=60)
        answer = client.post(f"http://127.0.0.1:{port}{pages.LOGIN_URL}", allow_redirects=False, timeout=60,
                             data={"username": email, "password": pages.PASSWORD,
                                   "csrfmiddlewaretoken": pages.csrf_token(form.text)})
        if answer.status_code != 302 or "sessionid" not in client.cookies:
            raise SystemExit(f"{email} could not sign in (HTTP {answer.status_code}): seed the database first "
                             "(manage.py seed).")
        sessions[email] = client.cookies["sessionid"]
    path = out / "sessions.json"
    path.write_text(json.dumps(sessions), encoding="utf-8")
    return path


def run_locust(name: str, *, users: int, duration: int, think: str, port: int, out: Path, sessions: Path) -> Path:
    prefix = out / name
    env = {**os.environ, "LOADTEST_THINK": think, "LOADTEST_SESSIONS": str(sessions), "PYTHONPATH": str(ROOT)}
    spawn_rate = max(1, users // 5)
    command = [str(Path(PYTHON).parent / "locust"), "-f", str(LOCUSTFILE), "--headless", "--only-summary",
               "--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", f"{duration}s",
               "--stop-timeout", "5", "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix),
               "--loglevel", "WARNING", "--reset-stats"]  # figures from when every user is running
    subprocess.run(command, cwd=ROOT, env=env, check=False, stdout=subprocess.DEVNULL)  # noqa: S603
    return Path(f"{prefix}_stats.csv")


def report(title: str, stats_csv: Path) -> dict[str, str]:
    with stats_csv.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    print(f"\n{title}  (load average {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    header = f"{'page':34} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'req/s':>7}"
    print(header)
    print("-" * len(header))
    total = {}
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "ALL"
        print(f"{name[:34]:34} {row['Request Count']:>8} {row['Failure Count']:>6} {row['50%']:>7} {row['95%']:>7} "
              f"{row['99%']:>7} {float(row['Requests/s']):>7.1f}")
        if row["Name"] == "Aggregated":
            total = row
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60, help="seconds of the 50-user run")
    parser.add_argument("--saturation-users", type=int, default=16)
    parser.add_argument("--saturation-duration", type=int, default=30)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("GUNICORN_THREADS", "4")))
    parser.add_argument("--worker-class", choices=("gthread", "sync"), default="gthread")
    parser.add_argument("--port", type=int, default=int(os.environ.get("LOADTEST_PORT", "8010")))
    args = parser.parse_args()
    out = ROOT / "var" / "loadtest"
    out.mkdir(parents=True, exist_ok=True)
    server = start_server(server_env(args), args.port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run still stops gunicorn (finally)
    try:
        sys.path.insert(0, str(ROOT))
        sessions = sign_in_once(args.port, out)
        print(f"gunicorn: {args.workers} workers x {args.threads} threads ({args.worker_class}), DEBUG off, "
              f"on port {args.port}; "
              f"the load client runs on the same {os.cpu_count()} cores.")
        busy = report(f"{args.users} users, think time 1-3 s, {args.duration} s",
                      run_locust("busy", users=args.users, duration=args.duration, think="1-3", port=args.port,
                                 out=out, sessions=sessions))
        saturated = report(f"saturation: {args.saturation_users} users, no think time, {args.saturation_duration} s",
                           run_locust("saturation", users=args.saturation_users, duration=args.saturation_duration,
                                      think="0", port=args.port, out=out, sessions=sessions))
    finally:
        stop_server(server)
    failures = int(busy.get("Failure Count", 0) or 0) + int(saturated.get("Failure Count", 0) or 0)
    print(f"\nSummary: {args.users} users p95 {busy.get('95%')} ms, {float(busy.get('Requests/s', 0)):.1f} req/s; "
          f"saturation {float(saturated.get('Requests/s', 0)):.1f} req/s (p95 {saturated.get('95%')} ms); "
          f"errors {failures}. CSV files in {out}.")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
