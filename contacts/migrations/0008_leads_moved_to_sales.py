"""Leads moved to sales (sales 0005 takes over the same tables): here they only leave the
migration state; the tables, rows, indexes and history stay where they are."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0007_lead_links'),
        ('crm', '0012_alter_activity_lead_alter_activityevent_lead_and_more'),
        ('sales', '0005_lead_leadassignmentrule_leadevent_and_more'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
        migrations.RemoveIndex(
            model_name='lead',
            name='lead_live_created_idx',
        ),
        migrations.RemoveIndex(
            model_name='lead',
            name='lead_owner_status_idx',
        ),
        migrations.RemoveIndex(
            model_name='lead',
            name='lead_queue_idx',
        ),
        migrations.RemoveIndex(
            model_name='lead',
            name='lead_email_idx',
        ),
        migrations.RemoveIndex(
            model_name='lead',
            name='lead_phone_idx',
        ),
        migrations.RemoveIndex(
            model_name='lead',
            name='lead_last_name_up_trgm',
        ),
        migrations.RemoveIndex(
            model_name='lead',
            name='lead_company_up_trgm',
        ),
        migrations.RemoveField(
            model_name='leadevent',
            name='pgh_obj',
        ),
        migrations.RemoveField(
            model_name='leadevent',
            name='converted_account',
        ),
        migrations.RemoveField(
            model_name='leadevent',
            name='converted_by',
        ),
        migrations.RemoveField(
            model_name='leadevent',
            name='converted_contact',
        ),
        migrations.RemoveField(
            model_name='leadevent',
            name='converted_opportunity',
        ),
        migrations.RemoveField(
            model_name='leadevent',
            name='owner',
        ),
        migrations.RemoveField(
            model_name='leadevent',
            name='pgh_context',
        ),
        migrations.RemoveField(
            model_name='leadevent',
            name='team',
        ),
        migrations.RemoveField(
            model_name='leadevent',
            name='territory',
        ),
        migrations.RemoveField(
            model_name='lead',
            name='converted_account',
        ),
        migrations.RemoveField(
            model_name='lead',
            name='converted_by',
        ),
        migrations.RemoveField(
            model_name='lead',
            name='converted_contact',
        ),
        migrations.RemoveField(
            model_name='lead',
            name='converted_opportunity',
        ),
        migrations.RemoveField(
            model_name='lead',
            name='owner',
        ),
        migrations.RemoveField(
            model_name='lead',
            name='team',
        ),
        migrations.RemoveField(
            model_name='lead',
            name='territory',
        ),
        migrations.DeleteModel(
            name='LeadAssignmentRule',
        ),
        migrations.DeleteModel(
            name='LeadEvent',
        ),
    
        migrations.DeleteModel(
            name='Lead',
        ),
    ]),
    ]
