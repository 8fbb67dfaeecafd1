from django.core.management.base import BaseCommand

from crm.preflight import service_problems


class Command(BaseCommand):
    help = "Checks that PostgreSQL and Redis answer; prints one sentence per problem and exits 2 if any."
    requires_system_checks = []  # type: ignore[assignment]

    def handle(self, *args, **options):
        found = service_problems()
        for problem in found:
            self.stderr.write(f"Configuration error: {problem}")
        if found:
            raise SystemExit(2)
        if options["verbosity"]:
            self.stdout.write("PostgreSQL and Redis answer.")
