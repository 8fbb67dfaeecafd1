import secrets

from django.db import migrations, models

import crm.models


def give_every_user_a_token(apps, schema_editor):
    User = apps.get_model("crm", "User")
    for user in User.objects.filter(calendar_token__isnull=True).only("pk"):
        user.calendar_token = secrets.token_urlsafe(32)
        user.save(update_fields=["calendar_token"])


class Migration(migrations.Migration):
    dependencies = [("crm", "0002_activity_activityevent_reminder_notification_and_more")]

    operations = [
        migrations.AddField(
            model_name="user", name="calendar_token", field=models.CharField(max_length=43, null=True, editable=False)
        ),
        migrations.RunPython(give_every_user_a_token, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="calendar_token",
            field=models.CharField(default=crm.models.new_calendar_token, editable=False, max_length=43, unique=True),
        ),
    ]
