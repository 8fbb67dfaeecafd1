"""Secrets the CRM must read back in clear are stored encrypted: IMAP passwords, webhook signing secrets
and authenticator (TOTP) keys. A stolen database dump or backup then holds none of them.

The key is derived from `SECRET_KEY`, which never sits in the database; the keys in
`SECRET_KEY_FALLBACKS` still decrypt, so a rotated SECRET_KEY keeps every secret readable until
`manage.py rotate_secrets` has re-encrypted them with the new one (docs/security.md).

A stored value is "fernet:" followed by a Fernet token (AES-128-CBC with an HMAC-SHA256 tag, so a
changed byte is refused, not decrypted to garbage). A value without the prefix is a plain one written
before this existed (the migrations that brought the field encrypt them); it reads as it is.
"""

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


@functools.lru_cache(maxsize=8)
def _fernet_key(secret: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"crm.encryption.fields").derive(
        secret.encode())
    return base64.urlsafe_b64encode(derived)


def _cipher() -> MultiFernet:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([Fernet(_fernet_key(secret)) for secret in secrets])


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX)


def encrypt(text: str) -> str:
    return PREFIX + _cipher().encrypt(text.encode()).decode()


def decrypt(stored: str) -> str:
    if not is_encrypted(stored):
        return stored
    try:
        return _cipher().decrypt(stored.removeprefix(PREFIX).encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted: SECRET_KEY changed and the old key is not in "
            "SECRET_KEY_FALLBACKS (docs/security.md, \"Secrets at rest\").") from None


def encrypted_fields():
    """(model, field name) for every encrypted field of every installed model."""
    from django.apps import apps

    return [(model, field.name) for model in apps.get_models() for field in model._meta.concrete_fields
            if isinstance(field, EncryptedTextField)]


def encrypt_stored(model, field_name: str) -> int:
    """Write every row's secret again, so it is encrypted under the current SECRET_KEY: for a plain value
    left from before, and after a SECRET_KEY rotation. An UPDATE per row, no save() side effects."""
    count = 0
    rows = model._base_manager.exclude(**{field_name: ""}).values_list("pk", field_name)
    for pk, text in rows.iterator():
        model._base_manager.filter(pk=pk).update(**{field_name: text})
        count += 1
    return count


class EncryptedTextField(models.TextField):
    """A text the code reads in clear and the database holds encrypted. It cannot be searched or
    compared in SQL: every encryption of the same text differs."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value is None or value == "" else encrypt(value)


def encrypt_existing(app_label: str, model_name: str, field_name: str):
    """The migration step that follows turning a plain field into an EncryptedTextField: encrypts the
    values already stored; backwards, writes them in clear again (so the old column type fits them)."""
    from django.db import migrations

    def forwards(apps, schema_editor):
        encrypt_stored(apps.get_model(app_label, model_name), field_name)

    def backwards(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        table, column = model._meta.db_table, model._meta.get_field(field_name).column
        with schema_editor.connection.cursor() as cursor:
            for pk, text in model._base_manager.values_list("pk", field_name).iterator():
                cursor.execute(f'UPDATE "{table}" SET "{column}" = %s WHERE id = %s', [text, pk])  # noqa: S608 - names from the model  # nosec B608

    return migrations.RunPython(forwards, backwards)
