from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restores a backup folder into an empty database (DATABASE_URL) and checks it against its manifest."
    requires_system_checks = []  # type: ignore[assignment]

    def add_arguments(self, parser):
        parser.add_argument("folder", help="A folder made by `manage.py backup`.")
        parser.add_argument("--no-files", action="store_true", help="Restore the database only.")

    def handle(self, *args, folder: str, no_files: bool, **options):
        try:
            manifest = restore(Path(folder), files=not no_files)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        rows = sum(manifest["row_counts"].values())
        self.stdout.write(
            f"Restored {folder}: {len(manifest['row_counts'])} tables, {rows} rows; row counts and the checksums "
            f"of {len(manifest['checksums'])} key tables match the backup."
        )
