# crm_phone_tails(phones): the function behind the ends-with phone search (crm/phones.py). Created
# here, in the core, before the modules' indexes that use it.

from django.db import migrations

from crm.phones import PHONE_TAILS_SQL


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0015_phone_regions"),
    ]

    operations = [
        migrations.RunSQL(PHONE_TAILS_SQL, "DROP FUNCTION IF EXISTS crm_phone_tails(varchar[]);"),
    ]
