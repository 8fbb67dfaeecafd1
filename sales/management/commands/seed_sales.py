"""Synthetic opportunities for the benchmark: `manage.py seed_sales --opportunities 500000`.

Runs after `manage.py seed` (it spreads the deals over the seeded accounts and their owners). Rows
are made by PostgreSQL itself (INSERT … SELECT over generate_series), without history triggers,
like `seed` does. Most deals are closed (won or lost over the last six years) and about 5 % are
open in the "New business" pipeline; a separate "Bench board" pipeline holds exactly
--board-deals open deals, the kanban budget's case (2,000 open deals in one pipeline).
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from sales.models import Pipeline, Stage, StageKind

STAGES = [("Qualification", 10, StageKind.OPEN), ("Needs analysis", 25, StageKind.OPEN),
          ("Proposal", 50, StageKind.OPEN), ("Negotiation", 75, StageKind.OPEN),
          ("Won", 100, StageKind.WON), ("Lost", 0, StageKind.LOST)]

INSERT = """
INSERT INTO sales_opportunity (
    owner_id, team_id, shared_with_team, created_at, updated_at, deleted_at, name, account_id, primary_contact_id,
    pipeline_id, stage_id, amount, currency, amount_base, probability, expected_close_date, next_step, lead_source,
    competitors, forecast_category, lost_reason, lost_note, closed_at, stage_changed_at, description,
    custom, lock_version)
SELECT a.owner_id, a.team_id, false, d.created, d.created, NULL, 'Deal ' || (%(offset)s + g), a.id, NULL,
       %(pipeline)s, s.id, d.amount, %(currency)s, d.amount, s.probability,
       CASE WHEN s.kind = 'open' THEN current_date + (g %% 180) - 30 ELSE d.closed::date END,
       '', 'web', '', CASE WHEN s.kind = 'won' THEN 'closed' WHEN s.kind = 'lost' THEN 'omitted'
                          WHEN g %% 3 = 0 THEN 'commit' WHEN g %% 3 = 1 THEN 'best_case' ELSE 'pipeline' END,
       CASE WHEN s.kind = 'lost' THEN 'price' ELSE '' END, '',
       CASE WHEN s.kind = 'open' THEN NULL ELSE d.closed END, d.created, '', '{}'::jsonb, 1
FROM generate_series(1, %(count)s) AS g
JOIN bench_accounts a ON a.rn = 1 + ((%(offset)s + g)::bigint * 7919) %% %(accounts)s
CROSS JOIN LATERAL (SELECT (500 + ((g * 37) %% 400) * 250)::numeric(16, 2) AS amount,
                           now() - ((g %% 2190) || ' days')::interval AS closed,
                           now() - ((g %% 2190 + 30) || ' days')::interval AS created) d
JOIN bench_stages s ON s.slot = %(stage_slot)s
"""


class Command(BaseCommand):
    help = "Adds synthetic opportunities over the seeded accounts (benchmark data; refuses with DEBUG off)."

    def add_arguments(self, parser):
        parser.add_argument("--opportunities", type=int, default=50_000, help="Deals to add (default 50,000).")
        parser.add_argument("--board-deals", type=int, default=2_000,
                            help="Open deals in the 'Bench board' pipeline (default 2,000).")
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    def handle(self, *args, opportunities: int, board_deals: int, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_sales writes synthetic data and refuses to run with DEBUG off. Pass --force.")
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")  # no history rows for synthetic data
            cursor.execute("CREATE TEMP TABLE bench_accounts ON COMMIT DROP AS SELECT row_number() OVER (ORDER BY id) "
                           "AS rn, id, owner_id, team_id FROM accounts_account WHERE deleted_at IS NULL")
            cursor.execute("SELECT count(*) FROM bench_accounts")
            accounts = cursor.fetchone()[0]
            if not accounts:
                raise CommandError("No accounts: run `manage.py seed` first.")
            main = self.pipeline("New business", default=True)
            board = self.pipeline("Bench board")
            closed = opportunities - opportunities // 20
            self.insert(cursor, main, accounts, count=opportunities // 20, offset=0, stages="open")
            self.insert(cursor, main, accounts, count=closed, offset=opportunities, stages="closed")
            self.insert(cursor, board, accounts, count=board_deals, offset=2 * opportunities, stages="open")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sales_opportunity")
        self.stdout.write(f"Added {opportunities + board_deals:,} opportunities ({board_deals:,} open on the "
                          f"'Bench board' pipeline) in {time.perf_counter() - started:.1f} s.")

    def pipeline(self, name: str, *, default: bool = False) -> Pipeline:
        pipeline = Pipeline.objects.filter(name=name).first()
        if pipeline is None:
            if default:
                Pipeline.objects.filter(is_default=True).update(is_default=False)
            pipeline = Pipeline.objects.create(name=name, is_default=default, position=0 if default else 9)
            for position, (stage, probability, kind) in enumerate(STAGES):
                Stage.objects.create(pipeline=pipeline, name=stage, position=position, probability=probability,
                                     kind=kind)
        return pipeline

    def insert(self, cursor, pipeline: Pipeline, accounts: int, *, count: int, offset: int, stages: str) -> None:
        """Open deals spread evenly over the open stages; closed ones one third won, two thirds lost."""
        cursor.execute("DROP TABLE IF EXISTS bench_stages")
        cursor.execute("CREATE TEMP TABLE bench_stages (slot int, id bigint, probability int, kind text) "
                       "ON COMMIT DROP")
        kinds = ["open"] if stages == "open" else ["won", "lost", "lost"]
        rows = [(stage.pk, stage.probability, stage.kind) for stage in pipeline.stages.order_by("position")
                if stage.kind in kinds]
        slots = rows if stages == "open" else [next(r for r in rows if r[2] == kind) for kind in kinds]
        for slot, (pk, probability, kind) in enumerate(slots):
            cursor.execute("INSERT INTO bench_stages VALUES (%s, %s, %s, %s)", [slot, pk, probability, kind])
        per_slot, slot_count = count // len(slots), len(slots)
        for slot in range(slot_count):
            share = per_slot if slot < slot_count - 1 else count - per_slot * (slot_count - 1)
            cursor.execute(INSERT, {"offset": offset + slot * per_slot, "pipeline": pipeline.pk,
                                    "currency": settings.DEFAULT_CURRENCY, "count": share, "accounts": accounts,
                                    "stage_slot": slot})
