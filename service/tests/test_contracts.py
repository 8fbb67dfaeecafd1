"""Contracts and warranties: which one covers a ticket, its SLA, what its entitlement has used, the
renewal deal in one click, the expiry notice exactly once, and work logged on tickets."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from crm.models import Notification, Role
from crm.tests.factories import UserFactory
from sales.models import Opportunity
from sales.tests.factories import PipelineFactory, ProductFactory
from service import contract_services, services
from service.models import Contract, Entitlement, WorkKind
from service.tests.factories import PolicyFactory, agent

TODAY = timezone.localdate()


@pytest.fixture
def customer(db, owner):
    return AccountFactory(owner=owner, name="ООО «Альфа»")


def make(customer, actor, **fields):
    values = {"name": "Поддержка 2026", "account": customer, "starts_on": TODAY - timedelta(days=100),
              "ends_on": TODAY + timedelta(days=200), **fields}
    return contract_services.contract_create(actor=actor, **values)


def test_the_owner_is_the_accounts_owner_and_numbers_follow(customer, owner):
    first, second = make(customer, agent()), make(customer, agent())
    assert first.owner == owner and first.team == owner.team
    assert (first.number, second.number) == (f"C-{TODAY.year}-0001", f"C-{TODAY.year}-0002")


def test_a_ticket_is_covered_by_the_product_contract_first(customer):
    worker = agent()
    product = ProductFactory()
    general = make(customer, worker)
    warranty = make(customer, worker, name="Гарантия", product=product, serial_number="SN-1")
    make(customer, worker, name="Старый", starts_on=TODAY - timedelta(days=800), ends_on=TODAY - timedelta(days=400))
    assert services.ticket_create(actor=worker, subject="a", account=customer, product=product).contract == warranty
    assert services.ticket_create(actor=worker, subject="b", account=customer).contract == general
    assert services.ticket_create(actor=worker, subject="c", account=AccountFactory()).contract is None


def test_the_contracts_sla_policy_wins(customer):
    worker = agent()
    PolicyFactory(first_response_minutes=240)
    premium = PolicyFactory(name="Premium", priority=1, first_response_minutes=15)
    make(customer, worker, sla_policy=premium)
    ticket = services.ticket_create(actor=worker, subject="x", account=customer)
    assert ticket.sla_policy == premium


def test_entitlements_are_drawn_down_by_tickets_and_hours(customer):
    worker = agent()
    tickets = make(customer, worker, entitlement=Entitlement.TICKETS, entitled_amount=Decimal(2))
    for n in range(3):
        services.ticket_create(actor=worker, subject=f"T{n}", account=customer)
    used = contract_services.usage([tickets])[tickets.pk]
    assert used == 3 and contract_services.remaining(tickets, used) == -1
    tickets.ends_on = TODAY - timedelta(days=1)
    tickets.save()
    hours = make(customer, worker, name="Часы", entitlement=Entitlement.HOURS, entitled_amount=Decimal(10))
    ticket = services.ticket_create(actor=worker, subject="h", account=customer)
    assert ticket.contract == hours
    contract_services.work_log_add(ticket=ticket, actor=worker, kind=WorkKind.TIME, minutes=90)
    contract_services.work_log_add(ticket=ticket, actor=worker, kind=WorkKind.EXPENSE, amount=Decimal("1500"),
                                   currency="RUB", note="Такси")
    assert contract_services.usage([hours])[hours.pk] == Decimal("1.50")


def test_work_logs_are_checked_and_totalled(customer):
    worker = agent()
    ticket = services.ticket_create(actor=worker, subject="w", account=customer)
    with pytest.raises(ValidationError):
        contract_services.work_log_add(ticket=ticket, actor=worker, kind=WorkKind.TIME)
    with pytest.raises(ValidationError):
        contract_services.work_log_add(ticket=ticket, actor=worker, kind=WorkKind.MATERIAL)
    cable = ProductFactory(default_price=Decimal("250.00"), currency="RUB")
    log = contract_services.work_log_add(ticket=ticket, actor=worker, kind=WorkKind.MATERIAL, product=cable,
                                         quantity=Decimal(2))
    assert (log.amount, log.currency) == (Decimal("500.00"), "RUB")
    contract_services.work_log_add(ticket=ticket, actor=worker, kind=WorkKind.TIME, minutes=45)
    totals = contract_services.work_totals(ticket.work_logs.all())
    assert totals == {"minutes": 45, "money": {"RUB": Decimal("500.00")}}


def test_the_renewal_deal_is_made_once(customer, owner):
    PipelineFactory(name="Renewals")
    contract = make(customer, agent(), ends_on=TODAY + timedelta(days=20))
    deal = contract_services.contract_renew(contract=contract, actor=owner)
    assert deal.owner == owner and deal.account == customer and deal.expected_close_date == contract.ends_on
    assert deal.pipeline.name == "Renewals"
    assert contract_services.contract_renew(contract=contract, actor=owner) == deal
    assert Opportunity.objects.filter(account=customer).count() == 1


def test_the_owner_hears_once_before_the_end(customer, owner):
    contract = make(customer, agent(), ends_on=TODAY + timedelta(days=10), notice_days=14)
    later = make(customer, agent(), name="Позже", ends_on=TODAY + timedelta(days=40), notice_days=14)
    now = timezone.now()
    assert contract_services.notify_expiring_contracts(now) == 1
    assert contract_services.notify_expiring_contracts(now) == 0
    assert Notification.objects.filter(user=owner).count() == 1
    assert contract.number in Notification.objects.get(user=owner).text
    # A stale second run that read the contract before the first claimed it sends nothing.
    assert contract_services.expiry_notice_send(contract_id=contract.pk, now=now) is False
    # A new end date earns a new notice.
    contract_services.contract_update(contract=later, actor=owner, ends_on=TODAY + timedelta(days=5))
    assert contract_services.notify_expiring_contracts(now) == 1


def test_visibility_follows_the_account_for_sales(client, customer, owner, outsider, support_agent, marketer):
    contract = make(customer, agent())
    for user, status in ((owner, 200), (support_agent, 200), (outsider, 404), (marketer, 404)):
        client.force_login(user)
        assert client.get(contract.get_absolute_url()).status_code == status, user
    client.force_login(support_agent)
    assert client.get(reverse("service:contract_edit", args=[contract.pk])).status_code == 403


def test_the_desk_keeps_contracts_but_does_not_make_deals(client, customer):
    PipelineFactory(name="Renewals")
    lead = UserFactory(role=Role.SUPPORT_LEAD, email="lead-renew@example.com")
    contract = make(customer, agent(), ends_on=TODAY + timedelta(days=20))
    client.force_login(lead)
    assert "renew-contract" not in client.get(contract.get_absolute_url()).content.decode()
    # The desk has no sales data: like every sales page, the renewal answers 404 (issue 17).
    assert client.post(reverse("service:contract_renew", args=[contract.pk])).status_code == 404
    assert not Opportunity.objects.exists()


def test_renewal_in_one_click_from_the_page(client, customer, owner):
    PipelineFactory(name="Renewals")
    contract = make(customer, agent(), ends_on=TODAY + timedelta(days=20))
    client.force_login(owner)
    client.post(reverse("service:contract_renew", args=[contract.pk]))
    contract.refresh_from_db()
    assert contract.renewal is not None
    assert "Renewal deal" in client.get(contract.get_absolute_url()).content.decode()


def test_the_form_refuses_an_end_before_the_start(client, customer, owner):
    client.force_login(owner)
    response = client.post(reverse("service:contract_create"), {
        "name": "Неверный", "kind": "support", "account": customer.pk, "starts_on": "2027-01-10",
        "ends_on": "2026-01-10", "entitlement": "tickets", "notice_days": 30})
    page = response.content.decode()
    assert "cannot end before it starts" in page and "how many tickets or hours" in page
    assert not Contract.objects.exists()


def test_the_hotline_says_whether_the_caller_is_covered(client, customer, support_agent):
    customer.phone = "+44 20 7946 0123"
    customer.save()
    client.force_login(support_agent)
    page = client.get(reverse("service:hotline"), {"phone": "+442079460123"}).content.decode()
    assert "No contract or warranty" in page
    make(customer, agent())
    page = client.get(reverse("service:hotline"), {"phone": "+442079460123"}).content.decode()
    assert "Covered" in page


def test_an_account_page_lists_its_contracts(client, customer, owner):
    make(customer, agent(), name="Сервисный договор")
    client.force_login(owner)
    assert "Сервисный договор" in client.get(customer.get_absolute_url()).content.decode()


def test_states(customer):
    contract = make(customer, agent(), starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), notice_days=30)
    assert contract.state(date(2025, 12, 31)) == "upcoming"
    assert contract.state(date(2026, 6, 1)) == "active"
    assert contract.state(date(2026, 12, 1)) == "expiring"
    assert contract.state(date(2027, 1, 1)) == "expired"
