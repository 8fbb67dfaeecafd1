"""Rebuild the figures the scheduler keeps (reports/aggregates.py) from the live tables, refresh what changed, or
time the incremental recompute on a sample of keys (a seeded database has no history to refresh from)."""

import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from reports import aggregates


class Command(BaseCommand):
    help = "Rebuild the kept report figures (activities per owner and day, tickets per day) from the live tables."

    def add_arguments(self, parser):
        parser.add_argument("--only", choices=[aggregates.ACTIVITIES, aggregates.TICKETS],
                            help="One table instead of both.")
        parser.add_argument("--incremental", action="store_true",
                            help="Recompute only what changed since the last refresh (what the scheduler does).")
        parser.add_argument("--time-recompute", type=int, metavar="KEYS", default=0,
                            help="Time the incremental step on KEYS random (owner, day) keys of the last 30 days "
                                 "(tickets: KEYS/10 random days plus the last day), as a refresh after that many "
                                 "changes would recompute them.")

    def handle(self, *args, only: str | None, incremental: bool, time_recompute: int, **options):
        for name in [only] if only else [aggregates.ACTIVITIES, aggregates.TICKETS]:
            started = time.monotonic()
            if time_recompute:
                keys = self.recompute_sample(name, time_recompute)
                what = f"{keys} keys recomputed"
            elif incremental:
                touched = aggregates.refresh(name)
                what = "rebuilt (never built)" if touched < 0 else f"refreshed, {touched} keys recomputed"
            else:
                aggregates.rebuild(name)
                what = "rebuilt"
            self.stdout.write(f"{name}: {what} in {time.monotonic() - started:.2f} s")

    def recompute_sample(self, name: str, keys: int) -> int:
        with transaction.atomic(), connection.cursor() as cursor:
            if name == aggregates.ACTIVITIES:
                cursor.execute("DROP TABLE IF EXISTS touched_activity_days")
                cursor.execute(
                    "CREATE TEMPORARY TABLE touched_activity_days ON COMMIT DROP AS "
                    "SELECT * FROM (SELECT DISTINCT owner_id, day FROM reports_activityday "
                    "WHERE day > (SELECT MAX(day) FROM reports_activityday) - 30) k ORDER BY random() LIMIT %s",
                    [keys])
                count = cursor.rowcount
                aggregates.recompute_activity_days(cursor)
            else:
                cursor.execute("DROP TABLE IF EXISTS touched_ticket_days")
                cursor.execute(
                    "CREATE TEMPORARY TABLE touched_ticket_days ON COMMIT DROP AS "
                    "(SELECT * FROM (SELECT DISTINCT day FROM reports_ticketday) k ORDER BY random() LIMIT %s) UNION "
                    "SELECT MAX(day) FROM reports_ticketday", [max(keys // 10, 1)])
                count = cursor.rowcount
                aggregates.recompute_ticket_days(cursor)
        return count
