"""Money and dates on the sales pages in the reader's language: the quote, order, invoice, receivables,
board and forecast pages print 72,000.00 EUR / 6 Dec 2026 in English and 72 000,00 EUR / 06.12.2026 in
Russian and Ukrainian (the formatting layer, crm/formatting.py)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import Notification, NotificationKind
from sales import billing_notices
from sales.models import ForecastCategory
from sales.tests.billing_helpers import invoice_for
from sales.tests.factories import OpportunityFactory, PipelineFactory, stage
from sales.tests.quote_factories import make_quote

pytestmark = pytest.mark.django_db

NBSP = "\xa0"
# (grouped amount with two decimals, whole amount, how a date looks)
EXPECTED = {
    "en": ("72,000.00", "72,000", "{d.day} {month} {d.year}"),
    "ru": (f"72{NBSP}000,00", f"72{NBSP}000", "{d:%d.%m.%Y}"),
    "uk": (f"72{NBSP}000,00", f"72{NBSP}000", "{d:%d.%m.%Y}"),
}
WRONG = {"en": [f"72{NBSP}000", "72.000"], "ru": ["72,000", "72.000,"], "uk": ["72,000", "72.000,"]}
FLEET = [("Fleet", "3", "24000.00", "0", "0")]


def expected_date(language: str, day: datetime.date) -> str:
    return EXPECTED[language][2].format(d=day, month=day.strftime("%b"))


@pytest.fixture
def invoice(owner):
    return invoice_for(owner, due_in_days=-10, lines=FLEET)


@pytest.fixture
def deal(owner):
    pipeline = PipelineFactory()
    return OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Proposal"),
                              amount=Decimal("72000.00"), currency="EUR", expected_close_date=timezone.localdate(),
                              forecast_category=ForecastCategory.COMMIT)


@pytest.mark.parametrize("language", ["en", "ru", "uk"])
def test_document_pages_print_money_and_dates_in_the_readers_language(client, owner, manager, invoice, language):
    grouped, _whole, _date = EXPECTED[language]
    for user in (owner, manager):
        user.language = language
        user.save(update_fields=["language"])
    client.force_login(owner)
    order = invoice.order
    pages = {
        "quote": make_quote(owner, lines=((3, "24000.00", "0", "0"),)).get_absolute_url(),
        "order": order.get_absolute_url(),
        "invoice": invoice.get_absolute_url(),
    }
    for name, url in pages.items():
        html = client.get(url).content.decode()
        assert f"{grouped} EUR" in html, name
        for wrong in WRONG[language]:
            assert wrong not in html, (name, wrong)
    invoice_html = client.get(invoice.get_absolute_url()).content.decode()
    assert expected_date(language, invoice.due_date) in invoice_html
    client.force_login(manager)
    receivables = client.get(reverse("sales:receivables")).content.decode()
    assert f"{grouped} EUR" in receivables
    for wrong in WRONG[language]:
        assert wrong not in receivables


@pytest.mark.parametrize("language", ["en", "ru", "uk"])
def test_board_and_forecast_print_figures_in_the_readers_language(client, owner, deal, language, settings):
    settings.DEFAULT_CURRENCY = "EUR"
    grouped, whole, _date = EXPECTED[language]
    owner.language = language
    owner.save(update_fields=["language"])
    client.force_login(owner)
    board = client.get(reverse("sales:board", args=[deal.pipeline_id])).content.decode()
    assert f"{whole} EUR" in board  # the card and the column total, with the currency
    assert expected_date(language, deal.expected_close_date) in board
    for wrong in WRONG[language]:
        assert wrong not in board
    forecast = client.get(reverse("sales:forecast")).content.decode()
    assert grouped in forecast
    for wrong in WRONG[language]:
        assert wrong not in forecast


def test_board_marks_overdue_deals(client, owner, deal):
    deal.expected_close_date = timezone.localdate() - datetime.timedelta(days=3)
    deal.save(update_fields=["expected_close_date"])
    client.force_login(owner)
    html = client.get(reverse("sales:board", args=[deal.pipeline_id])).content.decode()
    assert "board-card-overdue" in html
    deal.expected_close_date = timezone.localdate() + datetime.timedelta(days=3)
    deal.save(update_fields=["expected_close_date"])
    assert "board-card-overdue" not in client.get(reverse("sales:board", args=[deal.pipeline_id])).content.decode()


@pytest.mark.parametrize("language", ["en", "ru", "uk"])
def test_notifications_are_put_into_words_in_the_readers_language(client, owner, language):
    """Stored as a message and parameters; the overdue notice reads in the reader's language and formats,
    whatever language its recipient had when it was sent."""
    invoice = invoice_for(owner, due_in_days=-3, lines=FLEET)
    assert billing_notices.notify_overdue_invoices(timezone.now()) == 1
    notification = Notification.objects.get(user=owner)
    assert notification.message == "invoice.overdue"
    assert notification.params["balance"] == {"money": "72000.00", "currency": "EUR"}
    owner.language = language
    owner.save(update_fields=["language"])
    client.force_login(owner)
    html = client.get(reverse("notifications")).content.decode()
    grouped = EXPECTED[language][0]
    assert f"{grouped} EUR" in html and expected_date(language, invoice.due_date) in html
    words = {"en": "is overdue", "ru": "просрочен", "uk": "прострочен"}[language]
    assert words in html


def test_older_notifications_keep_their_text(client, owner):
    Notification.objects.create(user=owner, kind=NotificationKind.ALERT, text="Written before messages had keys")
    client.force_login(owner)
    assert "Written before messages had keys" in client.get(reverse("notifications")).content.decode()
