import io
import json
import zipfile

from django.urls import reverse

from activities.models import Activity
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.history import history_for


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


def test_erasure_also_removes_copies(client, admin_user, owner, settings, tmp_path):
    from exports.models import ExportJob, ExportStatus
    from imports.models import ImportJob, ImportRow
    from webhooks.models import WebhookDelivery, WebhookEndpoint

    settings.MEDIA_ROOT = tmp_path
    contact = ContactFactory(owner=owner, first_name="Greta", last_name="Lind")
    job = ImportJob.objects.create(user=owner, target="contacts.contact", original_name="x.csv")
    ImportRow.objects.create(job=job, row_number=1, action="updated", object_id=contact.pk,
                             previous={"last_name": "Lind"})
    endpoint = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/", events=["contact.updated"],
                                              created_by=admin_user)
    WebhookDelivery.objects.create(endpoint=endpoint, event="contact.updated", object_type="contacts.contact",
                                   object_id=str(contact.pk), payload={"last_name": "Lind"}, idempotency_key="k1")
    export = ExportJob.objects.create(user=owner, target="contacts.contact", status=ExportStatus.DONE,
                                      file_name="contacts.csv")
    export.path.parent.mkdir(parents=True, exist_ok=True)
    export.path.write_text("Greta Lind")
    client.force_login(admin_user)
    client.post(reverse("contacts:erase", args=[contact.pk]), {"confirm": str(contact.pk)})
    assert ImportRow.objects.get().previous is None
    assert "Lind" not in str(WebhookDelivery.objects.get().payload)
    assert not export.path.exists()
