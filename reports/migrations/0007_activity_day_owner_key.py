# The column stays `owner_id` with the same unique key: only Django's state changes (a foreign key without a
# constraint or an index of its own), so nothing is rebuilt.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0006_done_tasks"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(model_name="activityday", name="activity_day_key"),
                migrations.RemoveField(model_name="activityday", name="owner_id"),
                migrations.AddField(
                    model_name="activityday",
                    name="owner",
                    field=models.ForeignKey(db_constraint=False, db_index=False,
                                            on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                                            to=settings.AUTH_USER_MODEL),
                    preserve_default=False,
                ),
                migrations.AddConstraint(
                    model_name="activityday",
                    constraint=models.UniqueConstraint(fields=("owner", "day", "kind", "team_id", "shared_with_team"),
                                                       name="activity_day_key", nulls_distinct=False),
                ),
            ],
            database_operations=[],
        ),
    ]
