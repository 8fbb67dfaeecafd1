from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.backup import BackupError, backup


class Command(BaseCommand):
    help = "Makes a consistent backup (database snapshot, uploaded files, manifest) under var/backups/."
    requires_system_checks = []  # type: ignore[assignment]

    def add_arguments(self, parser):
        parser.add_argument("--output", default="", help="The folder to write (new or empty).")

    def handle(self, *args, output: str, **options):
        try:
            folder = backup(Path(output) if output else None)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Backup written to {folder}")
