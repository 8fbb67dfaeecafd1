# Global search finds quotes by the beginning of their number under any collation.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sales', '0005_lead_leadassignmentrule_leadevent_and_more'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='quote',
            index=models.Index(fields=['number'], name='quote_number_prefix_idx', opclasses=['varchar_pattern_ops']),
        ),
    ]
