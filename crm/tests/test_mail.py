import pytest
from django.core.mail import send_mail
from django.urls import reverse

from crm import mail as outbox


@pytest.fixture(autouse=True)
def outbox_mailer(settings):
    settings.MAILERS = {**settings.MAILERS, "outbox": {"BACKEND": "crm.mail.OutboxBackend"}}


def test_outbox_backend_keeps_each_message(outbox_dir):
    send_mail("Reminder: call Acme", "Call them at 10:00", "crm@example.com", ["rep@example.com"],
              using="outbox")
    messages = outbox.list_outbox()
    assert [m.subject for m in messages] == ["Reminder: call Acme"]
    assert outbox.read_outbox_message(messages[0].name).body.strip() == "Call them at 10:00"
    assert not list(outbox_dir.glob("*.part"))


def test_admin_reads_the_outbox(client, admin_user, outbox_dir):
    send_mail("Welcome <b>aboard</b>", "<script>alert(1)</script>", None, ["x@example.com"], using="outbox")
    client.force_login(admin_user)
    listing = client.get(reverse("outbox")).content.decode()
    assert "Welcome &lt;b&gt;aboard&lt;/b&gt;" in listing
    name = outbox.list_outbox()[0].name
    detail = client.get(reverse("outbox_message", args=[name])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail


def test_outbox_refuses_paths_outside_the_folder(client, admin_user, outbox_dir):
    client.force_login(admin_user)
    for name in ("..%2F..%2Fetc%2Fpasswd", "missing.eml", "notes.txt"):
        assert client.get(f"/admin-tools/outbox/{name}/").status_code == 404
