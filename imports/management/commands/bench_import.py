"""Benchmark: N contacts from a generated CSV, end to end through the import job.

    createdb -h 127.0.0.1 -U postgres crm_import_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_import_bench REDIS_URL=redis://127.0.0.1:6379/0 \
        python manage.py migrate
    DATABASE_URL=... python manage.py bench_import --rows 100000
    DATABASE_URL=... python manage.py bench_import --rows 100000 \
        --destination 'marketing.static_list={"new": "Bench"}'   # every row also onto a new static list

Validation, duplicate matching (e-mail, phone, external id; a share of the rows duplicate
existing contacts) and the audit history triggers are all included; the job runs in-process.
"""

import csv
import json
import random
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from crm.models import Role, Team, User
from imports import destinations, services
from imports.models import DuplicatePolicy, ImportJob, ImportStatus

LAST_NAMES = ("Иванов", "Петров", "Сидоров", "Smith", "Коваленко", "Шевченко", "O'Brien", "Кузнецова")
FIRST_NAMES = ("Иван", "Пётр", "Анна", "Olga", "John", "Марія", "Sergei", "Елена", "")
MIDDLE_NAMES = ("Петрович", "Ивановна", "", "Сергеевич", "")
TITLES = ("Менеджер", "Директор", "Sales manager", "Бухгалтер", "CTO", "", "Инженер")
TAGS = ("import", "bench", "vip", "партнёр", "лид", "2024")


class Command(BaseCommand):
    help = "Imports N generated contacts from CSV through the import job and prints rows/s."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--policy", default=DuplicatePolicy.UPDATE, choices=DuplicatePolicy.values)
        parser.add_argument("--destination", action="append", default=[], metavar="KEY=JSON",
                            help="an import destination (imports/destinations.py) and its options")

    def handle(self, *args, rows, policy, destination, **options):
        team, _ = Team.objects.get_or_create(name="Bench team")
        user, _ = User.objects.get_or_create(email="bench-import@example.com",
                                             defaults={"role": Role.SALES_REP, "team": team})
        directory = Path(settings.MEDIA_ROOT) / "imports"
        directory.mkdir(parents=True, exist_ok=True)
        relative = f"imports/bench-{int(time.time())}.csv"
        path = Path(settings.MEDIA_ROOT) / relative
        run = int(time.time())
        randomiser = random.Random(run)  # noqa: S311 - test data
        with path.open("w", encoding="cp1251", newline="") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow(["Фамилия", "Имя", "Отчество", "Эл. почта", "Телефон", "Должность", "Теги",
                             "Дата рождения", "ID"])
            for n in range(rows):
                # ~2% of rows repeat an earlier row's e-mail and phone: in-file duplicates
                k = randomiser.randrange(n) if n and randomiser.random() < 0.02 else n
                # names, titles and tags vary from row to row, as in a real file (no column is constant)
                writer.writerow([f"{randomiser.choice(LAST_NAMES)}{n}", randomiser.choice(FIRST_NAMES),
                                 randomiser.choice(MIDDLE_NAMES), f"user{run}-{k}@example.com",
                                 f"+44 7{400000000 + (run % 500) * 200_000 + k:09d}", randomiser.choice(TITLES),
                                 ", ".join(randomiser.sample(TAGS, randomiser.randint(1, 3))),
                                 f"{1 + n % 28:02d}.{1 + n % 12:02d}.19{50 + n % 50}", f"EXT-{run}-{n}"])
        size = path.stat().st_size
        table_started = time.perf_counter()
        from imports.reader import inspect

        table = inspect(path, "csv")
        job = ImportJob.objects.create(
            user=user, target="contacts.contact", original_name=path.name, file_path=relative, file_format="csv",
            encoding=table.encoding, delimiter=table.delimiter, headers=table.headers, total_rows=table.total_rows,
            status=ImportStatus.QUEUED, duplicate_policy=policy,
            mapping={"0": "last_name", "1": "first_name", "2": "middle_name", "3": "emails", "4": "phones",
                     "5": "title", "6": "tags", "7": "birthday", "8": "external_id"})
        if destination:
            chosen = dict(item.split("=", 1) for item in destination)
            job.destinations = {key: destinations.REGISTRY[key].start(job, json.loads(value))
                                for key, value in chosen.items()}
            job.save(update_fields=["destinations"])
        services.job_run(job_id=job.pk)
        elapsed = time.perf_counter() - table_started
        job.refresh_from_db()
        total = job.created + job.updated + job.skipped + job.failed
        self.stdout.write(f"file: {size / 1e6:.1f} MB, {rows} rows, status {job.status}")
        self.stdout.write(f"created {job.created}, updated {job.updated}, skipped {job.skipped}, "
                          f"failed {job.failed} (sum {total})")
        if job.destination_counts:
            self.stdout.write(f"destinations: {job.destination_counts}")
        self.stdout.write(f"{elapsed:.1f} s → {rows / elapsed:,.0f} rows/s")
