"""The contact list's exporter (contacts/exporters.py), run through the exports machinery."""

import pytest

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from exports.tests.test_exports import download_csv, start

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_contact_export_never_names_a_hidden_account(client, owner, outsider, django_capture_on_commit_callbacks):
    ContactFactory(owner=owner, last_name="Seen", account=AccountFactory(owner=outsider, name="Hidden Holdings"))
    client.force_login(owner)
    job = start(client, "contacts.contact", capture=django_capture_on_commit_callbacks)
    rows = download_csv(client, job)
    assert rows[1][3] == "Seen" and "Hidden Holdings" not in str(rows)
