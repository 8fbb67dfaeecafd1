"""Activities and reminders moved to the activities app (its 0001 takes over the same tables): here
they only leave the migration state; tables, rows, indexes and history stay."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('activities', '0001_initial'),
        ('crm', '0013_notification_key'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
        migrations.RemoveIndex(
            model_name='activity',
            name='activity_account_timeline',
        ),
        migrations.RemoveIndex(
            model_name='activity',
            name='activity_contact_timeline',
        ),
        migrations.RemoveIndex(
            model_name='activity',
            name='activity_owner_kind_when',
        ),
        migrations.RemoveIndex(
            model_name='activity',
            name='activity_opp_timeline',
        ),
        migrations.RemoveIndex(
            model_name='activity',
            name='activity_lead_timeline',
        ),
        migrations.RemoveField(
            model_name='activityevent',
            name='pgh_obj',
        ),
        migrations.RemoveField(
            model_name='activityevent',
            name='account',
        ),
        migrations.RemoveField(
            model_name='activityevent',
            name='contact',
        ),
        migrations.RemoveField(
            model_name='activityevent',
            name='lead',
        ),
        migrations.RemoveField(
            model_name='activityevent',
            name='opportunity',
        ),
        migrations.RemoveField(
            model_name='activityevent',
            name='owner',
        ),
        migrations.RemoveField(
            model_name='activityevent',
            name='pgh_context',
        ),
        migrations.RemoveField(
            model_name='activityevent',
            name='team',
        ),
        migrations.RemoveIndex(
            model_name='reminder',
            name='reminder_due_idx',
        ),
        migrations.RemoveConstraint(
            model_name='reminder',
            name='reminder_once_per_user',
        ),
        migrations.RemoveField(
            model_name='activity',
            name='account',
        ),
        migrations.RemoveField(
            model_name='activity',
            name='attendees',
        ),
        migrations.RemoveField(
            model_name='activity',
            name='contact',
        ),
        migrations.RemoveField(
            model_name='activity',
            name='contact_attendees',
        ),
        migrations.RemoveField(
            model_name='activity',
            name='lead',
        ),
        migrations.RemoveField(
            model_name='activity',
            name='opportunity',
        ),
        migrations.RemoveField(
            model_name='activity',
            name='owner',
        ),
        migrations.RemoveField(
            model_name='activity',
            name='team',
        ),
        migrations.DeleteModel(
            name='ActivityEvent',
        ),
        migrations.RemoveField(
            model_name='reminder',
            name='activity',
        ),
        migrations.RemoveField(
            model_name='reminder',
            name='user',
        ),
        migrations.DeleteModel(
            name='Activity',
        ),
        migrations.DeleteModel(
            name='Reminder',
        ),
        ]),
    ]
