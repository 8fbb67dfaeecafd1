from io import StringIO

from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import Account
from activities.models import Activity
from contacts.models import Contact
from crm.models import Role, User
from sales.models import Invoice, Lead, Opportunity, Pipeline, Quote, SalesTarget, StageChange
from service.models import WorkLog, WorkOrder


def test_demo_data_loads_once_and_every_role_can_work(db, tmp_path):
    out = StringIO()
    logins = tmp_path / "logins.txt"
    call_command("seed_demo", logins_file=str(logins), stdout=out)
    assert {user.role for user in User.objects.all()} == set(Role.values)
    assert Account.objects.count() >= 20 and Contact.objects.count() >= 40 and Activity.objects.count() >= 50
    assert Contact.objects.filter(last_name="Кузнецова").exists() or Contact.objects.filter(
        first_name__in=["Анна", "Игорь", "Мария", "Алексей", "Елена", "Сергей"]).exists()
    assert "admin@demo.crm" in logins.read_text()

    assert Opportunity.objects.open().exists() and Opportunity.objects.won().exists()
    assert Lead.objects.filter(status="converted").exists()
    assert Lead.objects.filter(owner__isnull=True).exists()  # a referral no rule matches waits in the queue
    assert not Lead.objects.filter(owner__isnull=True, source="web").exists()  # web leads went round-robin
    assert Quote.objects.filter(status="accepted").exists() and Invoice.objects.filter(status="partly_paid").exists()
    assert SalesTarget.objects.exists() and StageChange.objects.count() > Opportunity.objects.count()

    # Marketing: a call list in progress.
    from marketing.models import CallList, CallStatus

    call_list = CallList.objects.get()
    assert call_list.items.filter(status=CallStatus.DONE).exists() and call_list.items.filter(
        status=CallStatus.CALLBACK).exists() and call_list.items.filter(status=CallStatus.QUEUED).exists()

    call_command("seed_demo", stdout=StringIO())  # a second run changes nothing
    assert User.objects.filter(email="admin@demo.crm").count() == 1
    assert Pipeline.objects.count() == 2

    account = Account.objects.filter(owner__email="rep@demo.crm").first()
    for email in ("rep@demo.crm", "manager@demo.crm", "ceo@demo.crm", "support@demo.crm"):
        client = Client()
        assert client.login(username=email, password="demo-crm-2026")
        for url in ("/", "/accounts/", "/contacts/", "/calendar/", account.get_absolute_url(), "/sales/",
                    "/sales/products/"):
            assert client.get(url).status_code == 200, (email, url)
    # The CEO's customers dashboard has a year of shipments, some late and some with no promised date.
    client = Client()
    assert client.login(username="ceo@demo.crm", password="demo-crm-2026")
    shipments = client.get("/reports/customers/", {"period": "year"}).context["shipments"]
    shipped = shipments.total.now
    shipped.add(shipments.total.before)
    assert shipped.orders >= 20 and shipped.on_time and shipped.late and shipped.no_promise
    assert shipments.families and shipments.total.now.amount > 0

    # Field service: the demo agent's day list has today's visits, one already worked; yesterday's is billed.
    client = Client()
    assert client.login(username="support@demo.crm", password="demo-crm-2026")
    today = WorkOrder.objects.filter(owner__email="support@demo.crm", scheduled_start__date=timezone.localdate())
    assert today.count() == 3 and today.filter(status="in_progress").exists()
    page = client.get("/service/my-day/").content.decode()
    assert all(number in page for number in today.values_list("number", flat=True))
    assert WorkLog.objects.filter(billed_order__isnull=False).exists()

def test_demo_data_loads_with_the_mail_server_down(db, settings, tmp_path):
    """`make run` with EMAIL_URL at a mail server that is down: the demo's sent quotes queue their e-mail
    in the outbox instead of stopping the load."""
    from crm.env import mailer_from_url
    from crm.models import OutboxMail, OutboxStatus
    from crm.tests.mail_helpers import SmtpSink

    settings.MAILERS = {"default": mailer_from_url(SmtpSink().url)}  # nothing listens on that port
    call_command("seed_demo", logins_file=str(tmp_path / "logins.txt"), stdout=StringIO())
    assert Quote.objects.filter(status="sent").exists() or Quote.objects.filter(status="accepted").exists()
    assert OutboxMail.objects.filter(key__startswith="quote:", status=OutboxStatus.QUEUED).exists()
