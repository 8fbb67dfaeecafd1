from io import StringIO

from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from portal.models import PortalUser, Survey
from service.models import Ticket


def test_the_demo_has_a_portal_user_who_signs_in_with_the_demo_password(db, tmp_path):
    logins = tmp_path / "logins.txt"
    call_command("seed_demo", logins_file=str(logins), stdout=StringIO())
    portal_user = PortalUser.objects.get()
    assert f"{portal_user.email} " in logins.read_text() and "Customer portal" in logins.read_text()
    assert Survey.objects.filter(answered_at__isnull=False, rating__lte=2).exists()  # the lead's list has a row
    client = Client()
    response = client.post(reverse("portal:login"), {"email": portal_user.email, "password": "demo-crm-2026"})
    assert response.status_code == 302
    page = client.get(reverse("portal:home")).content.decode()
    assert "Invoice INV-2026-0003" in page and "Password reset e-mail never arrives" in page
    invoice_ticket = Ticket.objects.get(subject__startswith="Invoice INV-2026-0003")
    detail = client.get(reverse("portal:ticket", args=[invoice_ticket.pk])).content.decode()
    assert "we are looking into it" in detail
    assert "VAT number on file is the old one" not in detail  # the demo's internal note
    call_command("seed_demo", stdout=StringIO())  # a second run adds nobody
    assert PortalUser.objects.count() == 1
