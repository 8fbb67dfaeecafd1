"""Benchmark: a mailing to N contacts (Cyrillic names) through a real SMTP server on 127.0.0.1, in
messages per second, with 1, 2 and 4 SMTP connections, plus the never-twice check.

    createdb -h 127.0.0.1 -U postgres crm_mail_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_mail_bench REDIS_URL=redis://127.0.0.1:6379/0
    python manage.py migrate
    python manage.py bench_mailing --recipients 10000 --connections 1,2,4     # or: make bench-mail

For each connection count it seeds nothing new: the contacts, the segment and the campaign are made
once per run, and each count sends a new mailing to the same segment (`mailing_start`, then
`mailing_send` in this process: what the Celery task runs). The SMTP server is `marketing.smtp_sink`
in its own process; it writes each recipient it accepted to a file, which is checked afterwards:
every address at most once (and here, with nothing failing, exactly once), and
sent + unknown + suppressed + failed + pending = recipients. The load average is printed before and
after: the machine may be shared.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from contacts.models import Contact
from crm.env import mailer_from_url
from crm.models import Role, Team, User
from marketing import mailings, services
from marketing.models import CampaignType

FIRST_NAMES = ("Анна", "Иван", "Ольга", "Пётр", "Марія", "Богдан", "Елена", "Сергей", "Ярослава", "Дмитрий")
LAST_NAMES = ("Иванова", "Петров", "Шевченко", "Коваленко", "Кузнецов", "Соколова", "Бондаренко", "Мельник")
BODY = (
    "Здравствуйте, {first_name}!\n\nВ этом месяце мы открыли новый склад в Казани: доставка по Поволжью "
    "теперь за один день. Подробности: https://example.com/news/kazan\n\nС уважением,\nотдел маркетинга"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


class Command(BaseCommand):
    help = "Sends a mailing to N contacts through a local SMTP sink and prints messages/s per connection count."

    def add_arguments(self, parser):
        parser.add_argument("--recipients", type=int, default=10_000)
        parser.add_argument("--connections", default="1,2,4", help="comma-separated SMTP connection counts")
        parser.add_argument("--batch", type=int, default=mailings.BATCH)

    def handle(self, *args, recipients, connections, batch, **options):
        counts = [int(value) for value in connections.split(",") if value.strip()]
        self.stdout.write(f"load average before: {load()} ({os.cpu_count()} CPUs)")
        user, segment, campaign = self.seed(recipients)
        results = []
        for count in counts:
            results.append(self.run(user, segment, campaign, count, batch))
        self.stdout.write(f"load average after: {load()}")
        for count, rate in results:
            self.stdout.write(f"{count} connection(s): {rate:,.0f} messages/s")

    def seed(self, recipients: int):
        team, _ = Team.objects.get_or_create(name="Bench mail team")
        user, _ = User.objects.get_or_create(
            email="bench-mail@example.com", defaults={"role": Role.MARKETER, "team": team, "language": "ru"}
        )
        run = int(time.time())
        tag = f"bench-mail-{run}"
        started = time.perf_counter()
        Contact.objects.bulk_create(
            [
                Contact(
                    first_name=FIRST_NAMES[n % len(FIRST_NAMES)],
                    last_name=f"{LAST_NAMES[n % len(LAST_NAMES)]}",
                    emails=[f"reader{run}-{n}@example.com"],
                    email_opt_in=True,
                    tags=[tag],
                    owner=user,
                    team=team,
                )
                for n in range(recipients)
            ],
            batch_size=2000,
        )
        segment = services.segment_create(actor=user, name=f"Бенчмарк {run}", criteria={"tags": [tag]})
        campaign = services.campaign_create(actor=user, name=f"Бенчмарк рассылки {run}", type=CampaignType.EMAIL)
        self.stdout.write(f"seeded {recipients:,} contacts in {time.perf_counter() - started:.1f} s")
        return user, segment, campaign

    def run(self, user, segment, campaign, connections: int, batch: int) -> tuple[int, float]:
        mailing = services.mailing_create(
            actor=user, campaign=campaign, segment=segment, language="ru", subject="Новости для {first_name}", body=BODY
        )
        with tempfile.TemporaryDirectory() as directory:
            received_file = Path(directory) / "received.txt"
            port = free_port()
            sink = subprocess.Popen(  # noqa: S603 - our own module  # nosec B603
                [sys.executable, "-m", "marketing.smtp_sink", str(port), str(received_file)],
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                if sink.stdout is None or sink.stdout.readline().strip() != "ready":
                    raise CommandError("the SMTP sink did not start")
                mailers = {**settings.MAILERS, "default": mailer_from_url(f"smtp://127.0.0.1:{port}?timeout=20")}
                with (
                    mock.patch.object(settings, "MAILERS", mailers),
                    mock.patch.object(mailings, "_send_to_worker", lambda mailing_id: None),
                ):
                    mailings.mailing_start(mailing=mailing, actor=user, base_url="https://crm.example.com")
                    started = time.perf_counter()
                    sent = mailings.mailing_send(mailing.pk, batch=batch, connections=connections)
                    elapsed = time.perf_counter() - started
            finally:
                sink.terminate()
                sink.wait(timeout=30)
            lines = received_file.read_text(encoding="utf-8").splitlines() if received_file.exists() else []
        figures = mailings.counts(mailing)
        per_address = Counter(line.split(" ", 1)[0] for line in lines)
        twice = [address for address, times in per_address.items() if times > 1]
        total = figures.sent + figures.unknown + figures.suppressed + figures.failed + figures.pending
        rate = sent / elapsed if elapsed else 0.0
        self.stdout.write(
            f"{connections} connection(s), batch {batch}: {sent:,} sent in {elapsed:.1f} s → {rate:,.0f} messages/s "
            f"(load {load()})"
        )
        self.stdout.write(
            f"  recipients {figures.recipients:,} = sent {figures.sent:,} + unknown {figures.unknown} + "
            f"suppressed {figures.suppressed} + failed {figures.failed} + pending {figures.pending} "
            f"({'holds' if total == figures.recipients and not figures.sending else 'BROKEN'}); "
            f"sink: {len(lines):,} messages, {len(per_address):,} addresses, {len(twice)} received twice"
        )
        if total != figures.recipients or figures.sending or twice or len(lines) != figures.sent:
            raise CommandError("the never-twice invariant does not hold")
        return connections, rate
