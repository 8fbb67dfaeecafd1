"""The list component (crm/lists.py): chips, drawer, cards, bulk permissions, htmx fragment,
query counts, and the rules a declaration must follow."""

from dataclasses import replace
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from crm.lists import Column, ListPage
from crm.models import SavedView
from sales.lists import OpportunityList
from sales.tests.factories import OpportunityFactory, PipelineFactory


def test_each_filter_in_force_has_a_chip_whose_link_drops_it(client, owner):
    AccountFactory(owner=owner, type="customer", is_vip=True)
    client.force_login(owner)
    body = client.get(reverse("accounts:list"), {"type": "customer", "is_vip": "true", "tier": "",
                                                 "sort": "-name", "page": "2"}).content.decode()
    assert 'data-filter="type"' in body and "Type: <strong>Customer</strong>" in body
    assert "VIP: <strong>Yes</strong>" in body
    assert 'data-filter="tier"' not in body  # empty parameters are no filter
    assert 'href="?is_vip=true&amp;sort=-name" class="list-chip-remove"' in body  # no type, no page
    assert 'href="?type=customer&amp;sort=-name" class="list-chip-remove"' in body


def test_main_filters_inline_the_rest_in_the_drawer(client, owner):
    client.force_login(owner)
    body = client.get(reverse("accounts:list"), {"tier": "key"}).content.decode()
    bar, drawer = body.split('id="filter-drawer"')
    assert 'name="q"' in bar and 'name="type"' in bar and 'name="tier"' not in bar
    assert 'name="tier"' in drawer and 'name="industry"' in drawer and 'name="type"' not in drawer
    assert 'class="offcanvas offcanvas-end"' in body
    assert '<span class="badge text-bg-secondary">1</span>' in bar  # one drawer filter in force


def test_rows_carry_their_place_on_a_phone_card(client, owner, pipeline):
    OpportunityFactory(owner=owner, pipeline=pipeline, name="Big deal", amount="1200.00")
    client.force_login(owner)
    body = client.get(reverse("sales:opportunity_list")).content.decode()
    for place in ("title", "sub", "status", "amount", "date", "owner"):
        assert f'class="card-{place}' in body, place
    assert 'class="card-title" data-label="Name"><a href=' in body
    assert "card-none" in body  # probability: desktop only


def test_a_forged_id_is_skipped_with_the_usual_message(client, owner, outsider):
    mine = AccountFactory(owner=owner, tags=[])
    theirs = AccountFactory(owner=outsider, tags=[])
    client.force_login(owner)
    response = client.post(reverse("accounts:bulk"), {"action": "add_tag", "tag": "vip", "ids": [mine.pk, theirs.pk]})
    assert response.status_code == 302
    texts = [str(message) for message in get_messages(response.wsgi_request)]
    assert "1 account changed." in texts
    assert "1 ticked account is read-only for you and was left as it was." in texts
    assert Account.objects.get(pk=theirs.pk).tags == []


def test_bulk_url_takes_posts_only_and_the_list_gets_only(client, owner):
    client.force_login(owner)
    assert client.get(reverse("accounts:bulk")).status_code == 405
    assert client.post(reverse("accounts:list")).status_code == 405


def test_htmx_gets_the_fragment_and_a_plain_load_the_page(client, owner):
    AccountFactory(owner=owner, name="Fragmentary")
    client.force_login(owner)
    fragment = client.get(reverse("accounts:list"), HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<div id="list-body"') and "<html" not in fragment
    assert "Fragmentary" in fragment
    page = client.get(reverse("accounts:list")).content.decode()
    assert "<html" in page and 'id="list-body"' in page and "crm/lists" in page


def test_opportunity_views_save(client, owner):
    client.force_login(owner)
    response = client.post(reverse("saved_view_save"), {"target": "sales.opportunity", "name": "Open",
                                                        "query": "status=open"})
    assert response.status_code == 302 and response["Location"] == reverse("sales:opportunity_list") + "?status=open"
    assert SavedView.objects.filter(target="sales.opportunity", name="Open").exists()


@pytest.fixture
def pipeline(db):
    return PipelineFactory(name="New business", is_default=True)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_query_count_is_the_same_for_one_row_and_fifty(client, owner, pipeline):
    client.force_login(owner)
    url = reverse("sales:opportunity_list") + "?status=open&sort=-amount"
    OpportunityFactory(owner=owner, pipeline=pipeline)
    client.get(url)
    one = _queries(client, url)
    for _index in range(49):
        OpportunityFactory(owner=owner, pipeline=pipeline)
    assert _queries(client, url) == one


def test_sorts_must_end_in_the_primary_key():
    with pytest.raises(ImproperlyConfigured):
        type("BadList", (ListPage,), {"sorts": {"name": ("name",)}, "default_sort": "name"})
    with pytest.raises(ImproperlyConfigured):
        Column("Name", card="sidebar", value="name")


def test_pk_url_gives_what_reverse_gives(settings):
    """crm/urlcache.py: every record link built without the resolver is the resolver's own answer."""
    from django.urls import reverse, set_script_prefix

    from crm.urlcache import pk_url

    for name in ("contacts:detail", "accounts:detail", "sales:opportunity_detail", "service:ticket_detail"):
        for pk in (1, 42, 918273645, 10**12):
            assert pk_url(name, pk) == reverse(name, args=[pk])
    set_script_prefix("/crm/")
    try:
        assert pk_url("contacts:detail", 7) == reverse("contacts:detail", args=[7]) == "/crm/contacts/7/"
    finally:
        set_script_prefix("/")


def _footer(body: str) -> str:
    return body[body.index('id="list-totals"'):body.index("</tfoot>")]


def test_money_totals_cover_every_matching_row_per_currency(client, owner, pipeline):
    """Sixty deals in roubles and hryvnias over two pages: the footer sums every deal the filters match
    (not only the fifty shown), one line per currency, and the page's own sum under it."""
    client.force_login(owner)
    for _index in range(40):
        OpportunityFactory(owner=owner, pipeline=pipeline, amount=Decimal("1500000.50"), currency="RUB")
    for _index in range(20):
        OpportunityFactory(owner=owner, pipeline=pipeline, amount=Decimal("2500.25"), currency="UAH")
    OpportunityFactory(owner=owner, pipeline=pipeline, amount=Decimal("999999"), currency="RUB", name="Lost one",
                       stage=pipeline.stages.get(kind="lost"))
    url = reverse("sales:opportunity_list")
    footer = _footer(client.get(url, {"status": "open", "sort": "-amount"}).content.decode())
    every, shown = footer.split("Total on this page", 1)
    assert "Total, all pages" in every
    assert "60,000,020.00 RUB" in every and "50,005.00 UAH" in every  # 40 × 1,500,000.50; 20 × 2,500.25
    assert "60,000,020.00 RUB" in shown and "25,002.50 UAH" in shown  # the 40 + the 10 largest UAH shown
    assert "61,000,019" not in footer  # the lost deal is filtered out

    one_page = _footer(client.get(url, {"status": "open", "amount_max": "3000"}).content.decode())
    assert "Total on this page" not in one_page and "Total, all pages" not in one_page
    assert "Total" in one_page and "50,005.00 UAH" in one_page and "RUB" not in one_page


def test_invoice_totals_leave_out_what_a_cancelled_invoice_owed(client, owner):
    from sales.models import InvoiceStatus
    from sales.tests.billing_helpers import invoice_for

    client.force_login(owner)
    invoices = [invoice_for(owner) for _index in range(3)]
    cancelled = invoices[0]
    cancelled.status = InvoiceStatus.CANCELLED
    cancelled.save(update_fields=["status"])
    response = client.get(reverse("sales:invoice_list"))
    page_lines = response.context["totals"]
    [(line, cells)] = page_lines  # one currency, one page
    sums = {bound.column.total: amount for bound, amount in cells if bound.column.total}
    total = sum(invoice.total for invoice in invoices)
    assert sums == {"total": total, "open_balance": total - cancelled.total}
    # The database sum (used when the rows span pages) follows the same rule.
    from crm.pagination import paginate
    from sales.lists import InvoiceList
    from sales.models import Invoice

    declaration = InvoiceList(response.wsgi_request)
    page = paginate(Invoice.objects.all(), "1", per_page=1, sum_group="currency", sums=declaration.sum_expressions())
    assert page.total == 3 and page.sums == {cancelled.currency: sums}


def test_totals_cost_no_query_of_their_own(client, owner, pipeline):
    """The sums ride on the count query: a list with money columns runs as many queries as without."""
    client.force_login(owner)
    for _index in range(3):
        OpportunityFactory(owner=owner, pipeline=pipeline)
    url = reverse("sales:opportunity_list")
    client.get(url)
    with_sums = _queries(client, url)
    columns = OpportunityList.columns
    try:
        OpportunityList.columns = tuple(replace(column, total="") for column in columns)
        assert _queries(client, url) == with_sums
    finally:
        OpportunityList.columns = columns


def test_a_money_column_that_is_no_field_must_say_how_it_is_summed(rf, owner):
    class Broken(OpportunityList):
        columns = (Column("Name", value="name"), Column("Weighted", value="weighted", total="weighted"))

    request = rf.get("/")
    request.user = owner
    with pytest.raises(ImproperlyConfigured, match="sum_expressions"):
        Broken(request).sum_expressions()


def test_filter_selects_name_their_empty_choice(client, owner):
    client.force_login(owner)
    body = client.get(reverse("sales:quote_list")).content.decode()
    assert '<option value="" selected>Status: all</option>' in body
    assert "---------" not in body


def test_one_page_has_no_page_buttons(client, owner, pipeline):
    client.force_login(owner)
    OpportunityFactory(owner=owner, pipeline=pipeline)
    body = client.get(reverse("sales:opportunity_list")).content.decode()
    assert "1–1 of 1" in body and 'class="pagination' not in body
    for _index in range(50):
        OpportunityFactory(owner=owner, pipeline=pipeline)
    body = client.get(reverse("sales:opportunity_list")).content.decode()
    assert 'class="pagination' in body and "1 / 2" in body


def test_filter_selects_outside_lists_say_all(client, owner, pipeline):
    client.force_login(owner)
    body = client.get(reverse("sales:board", args=[pipeline.pk])).content.decode()
    assert '<option value="" selected>All</option>' in body
    assert "---------" not in body


def test_sums_of_a_distinct_queryset_count_each_row(owner, pipeline):
    """Two deals with the same currency and amount are two rows, even when the list's rows are DISTINCT."""
    from crm.pagination import paginate
    from sales.models import Opportunity

    for _index in range(2):
        OpportunityFactory(owner=owner, pipeline=pipeline, amount=Decimal("500.00"), currency="UAH")
    page = paginate(Opportunity.objects.distinct(), "1", sum_group="currency", sums={"amount": F("amount")})
    assert page.total == 2 and page.sums == {"UAH": {"amount": Decimal("1000.00")}}
