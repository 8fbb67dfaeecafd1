import crm.encryption
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0022_translations'),
    ]

    operations = [
        migrations.AlterField(
            model_name='twofactordevice',
            name='secret',
            field=crm.encryption.EncryptedTextField(),
        ),
        crm.encryption.encrypt_existing("crm", "twofactordevice", "secret"),
    ]
