"""Record pages ask every panel's "anything to show?" in one probe query (crm/panels.py, `probe=`), and a panel
whose probe found nothing shows its empty state without a query of its own. The pages must look exactly as
they did when every panel ran its own query: the tests compare both ways for every role, on records with
something in every panel and on records with nothing, and hold the pages to their new query counts."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from activities import archive
from activities.models import Activity, ActivityKind
from contacts.tests.factories import ContactFactory
from crm import panels
from marketing import services as marketing_services
from marketing.models import (
    BouncedAddress,
    CampaignMember,
    ContactPreference,
    Delivery,
    DeliveryStatus,
    Mailing,
    StaticListMember,
    Topic,
    TopicSubscription,
)
from marketing.tests.factories import CampaignFactory
from portal.tests.factories import PortalUserFactory
from sales.tests.billing_helpers import accepted_quote, invoice_for
from sales.tests.factories import LeadFactory, OpportunityFactory
from service import contract_services, field_services, services
from service.models import WorkKind
from service.tests.factories import agent

pytestmark = pytest.mark.django_db
ROLES = ["owner", "teammate", "manager", "outsider", "executive", "support_agent", "marketer", "admin"]


@pytest.fixture(autouse=True)
def empty_archive(django_db_blocker):
    """The archive is an unmanaged table: a transactional test's flush leaves it alone."""
    def empty():
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM crm_activity_archive")

    empty()
    yield
    empty()


@pytest.fixture
def full(owner, marketer):
    """An account, its contact, a deal and a lead with a row in every panel of their pages."""
    now = timezone.now()
    account = AccountFactory(owner=owner, team=owner.team, name="ООО «Полный»")
    contact = ContactFactory(owner=owner, account=account, first_name="Анна", last_name="Полная",
                             emails=["Anna@Polnaya.example"])
    deal = OpportunityFactory(owner=owner, account=account, primary_contact=contact, name="Сделка «Весна»")
    invoice_for(owner, account=account, due_in_days=-5, currency="RUB")
    accepted_quote(owner, account=account, currency="RUB")
    desk = agent(email="desk@example.com", first_name="Дина")
    ticket = services.ticket_create(actor=desk, subject="Не печатает", contact=contact, owner=desk)
    contract_services.contract_create(actor=desk, name="Поддержка 2026", account=account,
                                      starts_on=timezone.localdate() - timedelta(days=10),
                                      ends_on=timezone.localdate() + timedelta(days=300))
    visit = field_services.work_order_create(ticket=ticket, actor=desk)
    field_services.work_order_log(work_order=visit, actor=desk, kind=WorkKind.TIME, minutes=45, note="Ролик")
    campaign = CampaignFactory(owner=marketer, name="Весенняя рассылка")
    CampaignMember.objects.create(campaign=campaign, contact=contact)
    static_list = marketing_services.static_list_create(actor=marketer, name="Список «Весна»")
    StaticListMember.objects.create(static_list=static_list, contact=contact)
    lead = LeadFactory(owner=owner)
    StaticListMember.objects.create(static_list=static_list, lead=lead)
    ContactPreference.objects.create(contact=contact, language="uk")
    TopicSubscription.objects.create(contact=contact, topic=Topic.objects.create(name="Новинки"))
    BouncedAddress.objects.create(email="anna@polnaya.example", suppressed_at=now)
    mailing = Mailing.objects.create(owner=marketer, team=marketer.team, campaign=campaign, static_list=static_list,
                                     subject="Весна", body="Текст", status="sent")
    Delivery.objects.create(mailing=mailing, contact=contact, email=contact.emails[0], status=DeliveryStatus.SENT,
                            sent_at=now - timedelta(days=2), opened_at=now - timedelta(days=1))
    PortalUserFactory(contact=contact)
    for days, kind in ((800, ActivityKind.CALL), (3, ActivityKind.MEETING), (1, ActivityKind.NOTE)):
        Activity.objects.create(owner=owner, team=owner.team, account=account, contact=contact, kind=kind,
                                subject=f"{kind} {days}", occurred_at=now - timedelta(days=days))
    archive.archive_due()  # the 800-day-old call moves to the archive
    return {"account": account, "contact": contact, "deal": deal, "lead": lead}


@pytest.fixture
def empty(owner):
    """An account, its contact, a deal and a lead with nothing in any panel."""
    account = AccountFactory(owner=owner, team=owner.team, name="Пустая компания")
    contact = ContactFactory(owner=owner, account=None, emails=[])  # a private person: the account has no one
    return {"account": account, "contact": contact, "deal": OpportunityFactory(owner=owner, account=account),
            "lead": LeadFactory(owner=owner)}


def _normalised(html: str) -> str:
    """A page's panels without what differs on every request (the CSRF token's mask)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken"', html)


def _panels(client, url: str) -> tuple[int, dict]:
    response = client.get(url)
    if response.status_code != 200:
        return response.status_code, {}
    return 200, {slot: [_normalised(html) for html in rendered]
                 for slot, rendered in response.context["panels"].items()}


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_same_panels_with_and_without_the_probes(client, cast, role, full, empty, monkeypatch):
    client.force_login(cast[role])
    for records in (full, empty):
        for name, record in records.items():
            url = record.get_absolute_url()
            probed = _panels(client, url)
            with monkeypatch.context() as old_way:  # every panel runs its own query, as before the probes
                old_way.setattr(panels, "run_probes", lambda *args: {})
                unprobed = _panels(client, url)
            assert probed == unprobed, f"{role} on the {name} page {url}"


def test_the_full_records_show_every_panel(client, executive, full):
    """The comparison above is only worth something if the panels have rows to show."""
    client.force_login(executive)
    contact_page = client.get(full["contact"].get_absolute_url()).content.decode()
    for shown in ("Сделка «Весна»", "Не печатает", "Весенняя рассылка", "Список «Весна»",
                  'id="contact-email-preferences"', "Opened the e-mail “Весна”", "Archived", "call 800"):
        assert shown in contact_page, shown
    account_page = client.get(full["account"].get_absolute_url()).content.decode()
    for shown in ('id="account-quotes"', 'id="account-invoices"', "Поддержка 2026", 'id="account-campaigns"',
                  "Анна Полная", 'id="receivables-card"', "45"):
        assert shown in account_page, shown


def _count(client, url: str) -> int:
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm the session and the cached lookups
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize(("role", "page", "probed", "unprobed"), [
    # An empty record: every panel with nothing to show is answered by the one probe query.
    ("owner", "contact", 5, 12),
    ("executive", "contact", 5, 12),
    ("owner", "account", 7, 14),
    ("executive", "account", 7, 14),
    ("owner", "deal", 12, 13),
    ("marketer", "lead", 5, 7),
])
def test_a_panel_with_nothing_to_show_costs_no_query(client, cast, empty, role, page, probed, unprobed, monkeypatch):
    client.force_login(cast[role])
    url = empty[page].get_absolute_url()
    now = _count(client, url)
    monkeypatch.setattr(panels, "run_probes", lambda *args: {})  # the old way: a query per panel
    assert (now, _count(client, url)) == (probed, unprobed)


@pytest.mark.parametrize(("role", "page", "most"), [
    ("owner", "contact", 15), ("executive", "contact", 15), ("owner", "account", 15), ("executive", "account", 15),
])
def test_a_full_record_stays_within_the_page_budget(client, cast, full, role, page, most):
    client.force_login(cast[role])
    assert _count(client, full[page].get_absolute_url()) <= most
