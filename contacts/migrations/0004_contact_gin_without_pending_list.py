# GIN indexes on contacts' e-mails and phones without a pending list (fastupdate off): an import
# matches 1,000 e-mails or phones per query, and every search scans the whole pending list.
# The indexes are altered in place (no rebuild: a million-row table stays writable) and their
# pending lists merged now; Django's state gets the same indexes with fastupdate=False.

import django.contrib.postgres.indexes
from django.db import migrations

INDEXES = ("contact_emails_gin", "contact_phones_gin")


class Migration(migrations.Migration):

    dependencies = [
        ("contacts", "0003_list_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=[f"ALTER INDEX {name} SET (fastupdate = off)" for name in INDEXES]
                    + [f"SELECT gin_clean_pending_list('{name}'::regclass)" for name in INDEXES],
                    reverse_sql=[f"ALTER INDEX {name} SET (fastupdate = on)" for name in INDEXES],
                ),
            ],
            state_operations=[
                migrations.RemoveIndex(model_name="contact", name="contact_emails_gin"),
                migrations.RemoveIndex(model_name="contact", name="contact_phones_gin"),
                migrations.AddIndex(
                    model_name="contact",
                    index=django.contrib.postgres.indexes.GinIndex(
                        fastupdate=False, fields=["emails"], name="contact_emails_gin"),
                ),
                migrations.AddIndex(
                    model_name="contact",
                    index=django.contrib.postgres.indexes.GinIndex(
                        fastupdate=False, fields=["phones"], name="contact_phones_gin"),
                ),
            ],
        ),
    ]
