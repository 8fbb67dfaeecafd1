"""A notification names its cause in a unique key instead of a foreign key to the reminder, so the
core's Notification no longer points into the activities app."""

from django.db import migrations, models


def keys_from_reminders(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE crm_notification n SET key = 'reminder:' || r.id || ':' || "
            "to_char(r.fire_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') "
            "FROM crm_reminder r WHERE n.reminder_id = r.id"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0012_alter_activity_lead_alter_activityevent_lead_and_more'),
    ]

    operations = [
        migrations.AddField(
            model_name='notification',
            name='key',
            field=models.CharField(blank=True, editable=False, max_length=100, null=True, unique=True),
        ),
        migrations.RunPython(keys_from_reminders, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='notification',
            name='reminder',
        ),
    ]
