"""The list component (crm/lists.py): chips, drawer, cards, bulk permissions, htmx fragment,
query counts, and the rules a declaration must follow."""

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from crm.lists import Column, ListPage
from crm.models import SavedView
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
