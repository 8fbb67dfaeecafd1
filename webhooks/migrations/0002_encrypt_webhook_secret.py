import crm.encryption
import webhooks.models
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('webhooks', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='webhookendpoint',
            name='secret',
            field=crm.encryption.EncryptedTextField(default=webhooks.models.new_secret, editable=False, verbose_name='signing secret'),
        ),
        crm.encryption.encrypt_existing("webhooks", "webhookendpoint", "secret"),
    ]
