"""Rebuild the figures the scheduler keeps (reports/aggregates.py) from the live tables, or refresh what changed."""

import time

from django.core.management.base import BaseCommand

from reports import aggregates


class Command(BaseCommand):
    help = "Rebuild the kept report figures (activities per owner and day, tickets per day) from the live tables."

    def add_arguments(self, parser):
        parser.add_argument("--only", choices=[aggregates.ACTIVITIES, aggregates.TICKETS],
                            help="One table instead of both.")
        parser.add_argument("--incremental", action="store_true",
                            help="Recompute only what changed since the last refresh (what the scheduler does).")

    def handle(self, *args, only: str | None, incremental: bool, **options):
        for name in [only] if only else [aggregates.ACTIVITIES, aggregates.TICKETS]:
            started = time.monotonic()
            if incremental:
                touched = aggregates.refresh(name)
                what = "rebuilt (never built)" if touched < 0 else f"refreshed, {touched} keys recomputed"
            else:
                aggregates.rebuild(name)
                what = "rebuilt"
            self.stdout.write(f"{name}: {what} in {time.monotonic() - started:.1f} s")
