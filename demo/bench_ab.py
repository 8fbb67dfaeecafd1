"""Interleaved A/B timing of two checkouts of the CRM against the same database.

On a shared machine the load changes from minute to minute, so two `manage.py bench` runs a few
minutes apart differ by more than most changes do. This script keeps one Django process per
checkout alive and sends them the same requests in turns (A B, B A, A B, ...), so both see the
same load; it prints the median and p95 server time and the query count of each side.

    DATABASE_URL=… REDIS_URL=… DEBUG=1 .venv/bin/python demo/bench_ab.py /path/to/old-checkout . \\
        --rounds 25 --page "manager1@seed.crm /accounts/" --page "executive@seed.crm /search/?q=Smith"

Each checkout needs its own `.venv` (a symlink to this one is fine). The requests are GETs by a
signed-in user (force_login), through the whole middleware stack, like `manage.py bench`.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def worker() -> None:
    """Runs inside one checkout: reads "email url" lines, answers "ms status queries cpu-ms"."""
    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from crm.models import User

    override_settings(ALLOWED_HOSTS=["*"]).enable()
    clients: dict[str, Client] = {}
    print("ready", flush=True)
    for line in sys.stdin:
        email, url = line.split()
        if email not in clients:
            clients[email] = Client()
            clients[email].force_login(User.objects.get(email=email))
        with CaptureQueriesContext(connection) as queries:
            started, cpu = time.perf_counter(), time.process_time()
            response = clients[email].get(url)
            elapsed = (time.perf_counter() - started) * 1000
            cpu = (time.process_time() - cpu) * 1000  # this process's CPU: less noisy than wall time when busy
        print(f"{elapsed:.2f} {response.status_code} {len(queries.captured_queries)} {cpu:.2f}", flush=True)


class Side:
    def __init__(self, checkout: Path):
        self.name = str(checkout)
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [str(checkout / ".venv" / "bin" / "python"), __file__, "--worker"], cwd=checkout, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        if not self.process.stdout.readline().startswith("ready"):
            raise SystemExit(f"{checkout}: the worker did not start")

    def get(self, email: str, url: str) -> tuple[float, int, int, float]:
        self.process.stdin.write(f"{email} {url}\n")
        self.process.stdin.flush()
        elapsed, status, queries, cpu = self.process.stdout.readline().split()
        return float(elapsed), int(status), int(queries), float(cpu)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(len(ordered) * 0.95) - 1)]


def main() -> None:
    if "--worker" in sys.argv:
        worker()
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="checkout A (e.g. the old code)")
    parser.add_argument("b", type=Path, help="checkout B (e.g. this one)")
    parser.add_argument("--page", action="append", required=True, help='"user@email /url" (repeatable)')
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    a, b = Side(args.a.resolve()), Side(args.b.resolve())
    print(f"A = {a.name}\nB = {b.name}")
    print(f"{'page':48} {'A median/p95 ms':>18} {'q':>3} {'cpu':>5}   {'B median/p95 ms':>18} {'q':>3} {'cpu':>5}")
    for page in args.page:
        email, url = page.split()
        a.get(email, url), b.get(email, url)  # warm-up
        times: dict[Side, list[tuple[float, int, int, float]]] = {a: [], b: []}
        for round_number in range(args.rounds):
            for side in (a, b) if round_number % 2 == 0 else (b, a):
                times[side].append(side.get(email, url))
        cells = []
        for side in (a, b):
            samples = [sample[0] for sample in times[side]]
            cpu = statistics.median(sample[3] for sample in times[side])  # median process CPU ms
            statuses = {sample[1] for sample in times[side]}
            note = "" if statuses == {200} else f" HTTP {sorted(statuses)}"
            queries = times[side][0][2]
            cells.append(f"{statistics.median(samples):8.1f}/{p95(samples):8.1f} {queries:>4} {cpu:5.1f}{note}")
        print(f"{email.split('@')[0][:12]:12} {url[:35]:35} {cells[0]}   {cells[1]}", flush=True)


if __name__ == "__main__":
    main()
