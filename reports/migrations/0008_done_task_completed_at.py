from django.db import migrations, models


class Migration(migrations.Migration):
    """The done-task ledger keeps the completion time (the dashboards count the tasks done in the part of a day at a
    period's end): filled from the activities for the rows already there, then required."""

    dependencies = [
        ("activities", "0003_my_day_indexes"),
        ("reports", "0007_activity_day_owner_key"),
    ]

    operations = [
        migrations.AddField(model_name="donetask", name="completed_at", field=models.DateTimeField(null=True)),
        migrations.RunSQL(
            "UPDATE reports_donetask d SET completed_at = a.completed_at FROM crm_activity a "
            "WHERE a.id = d.activity_id AND a.completed_at IS NOT NULL; "
            "DELETE FROM reports_donetask WHERE completed_at IS NULL",  # gone since: the next refresh recounts
            migrations.RunSQL.noop),
        migrations.AlterField(model_name="donetask", name="completed_at", field=models.DateTimeField()),
    ]
