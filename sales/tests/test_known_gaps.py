"""Issue 17, "Sales gaps already known": one test per gap, each failing when its rule is taken out."""

import datetime
from decimal import Decimal

import pytest
import yaml
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from crm import scheduler
from crm.models import Notification
from crm.tests.api_helpers import api_for
from sales import lead_services, product_services, quote_services, services
from sales.models import (
    CurrencyRate,
    ForecastCategory,
    Lead,
    LeadStatus,
    Opportunity,
    PriceBook,
    Product,
    Quote,
    QuoteStatus,
)
from sales.tests.billing_helpers import invoice_for
from sales.tests.factories import LeadFactory, OpportunityFactory, PipelineFactory, stage
from sales.tests.quote_factories import make_quote

pytestmark = pytest.mark.django_db


def messages_of(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- Currency: a price book belongs to a currency ---------------------------------------------


def test_a_product_not_priced_in_the_documents_currency_is_refused_on_quotes_and_deals(owner):
    usd_only = Product.objects.create(sku="US-1", name="Scanner", currency="USD", default_price=Decimal("100.00"))
    euro_book = PriceBook.objects.create(name="Europe", currency="EUR")
    dollar_book = PriceBook.objects.create(name="America", currency="USD")
    product_services.price_book_entry_set(price_book=dollar_book, product=usd_only, unit_price=Decimal("90"),
                                          actor=owner)
    quote = make_quote(owner, lines=[])  # EUR, no price book
    with pytest.raises(ValidationError, match="priced in USD, this document is in EUR"):
        quote_services.quote_line_add(quote=quote, actor=owner, expected_version=None, product=usd_only,
                                      quantity=Decimal(1))
    quote_services.quote_update(quote=quote, actor=owner, expected_version=None, price_book=euro_book)
    with pytest.raises(ValidationError, match="not in the price book Europe"):
        quote_services.quote_line_add(quote=quote, actor=owner, expected_version=None, product=usd_only,
                                      quantity=Decimal(1))
    with pytest.raises(ValidationError, match="The price book America is in USD"):
        quote_services.quote_update(quote=Quote.objects.get(pk=quote.pk), actor=owner, expected_version=None,
                                    price_book=dollar_book)
    assert not Quote.objects.get(pk=quote.pk).lines.exists()

    deal = OpportunityFactory(owner=owner, currency="EUR")
    with pytest.raises(ValidationError, match="priced in USD"):
        product_services.opportunity_line_add(opportunity=deal, actor=owner, product=usd_only)
    with pytest.raises(ValidationError, match="is in USD"):
        product_services.opportunity_line_add(opportunity=deal, actor=owner, product=usd_only, price_book=dollar_book)
    assert not deal.lines.exists()
    # In its own currency, through the book that lists it, the product is taken at the book's price.
    dollar_deal = OpportunityFactory(owner=owner, currency="USD")
    line = product_services.opportunity_line_add(opportunity=dollar_deal, actor=owner, product=usd_only,
                                                 price_book=dollar_book)
    assert line.unit_price == Decimal("90.00")


def test_the_deal_line_form_shows_the_refusal(client, owner):
    product = Product.objects.create(sku="US-2", name="Printer", currency="USD", default_price=Decimal("10.00"))
    deal = OpportunityFactory(owner=owner, currency="EUR")
    client.force_login(owner)
    response = client.post(reverse("sales:opportunity_line_add", args=[deal.pk]),
                           {"line-product": product.pk, "line-quantity": "1"}, headers={"HX-Request": "true"})
    assert "Printer is priced in USD, this document is in EUR" in response.content.decode()
    assert not deal.lines.exists()


# --- Three-decimal currencies: refused everywhere, the same way ---------------------------------


def test_three_decimal_currencies_are_refused_everywhere(client, owner, admin_user):
    pipeline = PipelineFactory()
    account = AccountFactory(owner=owner)
    refusal = "Amounts in KWD have three decimals"
    CurrencyRate.objects.create(currency="KWD", rate=Decimal("3.0"))  # a rate is no excuse: still refused
    with pytest.raises(ValidationError, match=refusal):
        services.opportunity_create(actor=owner, name="Kuwait", account=account, pipeline=pipeline,
                                    stage=pipeline.stages.first(), amount=Decimal("1.000"), currency="KWD")
    with pytest.raises(ValidationError):
        quote_services.quote_create(actor=owner, account=account, currency="BHD")
    for model, fields in ((Product, {"sku": "K", "name": "K"}), (PriceBook, {"name": "Kuwait"})):
        with pytest.raises(ValidationError, match=refusal):
            model(currency="KWD", **fields).full_clean()
    response = api_for(owner).post("/api/opportunities/", {
        "name": "Kuwait", "account": account.pk, "pipeline": pipeline.pk, "stage": pipeline.stages.first().pk,
        "amount": "10.000", "currency": "KWD"}, format="json")
    assert response.status_code == 400 and refusal in str(response.json()["currency"])
    assert not Opportunity.objects.exists() and not Quote.objects.exists()
    # JPY (no decimals) and the usual two-decimal currencies pass
    Product(sku="J", name="J", currency="JPY").full_clean()
    PriceBook(name="Rouble", currency="RUB").full_clean()


# --- Quote e-mail: claimed in the transaction, sent on commit, once ------------------------------


def send(quote, owner):
    return quote_services.quote_send(quote=quote, actor=owner, to=["ada@acme.example"], subject="Предложение",
                                     message="Во вложении.")


def test_quote_email_is_sent_after_the_commit_exactly_once(owner, django_capture_on_commit_callbacks):
    quote = make_quote(owner)
    with pytest.raises(RuntimeError), transaction.atomic():  # the change is rolled back: no e-mail, still a draft
        send(quote, owner)
        raise RuntimeError
    scheduler.tick()  # the outbox's own sender finds nothing queued either
    assert mail.outbox == [] and Quote.objects.get(pk=quote.pk).status == QuoteStatus.DRAFT
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send(Quote.objects.get(pk=quote.pk), owner)
        assert mail.outbox == []  # claimed "sent" in the transaction, nothing sent before the commit
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT
    for callback in callbacks:
        callback()
    with pytest.raises(quote_services.AlreadySent):
        send(Quote.objects.get(pk=quote.pk), owner)
    scheduler.tick()  # the outbox tick finds nothing left to send
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == "Предложение"


# --- Billing documents never name an account the reader may not see ------------------------------


def test_orders_and_invoices_never_name_a_hidden_account(client, owner, teammate, django_capture_on_commit_callbacks):
    hidden = AccountFactory(owner=teammate, shared_with_team=False, name="Тайный Заказчик ООО")
    invoice = invoice_for(owner, due_in_days=-3, account=hidden)  # the rep's documents on a colleague's account
    order = invoice.order
    client.force_login(owner)
    pages = [reverse("sales:order_list"), reverse("sales:invoice_list"), order.get_absolute_url(),
             invoice.get_absolute_url()]
    for url in pages:
        body = client.get(url).content.decode()
        assert order.number in body or invoice.number in body, url
        assert "Тайный Заказчик" not in body, url
        assert hidden.get_absolute_url() not in body, url
    from exports.registry import EXPORTERS

    for target in ("sales.order", "sales.invoice"):
        exporter = EXPORTERS[target]
        rows = [[str(cell(row)) for _header, cell in exporter.columns] for row in exporter.queryset(owner)]
        assert rows and not any("Тайный" in cell for row in rows for cell in row), target
    with django_capture_on_commit_callbacks(execute=True):
        scheduler.tick()
    notice = Notification.objects.get(user=owner)
    assert invoice.number in notice.text and "Тайный" not in notice.text
    assert mail.outbox and all("Тайный" not in message.body for message in mail.outbox)
    # the account's owner still reads the name
    client.force_login(teammate)
    assert Account.objects.visible_to(teammate).filter(pk=hidden.pk).exists()


# --- Versions: leads have one, and a change must name it -----------------------------------------


def test_lead_versions_are_required_on_forms_and_the_api(client, owner):
    lead = LeadFactory(owner=owner, first_name="Ольга", last_name="Петрова", company="Ромашка",
                       email="olga@romashka.ru")
    data = {"first_name": "Ольга", "last_name": "Петрова-Иванова", "company": "Ромашка", "owner": owner.pk}
    client.force_login(owner)
    page = client.get(reverse("sales:lead_edit", args=[lead.pk])).content.decode()
    assert f'name="lock_version" value="{lead.lock_version}"' in page
    refused = client.post(reverse("sales:lead_edit", args=[lead.pk]), data)  # no version: refused, nothing saved
    assert refused.status_code == 200 and "does not say which version" in refused.content.decode()
    assert Lead.objects.get(pk=lead.pk).last_name == "Петрова"
    client.post(reverse("sales:lead_edit", args=[lead.pk]), {**data, "lock_version": lead.lock_version})
    saved = Lead.objects.get(pk=lead.pk)
    assert saved.last_name == "Петрова-Иванова" and saved.lock_version == lead.lock_version + 1
    stale = client.post(reverse("sales:lead_edit", args=[lead.pk]),
                        {**data, "last_name": "Старая", "lock_version": lead.lock_version}, follow=True)
    assert "changed by someone else" in stale.content.decode()
    assert Lead.objects.get(pk=lead.pk).last_name == "Петрова-Иванова"

    api = api_for(owner)
    url = f"/api/leads/{lead.pk}/"
    without = api.patch(url, {"title": "CFO"}, format="json")
    assert without.status_code == 400 and "lock_version" in without.json()
    assert api.patch(url, {"title": "CFO", "lock_version": 1}, format="json").status_code == 409
    current = api.get(url).json()["lock_version"]
    assert api.patch(url, {"title": "CFO", "lock_version": current}, format="json").status_code == 200
    deal = OpportunityFactory(owner=owner)
    assert api.patch(f"/api/opportunities/{deal.pk}/", {"name": "x"}, format="json").status_code == 400
    # The schema tells API clients so
    schema = yaml.safe_load((settings.BASE_DIR / "docs" / "openapi.yaml").read_text())
    for component in ("Lead", "Opportunity"):
        help_text = schema["components"]["schemas"][component]["properties"]["lock_version"]["description"]
        assert "Required on every change" in help_text


def test_deal_and_quote_edit_forms_require_their_version(client, owner):
    deal = OpportunityFactory(owner=owner, name="Без версии")
    client.force_login(owner)
    response = client.post(reverse("sales:opportunity_edit", args=[deal.pk]), {
        "name": "Changed blind", "account": deal.account_id, "pipeline": deal.pipeline_id, "stage": deal.stage_id,
        "amount": "5", "currency": "EUR", "forecast_category": "pipeline", "owner": owner.pk})
    assert "does not say which version" in response.content.decode()
    assert Opportunity.objects.get(pk=deal.pk).name == "Без версии"
    quote = make_quote(owner, title="Без версии")
    response = client.post(reverse("sales:quote_edit", args=[quote.pk]), {
        "title": "Changed blind", "currency": "EUR", "discount_pct": "0", "issue_date": quote.issue_date,
        "valid_until": quote.valid_until, "owner": owner.pk})
    assert "does not say which version" in response.content.decode()
    assert Quote.objects.get(pk=quote.pk).title == "Без версии"


# --- Refusals: roles without sales data get 404 everywhere ---------------------------------------


# The Sales section's overview also shows customer figures (accounts by type) that support reads: it stays.
SALES_PAGES = ["sales:opportunity_list", "sales:opportunity_create", "sales:board_default",
               "sales:quote_list", "sales:quote_create", "sales:approval_list", "sales:order_list",
               "sales:invoice_list", "sales:receivables", "sales:forecast", "sales:targets"]
SALES_APIS = ["/api/opportunities/", "/api/quotes/", "/api/orders/", "/api/invoices/", "/api/payments/"]


@pytest.mark.parametrize("role", ["support_agent", "marketer"])
def test_roles_without_sales_data_get_404_on_every_sales_page_and_api(client, cast, role):
    invoice = invoice_for(cast["owner"])
    deal = OpportunityFactory(owner=cast["owner"])
    user = cast[role]
    client.force_login(user)
    answers = {name: client.get(reverse(name)).status_code for name in SALES_PAGES}
    details = [deal.get_absolute_url(), invoice.get_absolute_url(), invoice.order.get_absolute_url(),
               reverse("sales:invoice_pdf", args=[invoice.pk])]
    answers.update({url: client.get(url).status_code for url in details})
    api = api_for(user)
    answers.update({url: api.get(url).status_code for url in SALES_APIS})
    answers.update({f"{url}{pk}/": api.get(f"{url}{pk}/").status_code
                    for url, pk in (("/api/opportunities/", deal.pk), ("/api/invoices/", invoice.pk),
                                    ("/api/orders/", invoice.order.pk))})
    wrong = {key: code for key, code in answers.items() if code != 404}
    assert wrong == {}, repr(wrong)


# --- Won and lost deals leave the open forecast categories ---------------------------------------


def test_won_and_lost_deals_leave_the_open_forecast_categories(owner):
    pipeline = PipelineFactory()
    deal = OpportunityFactory(owner=owner, pipeline=pipeline, forecast_category=ForecastCategory.COMMIT)
    services.opportunity_move(opportunity=deal, stage=stage(pipeline, "Won"), actor=owner, expected_version=None)
    deal.refresh_from_db()
    assert deal.forecast_category == ForecastCategory.CLOSED and deal.get_forecast_category_display() != "Pipeline"
    # an edit of the won deal cannot put it back into an open category
    services.opportunity_update(opportunity=deal, actor=owner, forecast_category=ForecastCategory.PIPELINE)
    assert Opportunity.objects.get(pk=deal.pk).forecast_category == ForecastCategory.CLOSED
    lost = OpportunityFactory(owner=owner, pipeline=pipeline, forecast_category=ForecastCategory.BEST_CASE)
    services.opportunity_move(opportunity=lost, stage=stage(pipeline, "Lost"), actor=owner, expected_version=None,
                              lost_reason="price")
    assert Opportunity.objects.get(pk=lost.pk).forecast_category == ForecastCategory.OMITTED
    # reopened: back in the pipeline; an open deal cannot claim "Closed"
    services.opportunity_move(opportunity=Opportunity.objects.get(pk=deal.pk), stage=stage(pipeline, "Proposal"),
                              actor=owner, expected_version=None)
    assert Opportunity.objects.get(pk=deal.pk).forecast_category == ForecastCategory.PIPELINE
    with pytest.raises(ValidationError, match="for won deals"):
        services.opportunity_update(opportunity=Opportunity.objects.get(pk=deal.pk), actor=owner,
                                    forecast_category=ForecastCategory.CLOSED)
    created_won = services.opportunity_create(actor=owner, name="Won at once", account=deal.account,
                                              pipeline=pipeline, stage=stage(pipeline, "Won"), amount=Decimal(5),
                                              currency="EUR", expected_close_date=timezone.localdate())
    assert created_won.forecast_category == ForecastCategory.CLOSED


# --- Deals closing next mark a passed close date --------------------------------------------------


def test_deals_closing_next_mark_deals_whose_close_date_has_passed(client, owner):
    pipeline = PipelineFactory(is_default=True)
    today = timezone.localdate()
    OpportunityFactory(owner=owner, pipeline=pipeline, name="Опоздавшая сделка",
                       expected_close_date=today - datetime.timedelta(days=3))
    OpportunityFactory(owner=owner, pipeline=pipeline, name="Future deal",
                       expected_close_date=today + datetime.timedelta(days=3))
    client.force_login(owner)
    body = client.get(reverse("sales:overview")).content.decode()
    closing = body[body.index("closing-heading"):]
    late, future = closing.index("Опоздавшая сделка"), closing.index("Future deal")
    assert closing.count("deal-overdue") == 1
    assert late < closing.index("deal-overdue") < future
    # the board marks them too (its own test: sales/tests/test_views_formats.py)


# --- Negative revenue --------------------------------------------------------------------------


def test_an_accounts_annual_revenue_cannot_be_negative(client, owner):
    client.force_login(owner)
    response = client.post(reverse("accounts:create"), {"name": "Минус ООО", "type": "customer",
                                                        "annual_revenue": "-5", "owner": owner.pk})
    assert "Annual revenue cannot be negative." in response.content.decode()
    account = AccountFactory(owner=owner)
    api = api_for(owner).patch(f"/api/accounts/{account.pk}/", {"annual_revenue": "-1.00"}, format="json")
    assert api.status_code == 400 and "annual_revenue" in api.json()
    assert not Account.objects.filter(annual_revenue__lt=0).exists()


# --- Quote issue date --------------------------------------------------------------------------


def test_a_quotes_issue_date_is_validated(owner):
    account = AccountFactory(owner=owner)
    today = timezone.localdate()
    with pytest.raises(ValidationError, match="within a year of today"):
        quote_services.quote_create(actor=owner, account=account, issue_date=datetime.date(1, 1, 1))
    with pytest.raises(ValidationError, match="within a year of today"):
        quote_services.quote_create(actor=owner, account=account, issue_date=today + datetime.timedelta(days=900))
    quote = make_quote(owner, account=account, contact=None)
    with pytest.raises(ValidationError, match="cannot expire before its date"):
        quote_services.quote_update(quote=quote, actor=owner, expected_version=None,
                                    issue_date=today, valid_until=today - datetime.timedelta(days=1))
    with pytest.raises(ValidationError, match="within a year of today"):
        quote_services.quote_update(quote=quote, actor=owner, expected_version=None,
                                    issue_date=datetime.date(9999, 12, 31), valid_until=datetime.date(9999, 12, 31))
    assert Quote.objects.get(pk=quote.pk).issue_date == today
    assert Quote.objects.count() == 1  # the refused ones took no number


def test_the_quote_form_shows_the_issue_date_refusal(client, owner):
    quote = make_quote(owner)
    client.force_login(owner)
    response = client.post(reverse("sales:quote_edit", args=[quote.pk]), {
        "title": quote.title, "currency": "EUR", "discount_pct": "0", "issue_date": "1900-01-01",
        "valid_until": "1900-02-01", "owner": owner.pk, "version": quote.lock_version})
    assert "within a year of today" in response.content.decode()


# --- Lead conversion without prior qualification -------------------------------------------------


def test_a_new_lead_converts_and_is_qualified_on_the_way(client, owner):
    lead = LeadFactory(owner=owner, status=LeadStatus.NEW, first_name="Иван", last_name="Сидоров",
                       email="ivan@sidorov.ru", company="Сидоров и партнёры")
    client.force_login(owner)
    page = client.get(lead.get_absolute_url()).content.decode()
    assert reverse("sales:lead_convert", args=[lead.pk]) in page
    assert client.get(reverse("sales:lead_convert", args=[lead.pk])).status_code == 200
    lead_services.lead_convert(lead=lead, actor=owner)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED and lead.converted_account.name == "Сидоров и партнёры"
    statuses = list(Lead.pgh_event_model.objects.filter(pgh_obj_id=lead.pk).order_by("pgh_id")
                    .values_list("status", flat=True))
    assert statuses[-2:] == [LeadStatus.QUALIFIED, LeadStatus.CONVERTED]
    disqualified = LeadFactory(owner=owner, status=LeadStatus.DISQUALIFIED, disqualify_reason="no_budget")
    with pytest.raises(ValidationError, match="disqualified lead cannot be converted"):
        lead_services.lead_convert(lead=disqualified, actor=owner)


# --- Orders entered directly ------------------------------------------------------------------


def test_an_order_is_entered_directly_through_the_same_numbering_and_services(client, owner, outsider):
    from sales import billing_services
    from sales.models import Order, OrderStatus

    account = AccountFactory(owner=owner, name="Ромашка ООО", address="Москва")
    paper = Product.objects.create(sku="P-1", name="Бумага", currency="RUB", default_price=Decimal("450.00"),
                                   tax_rate=Decimal("20"))
    order = billing_services.order_create_direct(
        actor=owner, account=account, currency="rub",
        lines=[{"product": paper, "quantity": Decimal(2)}, {"name": "Доставка", "unit_price": Decimal("300")}])
    assert order.number.startswith("SO-") and order.quote is None and order.status == OrderStatus.NEW
    assert order.currency == "RUB" and order.total == Decimal("1380.00")  # 900 + 20 % tax + 300
    assert order.shipping_address == "Москва"
    refused = [
        ({"currency": "EUR", "lines": [{"product": paper}]}, "priced in RUB"),
        ({"currency": "RUB", "lines": [{"name": "No price"}]}, "give its price"),
        ({"currency": "RUB", "lines": []}, "at least one line"),
        ({"currency": "KWD", "lines": [{"name": "x", "unit_price": Decimal(1)}]}, "three decimals"),
        ({"currency": "RUB", "lines": [{"name": "x", "unit_price": Decimal(1)}],
          "ordered_on": datetime.date(2001, 1, 1)}, "within a year"),
    ]
    for kwargs, message in refused:
        with pytest.raises(ValidationError, match=message):
            billing_services.order_create_direct(actor=owner, account=account, **kwargs)
    assert Order.objects.count() == 1  # the refused ones took no number
    second = billing_services.order_create_direct(actor=owner, account=account, currency="RUB",
                                                  lines=[{"name": "Ещё", "unit_price": Decimal(1)}])
    assert int(second.number.rsplit("-", 1)[1]) == int(order.number.rsplit("-", 1)[1]) + 1  # gap-free

    # The page: a hidden account cannot be chosen; roles that cannot create get 403, no sales data 404
    hidden = AccountFactory(owner=outsider, name="Чужой")
    client.force_login(owner)
    response = client.post(reverse("sales:order_create"), {
        "account": hidden.pk, "currency": "RUB", "ordered_on": timezone.localdate(),
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-0-name": "x", "lines-0-unit_price": "1"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert Order.objects.count() == 2
