from django.core.management.base import BaseCommand
from django.db import transaction

from crm.encryption import encrypt_stored, encrypted_fields


class Command(BaseCommand):
    help = ("Encrypts every stored secret again under the current SECRET_KEY. Run it after moving the old key "
            "to SECRET_KEY_FALLBACKS; then the old key can be dropped (docs/security.md).")

    def handle(self, *args, **options):
        with transaction.atomic():
            for model, field_name in encrypted_fields():
                count = encrypt_stored(model, field_name)
                self.stdout.write(f"{model._meta.label}.{field_name}: {count} encrypted again")
