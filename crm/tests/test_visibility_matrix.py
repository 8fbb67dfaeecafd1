"""The visibility matrix: every owned model × every role × list/detail/edit/delete.

A hidden row answers 404 exactly like a missing one; a visible row the user may not
change answers 403. Later modules add their models to OWNED_MODELS.
"""

import datetime
import re
from dataclasses import dataclass, field

import pytest
from django.urls import reverse

from accounts.tests.factories import AccountFactory
from activities.models import Activity
from contacts.tests.factories import ContactFactory
from marketing.models import Mailing, Segment, StaticList
from marketing.tests.factories import CampaignFactory
from sales.models import Invoice, Order, Quote
from sales.tests.factories import LeadFactory, OpportunityFactory
from service import services as ticket_services
from service.models import Contract


def make_task(*, owner, shared_with_team, name):
    return Activity.objects.create(kind="task", subject=name, owner=owner, team=owner.team,
                                   shared_with_team=shared_with_team, status="open")


def make_contact(*, owner, shared_with_team, name):
    return ContactFactory(owner=owner, shared_with_team=shared_with_team, first_name="", last_name=name)


def make_lead(*, owner, shared_with_team, name):
    return LeadFactory(owner=owner, shared_with_team=shared_with_team, first_name="", last_name=name, company="")


def make_opportunity(*, owner, shared_with_team, name):
    return OpportunityFactory(owner=owner, shared_with_team=shared_with_team, name=name)


def make_quote(*, owner, shared_with_team, name):
    deal = OpportunityFactory(owner=owner)
    return Quote.objects.create(owner=owner, team=owner.team, shared_with_team=shared_with_team, number="Q-2026-0001",
                                title=name, account=deal.account, opportunity=deal,
                                valid_until=datetime.date(2026, 12, 31))


def make_order(*, owner, shared_with_team, name):
    deal = OpportunityFactory(owner=owner)
    return Order.objects.create(owner=owner, team=owner.team, shared_with_team=shared_with_team, number=name,
                                account=deal.account, opportunity=deal)


def make_invoice(*, owner, shared_with_team, name):
    deal = OpportunityFactory(owner=owner)
    return Invoice.objects.create(owner=owner, team=owner.team, shared_with_team=shared_with_team, number=name,
                                  account=deal.account, due_date=datetime.date(2026, 12, 31))


def make_ticket(*, owner, shared_with_team, name):
    """A ticket of a customer `owner` keeps (the ticket's own owner is its assignee, none here)."""
    account = AccountFactory(owner=owner, shared_with_team=shared_with_team, name=f"{name} customer")
    return ticket_services.ticket_create(actor=owner, subject=name, account=account)


def make_contract(*, owner, shared_with_team, name):
    from service import contract_services

    account = AccountFactory(owner=owner, name=f"{name} customer")
    contract = contract_services.contract_create(actor=owner, name=name, account=account,
                                                 starts_on=datetime.date(2026, 1, 1), ends_on=datetime.date(2027, 1, 1))
    Contract.objects.filter(pk=contract.pk).update(shared_with_team=shared_with_team)
    contract.refresh_from_db()
    return contract


def make_work_order(*, owner, shared_with_team, name):
    """A visit for a ticket of a customer `owner` keeps (the work order's own owner is its specialist)."""
    from service import field_services

    ticket = make_ticket(owner=owner, shared_with_team=shared_with_team, name=name)
    return field_services.work_order_create(ticket=ticket, actor=owner)


def make_campaign(*, owner, shared_with_team, name):
    return CampaignFactory(owner=owner, shared_with_team=shared_with_team, name=name)


def make_segment(*, owner, shared_with_team, name):
    return Segment.objects.create(owner=owner, team=owner.team, shared_with_team=shared_with_team, name=name)


def make_static_list(*, owner, shared_with_team, name):
    return StaticList.objects.create(owner=owner, team=owner.team, shared_with_team=shared_with_team, name=name)


def make_mailing(*, owner, shared_with_team, name):
    static_list = StaticList.objects.create(owner=owner, team=owner.team, name=f"{name} list")
    return Mailing.objects.create(owner=owner, team=owner.team, shared_with_team=shared_with_team, subject=name,
                                  body="Hello", campaign=CampaignFactory(owner=owner), static_list=static_list)


# Who sees / edits a record that `owner` keeps private (not shared with the team).
PRIVATE = {
    # actor: (visible, editable)
    "owner": (True, True),
    "teammate": (False, False),
    "manager": (True, True),
    "outsider": (False, False),
    "executive": (True, False),
    "support_agent": (True, False),
    "marketer": (True, False),
    "admin": (True, True),
}
# Deals, quotes, orders, invoices: sales and the executives only (SALES_DATA).
SALES_PRIVATE = {**PRIVATE, "support_agent": (False, False), "marketer": (False, False)}
# Leads: marketers read every lead (they generate them), support none (LEAD_DATA).
LEAD_PRIVATE = {**PRIVATE, "support_agent": (False, False)}
# Tickets of a customer `owner` keeps: sales reads its customers' tickets, support works every ticket,
# marketing none (service.models.TICKET_DATA).
# Contracts of the owner's customer: sales as for its own records, the desk reads, marketing none.
CONTRACT_PRIVATE = {**PRIVATE, "marketer": (False, False)}
TICKET_PRIVATE = {**PRIVATE, "owner": (True, False), "manager": (True, False), "support_agent": (True, True),
                  "marketer": (False, False)}
# Campaigns, segments, static lists, mailings: everyone but support reads them all, marketers edit any.
CAMPAIGN_PRIVATE = {**PRIVATE, "teammate": (True, False), "outsider": (True, False), "support_agent": (False, False),
                    "marketer": (True, True)}


@dataclass(frozen=True)
class OwnedCase:
    name: str
    factory: object
    list_url: str | None  # None: the model has no list page of its own
    detail_url: str
    edit_url: str | None  # None: no edit page (orders and invoices change through actions)
    delete_url: str | None
    private: dict = field(default_factory=lambda: PRIVATE)
    extra_reads: tuple = ()  # more URLs of one record that answer like its detail page (PDFs)
    hidden_from: str = "outsider"  # an actor who does not see the owner's private row
    shared_rules: dict | None = None  # when sharing with the team opens it differently than shared() says

    def rules(self, is_shared: bool) -> dict:
        if not is_shared:
            return self.private
        return self.shared_rules or shared(self.private)


OWNED_MODELS = [
    OwnedCase("account", AccountFactory, "accounts:list", "accounts:detail", "accounts:edit", "accounts:delete"),
    OwnedCase("contact", make_contact, "contacts:list", "contacts:detail", "contacts:edit", "contacts:delete"),
    OwnedCase("activity", make_task, None, "activity_detail", "activity_edit", "activity_delete"),
    OwnedCase("lead", make_lead, "sales:lead_list", "sales:lead_detail", "sales:lead_edit",
              "sales:lead_delete", LEAD_PRIVATE),
    OwnedCase("opportunity", make_opportunity, "sales:opportunity_list", "sales:opportunity_detail",
              "sales:opportunity_edit", "sales:opportunity_delete", SALES_PRIVATE),
    # Deleting a quote is a button (POST only): its rules are tested in sales/tests/test_views_quotes.py.
    OwnedCase("quote", make_quote, "sales:quote_list", "sales:quote_detail", "sales:quote_edit", None,
              SALES_PRIVATE, extra_reads=("sales:quote_pdf",)),
    OwnedCase("order", make_order, "sales:order_list", "sales:order_detail", None, None, SALES_PRIVATE),
    OwnedCase("invoice", make_invoice, "sales:invoice_list", "sales:invoice_detail", None, None, SALES_PRIVATE,
              extra_reads=("sales:invoice_pdf",)),
    OwnedCase("campaign", make_campaign, "marketing:campaign_list", "marketing:campaign_detail",
              "marketing:campaign_edit", "marketing:campaign_delete", CAMPAIGN_PRIVATE, hidden_from="support_agent"),
    OwnedCase("segment", make_segment, "marketing:segment_list", "marketing:segment_detail",
              "marketing:segment_edit", "marketing:segment_delete", CAMPAIGN_PRIVATE, hidden_from="support_agent"),
    OwnedCase("static list", make_static_list, "marketing:static_list_list", "marketing:static_list_detail",
              "marketing:static_list_edit", "marketing:static_list_delete", CAMPAIGN_PRIVATE,
              hidden_from="support_agent"),
    OwnedCase("mailing", make_mailing, None, "marketing:mailing_detail", None, None, CAMPAIGN_PRIVATE,
              hidden_from="support_agent"),
    # A customer shared with the team shows its tickets to teammates, read-only.
    OwnedCase("ticket", make_ticket, "service:ticket_list", "service:ticket_detail", "service:ticket_edit",
              "service:ticket_delete", TICKET_PRIVATE, shared_rules={**TICKET_PRIVATE, "teammate": (True, False)}),
    # Deleting a contract is a button on its edit page (POST): covered in service/tests/test_contracts.py.
    OwnedCase("contract", make_contract, "service:contract_list", "service:contract_detail", "service:contract_edit",
              None, CONTRACT_PRIVATE),
    # Work orders follow their ticket; "edit" is the dispatch page (cancelling is a button, POST).
    OwnedCase("work order", make_work_order, "service:work_order_list", "service:work_order_detail",
              "service:work_order_dispatch", None, TICKET_PRIVATE,
              shared_rules={**TICKET_PRIVATE, "teammate": (True, False)}),
]


def shared(rules: dict) -> dict:
    """Sharing with the team opens the record to teammates; nobody else changes."""
    return {**rules, "teammate": (True, True)}


def without_csrf(body: bytes) -> bytes:
    """Pages differ only by their per-request CSRF token."""
    return re.sub(rb'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', rb"\1", body)


def expected_status(visible: bool, editable: bool, action: str) -> int:
    if not visible:
        return 404
    if action in {"edit", "delete"} and not editable:
        return 403
    return 200


def _urls(case) -> dict:
    urls = {"list": case.list_url, "detail": case.detail_url, "edit": case.edit_url, "delete": case.delete_url}
    urls.update({name.split(":")[-1]: name for name in case.extra_reads})
    return {action: url for action, url in urls.items() if url}


CASE_ACTIONS = [
    pytest.param(case, action, id=f"{case.name}-{action}")
    for case in OWNED_MODELS
    for action in _urls(case)
]


@pytest.mark.parametrize(("case", "action"), CASE_ACTIONS)
@pytest.mark.parametrize("is_shared", [False, True], ids=["private", "shared"])
@pytest.mark.parametrize("actor", list(PRIVATE))
def test_matrix(client, cast, case, is_shared, actor, action):
    record = case.factory(owner=cast["owner"], shared_with_team=is_shared, name="Matrix Record Ltd")
    visible, editable = case.rules(is_shared)[actor]
    client.force_login(cast[actor])

    if action == "list":
        response = client.get(reverse(case.list_url))
        # A role that never sees this kind of record gets 404 for the list itself.
        assert response.status_code == 200 or (not visible and response.status_code == 404)
        assert ("Matrix Record Ltd" in response.content.decode()) is visible
        return

    url = reverse(_urls(case)[action], args=[record.pk])
    assert client.get(url).status_code == expected_status(visible, editable, action)


EDITABLE_MODELS = [case for case in OWNED_MODELS if case.edit_url and case.delete_url]


@pytest.mark.parametrize("case", EDITABLE_MODELS, ids=lambda case: case.name)
@pytest.mark.parametrize("actor", ["teammate", "outsider", "executive", "support_agent"])
def test_forbidden_writes_change_nothing(client, cast, case, actor):
    if case.private[actor][1]:
        pytest.skip(f"{actor} may change a {case.name}")
    record = case.factory(owner=cast["owner"], shared_with_team=False, name="Untouched Ltd")
    before = str(record)
    client.force_login(cast[actor])
    client.post(reverse(case.edit_url, args=[record.pk]),
                {"name": "Hacked", "last_name": "Hacked", "subject": "Hacked", "type": "customer"})
    client.post(reverse(case.delete_url, args=[record.pk]))
    record.refresh_from_db()
    assert str(record) == before
    assert record.deleted_at is None


@pytest.mark.parametrize("case", OWNED_MODELS, ids=lambda case: case.name)
def test_missing_and_hidden_rows_answer_alike(client, cast, case):
    hidden = case.factory(owner=cast["owner"], shared_with_team=False, name="Hidden")
    client.force_login(cast[case.hidden_from])
    hidden_response = client.get(reverse(case.detail_url, args=[hidden.pk]))
    missing_response = client.get(reverse(case.detail_url, args=[hidden.pk + 10_000]))
    assert hidden_response.status_code == missing_response.status_code == 404
    assert without_csrf(hidden_response.content) == without_csrf(missing_response.content)


@pytest.mark.parametrize("case", EDITABLE_MODELS, ids=lambda case: case.name)
def test_deleted_rows_are_hidden_from_everyone(client, cast, case):
    record = case.factory(owner=cast["owner"], shared_with_team=False, name="Soon deleted")
    client.force_login(cast["owner" if case.private["owner"][1] else "admin"])
    client.post(reverse(case.delete_url, args=[record.pk]))
    for actor in ("owner", "manager", "admin", "executive"):
        client.force_login(cast[actor])
        assert client.get(reverse(case.detail_url, args=[record.pk])).status_code == 404
