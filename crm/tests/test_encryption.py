"""Secrets at rest (crm/encryption.py): what the database holds is ciphertext, what the code reads is the
secret, a changed byte is refused, and a SECRET_KEY rotation keeps every secret readable."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from crm.encryption import PREFIX, encrypt_stored, encrypted_fields
from crm.models import TwoFactorDevice
from crm.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXP-пароль"


def stored(device):
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM crm_twofactordevice WHERE id = %s", [device.pk])
        return cursor.fetchone()[0]


def reread(device):
    return TwoFactorDevice.objects.get(pk=device.pk).secret


@pytest.fixture
def device():
    return TwoFactorDevice.objects.create(user=UserFactory(), secret=SECRET)


def test_the_database_holds_ciphertext_and_the_code_reads_the_secret(device):
    raw = stored(device)
    assert raw.startswith(PREFIX)
    assert SECRET not in raw and "JBSWY3DP" not in raw
    assert reread(device) == SECRET


def test_every_secret_the_crm_reads_back_is_an_encrypted_field():
    assert {(model._meta.label, name) for model, name in encrypted_fields()} == {
        ("crm.TwoFactorDevice", "secret"),
        ("service.ImapMailbox", "password"),
        ("webhooks.WebhookEndpoint", "secret"),
    }


def test_the_same_secret_is_stored_differently_each_time(device):
    other = TwoFactorDevice.objects.create(user=UserFactory(), secret=SECRET)
    assert stored(device) != stored(other)


def test_a_changed_byte_is_refused_with_a_sentence_not_garbage(device):
    raw = stored(device)
    forged = raw[:-6] + ("A" if raw[-6] != "A" else "B") + raw[-5:]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE crm_twofactordevice SET secret = %s WHERE id = %s", [forged, device.pk])
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY_FALLBACKS"):
        reread(device)


def test_another_secret_key_cannot_read_it(device, settings):
    settings.SECRET_KEY = "a-completely-different-key-of-another-installation"
    with pytest.raises(ImproperlyConfigured):
        reread(device)


def test_a_rotated_secret_key_reads_through_the_fallback_until_rotate_secrets_re_encrypts(device, settings):
    old = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "the-new-key-after-rotation-0123456789", [old]
    assert reread(device) == SECRET
    before = stored(device)

    call_command("rotate_secrets", stdout=open("/dev/null", "w"))  # noqa: SIM115 - discarded output

    assert stored(device) != before
    settings.SECRET_KEY_FALLBACKS = []
    assert reread(device) == SECRET


def test_a_plain_value_from_before_reads_as_it_is_and_gets_encrypted(device):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE crm_twofactordevice SET secret = %s WHERE id = %s", [SECRET, device.pk])
    assert reread(device) == SECRET

    assert encrypt_stored(TwoFactorDevice, "secret") == 1

    assert stored(device).startswith(PREFIX)
    assert reread(device) == SECRET
