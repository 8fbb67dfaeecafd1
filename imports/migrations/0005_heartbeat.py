from django.db import migrations, models


class Migration(migrations.Migration):
    """The job's claim moves to the shared heartbeat (crm/jobs.py): claimed_at was already its heartbeat."""

    dependencies = [("imports", "0004_create_accounts")]

    operations = [
        migrations.RemoveIndex(model_name="importjob", name="importjob_status_idx"),
        migrations.RenameField("importjob", "claimed_at", "heartbeat_at"),
        migrations.AlterField("importjob", "heartbeat_at", models.DateTimeField(blank=True, editable=False, null=True)),
        migrations.AddField("importjob", "run_token", models.UUIDField(blank=True, editable=False, null=True)),
        migrations.AddField("importjob", "run_attempts",
                            models.PositiveSmallIntegerField(default=0, editable=False)),
        migrations.AddIndex(model_name="importjob",
                            index=models.Index(fields=["status", "heartbeat_at"], name="importjob_status_idx")),
    ]
