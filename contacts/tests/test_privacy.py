import io
import json
import zipfile

from django.urls import reverse

from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.history import history_for
from crm.models import Activity


def test_personal_data_package_has_everything(client, admin_user, owner):
    contact = ContactFactory(owner=owner, first_name="Greta", last_name="Lind", email_opt_in=True)
    Activity.objects.create(kind="call", subject="Called Greta", owner=owner, contact=contact)
    client.force_login(admin_user)
    response = client.get(reverse("contacts:personal_data", args=[contact.pk]))
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    data = json.loads(archive.read("personal-data.json"))
    assert data["contact"]["last_name"] == "Lind" and data["consent"]["email_opt_in"] is True
    assert data["activities"][0]["subject"] == "Called Greta"
    assert data["history"][0]["change"] == "insert"


def test_erase_anonymises_and_keeps_counts(client, admin_user, owner):
    contact = ContactFactory(owner=owner, first_name="Greta", last_name="Lind", emails=["greta@example.com"],
                             phones=["+442079460123"], email_opt_in=True, description="likes sailing")
    Activity.objects.create(kind="call", subject="Called Greta", body="Greta's private plans", owner=owner,
                            contact=contact)
    client.force_login(admin_user)
    client.post(reverse("contacts:erase", args=[contact.pk]), {"confirm": "wrong"})
    assert Contact.objects.get(pk=contact.pk).last_name == "Lind"
    client.post(reverse("contacts:erase", args=[contact.pk]), {"confirm": str(contact.pk)})
    contact.refresh_from_db()
    assert contact.last_name == f"Erased contact #{contact.pk}" and contact.emails == [] and contact.phones == []
    assert contact.do_not_call and not contact.email_opt_in and contact.email_opted_out_at
    assert Contact.objects.count() == 1 and Activity.objects.count() == 1
    activity = Activity.objects.get()
    assert "Greta" not in activity.subject and activity.body == ""
    remembered = json.dumps([entry.changes for entry in history_for(contact, user=admin_user)], default=str)
    assert "Greta" not in remembered and "greta@example.com" not in remembered


def test_only_admins_handle_requests(client, owner):
    contact = ContactFactory(owner=owner)
    client.force_login(owner)
    assert client.get(reverse("contacts:personal_data", args=[contact.pk])).status_code == 403
    assert client.post(reverse("contacts:erase", args=[contact.pk]), {"confirm": str(contact.pk)}).status_code == 403
