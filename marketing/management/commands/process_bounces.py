from pathlib import Path

from django.core.management.base import BaseCommand

from marketing import bounces


class Command(BaseCommand):
    help = ("Reads the bounce reports waiting in the Maildir (MARKETING_BOUNCE_MAILDIR, or --maildir): hard "
            "bounces suppress the address, soft ones are counted. The scheduler tick does the same every minute.")

    def add_arguments(self, parser):
        parser.add_argument("--maildir", type=Path, help="a Maildir (with new/ and cur/) other than the configured one")

    def handle(self, *args, maildir: Path | None = None, **options):
        total = bounces.read_maildir(maildir, batch=None)
        self.stdout.write(f"{total} new bounce(s) recorded.")
