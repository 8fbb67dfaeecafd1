import crm.encryption
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('service', '0009_imap_mailboxes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='imapmailbox',
            name='password',
            field=crm.encryption.EncryptedTextField(verbose_name='password'),
        ),
        crm.encryption.encrypt_existing("service", "imapmailbox", "password"),
    ]
