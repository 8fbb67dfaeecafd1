"""What the account and contact lists no longer ask the database or the translation catalogue for on each
request (docs/benchmarks.md, issue 16): the owner selects from the cached list of active people
(crm/lookups.py, dropped when a person is saved), the choice labels per language, the filter form's
fields used as the filter set made them. Each must show exactly what the slow way showed, and a change
at once."""

import re

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.filters import AccountFilter
from accounts.models import AbcClass, Account, AccountType, RfmClass
from accounts.tests.factories import AccountFactory
from contacts.filters import ContactFilter
from crm import lookups
from crm.lists import Choice, choice_label
from crm.models import Role, SavedView, User
from crm.tests.factories import UserFactory
from crm.visibility import assignable_owner_list, assignable_owners

PEOPLE_QUERY = 'WHERE ("crm_user"."is_active"'  # the owner selects' own queries (and the lookup's)


@pytest.fixture
def world(cast, other_team):
    UserFactory(role=Role.SALES_REP, team=None, first_name="Без", last_name="Команды")
    UserFactory(role=Role.SALES_REP, team=other_team, is_active=False, first_name="Уволен", last_name="Давно")
    UserFactory(role=Role.SALES_REP, team=other_team, first_name="Olivia", last_name="<b>Twin</b>")  # a tie
    teamless = UserFactory(role=Role.SALES_MANAGER, team=None, first_name="Ничей", last_name="Менеджер")
    return {**cast, "teamless": teamless}


def request_for(user, **params):
    request = RequestFactory().get("/", params)
    request.user = user
    return request


def options(html: str) -> list[str]:
    return [line.strip() for line in html.splitlines() if line.strip().startswith("<option")]


@pytest.mark.parametrize("who", ["owner", "manager", "outsider", "executive", "admin", "teamless", "support_agent"])
def test_the_owner_select_lists_what_its_queryset_lists(world, who, monkeypatch):
    request = request_for(world[who], owner="")
    fast = options(str(AccountFilter(request.GET, request=request).form["owner"]))
    monkeypatch.setattr(lookups, "show_choices", lambda field, objects: None)  # the queryset's own choices
    slow = options(str(AccountFilter(request.GET, request=request).form["owner"]))
    assert sorted(fast) == sorted(slow)  # the same options, markup and escaping included
    # The queryset orders by first name alone; the cached list is in a refinement of that order.
    ids = [int(re.search(r'value="(\d+)"', option).group(1)) for option in fast[1:]]
    assert ids == list(User.objects.filter(pk__in=ids).order_by("first_name", "last_name", "id")
                       .values_list("pk", flat=True))
    assert not any("Уволен" in option for option in fast)


@pytest.mark.parametrize("who", ["owner", "manager", "outsider", "executive", "admin", "teamless", "support_agent"])
def test_the_new_owner_list_is_assignable_owners(world, who):
    user = world[who]
    expected = list(assignable_owners(user).filter(is_active=True).order_by("first_name", "last_name", "id"))
    assert assignable_owner_list(user) == expected


def test_a_person_added_or_deactivated_shows_on_the_next_page(client, owner, manager, team):
    AccountFactory(owner=manager)  # a row, so the bulk bar (and its "new owner" select) shows
    client.force_login(manager)
    url = reverse("accounts:list")
    client.get(url)  # fills the cache
    with CaptureQueriesContext(connection) as captured:
        body = client.get(url).content.decode()
    assert not [query for query in captured if PEOPLE_QUERY in query["sql"].replace('WHERE "crm', 'WHERE ("crm')]
    assert f'<option value="{owner.pk}">{owner}</option>' in body  # the owner filter and the bulk bar
    newcomer = UserFactory(team=team, first_name="Новенький", last_name="Сотрудник")
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    body = client.get(url).content.decode()
    assert body.count(f'<option value="{newcomer.pk}">Новенький Сотрудник</option>') == 2
    assert f'<option value="{owner.pk}">' not in body


def test_a_forged_owner_is_still_refused(client, manager, outsider):
    client.force_login(manager)
    response = client.get(reverse("accounts:list"), {"owner": outsider.pk})  # not offered to the manager
    assert response.status_code == 200 and response.context["filter"].form.errors.get("owner")


@pytest.mark.parametrize("filterset", [AccountFilter, ContactFilter])
def test_each_filter_set_has_fields_of_its_own(owner, filterset):
    first = filterset(request_for(owner).GET, request=request_for(owner))
    second = filterset(request_for(owner).GET, request=request_for(owner))
    # The form uses the fields its filters made (no second deep copy)...
    assert first.form.fields["tag"] is first.filters["tag"].field
    # ...which belong to that filter set alone: a change to one is not seen by another, nor by the class.
    assert first.form.fields["tag"] is not second.form.fields["tag"]
    first.form.fields["tag"].widget.attrs["class"] = "changed"
    first.form.fields["lead_source"].choices = [("x", "x")]
    assert "changed" not in str(second.form["tag"])
    assert 'value="x"' not in str(second.form["lead_source"])
    third = filterset(request_for(owner).GET, request=request_for(owner))
    assert "changed" not in str(third.form["tag"]) and 'value="x"' not in str(third.form["lead_source"])


@pytest.mark.parametrize("language", ["en", "ru", "uk"])
def test_choice_labels_are_get_display_in_each_language(language):
    with translation.override(language):
        for name, choices in (("type", AccountType), ("abc_class", AbcClass), ("rfm_class", RfmClass)):
            for value in [*choices.values, "", "unknown"]:
                account = Account(**{name: value})
                assert choice_label(Account, name, value) == getattr(account, f"get_{name}_display")()
                assert Choice(name)(account) == getattr(account, f"get_{name}_display")()


def test_the_account_list_shows_labels_in_the_readers_language(client, owner):
    AccountFactory(owner=owner, type=AccountType.CUSTOMER, abc_class="A", rfm_class="at_risk")
    client.force_login(owner)
    english = client.get(reverse("accounts:list")).content.decode()
    assert 'data-label="Type">Customer</td>' in english and ">At risk</a>" in english
    assert 'title="ABC class: A: the top 80 percent of revenue"' in english
    owner.language = "ru"
    owner.save(update_fields=["language"])
    russian = client.get(reverse("accounts:list")).content.decode()
    with translation.override("ru"):
        customer, at_risk, abc = str(AccountType.CUSTOMER.label), str(RfmClass.AT_RISK.label), str(AbcClass.A.label)
    assert customer != "Customer" and at_risk != "At risk"
    assert f">{customer}</td>" in russian and f">{at_risk}</a>" in russian and f": {abc}" in russian


SAVED_VIEWS_QUERY = '"crm_savedview"."query"'  # the views' own query (the cached summary reads no query)


def test_a_list_asks_for_saved_views_only_when_there_are_some(client, owner, teammate):
    client.force_login(owner)
    url = reverse("contacts:list")
    client.get(url)  # fills the cache
    with CaptureQueriesContext(connection) as captured:
        body = client.get(url).content.decode()
    assert not [query for query in captured if SAVED_VIEWS_QUERY in query["sql"]]
    assert "My contacts" in body  # the built-in views are still offered
    # Another person's private view, or a view of another list, changes nothing for this page.
    SavedView.objects.create(user=teammate, target="contacts.contact", name="Teammate's <private>", query="tag=a")
    SavedView.objects.create(user=owner, target="accounts.account", name="Accounts of mine", query="scope=mine")
    with CaptureQueriesContext(connection) as captured:
        body = client.get(url).content.decode()
    assert not [query for query in captured if SAVED_VIEWS_QUERY in query["sql"]]
    assert "private" not in body and "Accounts of mine" not in body
    # A shared view, and the person's own: on the next page, each time.
    shared = SavedView.objects.create(user=teammate, target="contacts.contact", name="Shared <b>", query="tag=b",
                                      shared=True)
    assert "Shared &lt;b&gt;" in client.get(url).content.decode()
    client.post(reverse("saved_view_save"), {"target": "contacts.contact", "name": "Mine", "query": "tag=c"})
    body = client.get(url).content.decode()
    assert "Shared &lt;b&gt;" in body and ">Mine<" in body and "private" not in body
    shared.delete()
    mine = SavedView.objects.get(name="Mine")
    client.post(reverse("saved_view_delete", args=[mine.pk]))
    body = client.get(url).content.decode()
    assert "Shared" not in body and ">Mine<" not in body
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    assert not [query for query in captured if SAVED_VIEWS_QUERY in query["sql"]]


def test_a_view_shared_by_someone_deleted_goes_with_them(client, owner, teammate):
    SavedView.objects.create(user=teammate, target="accounts.account", name="Leaver's view", query="type=partner",
                             shared=True)
    client.force_login(owner)
    assert "Leaver&#x27;s view" in client.get(reverse("accounts:list")).content.decode()
    teammate.delete()  # the view goes by cascade
    assert "Leaver" not in client.get(reverse("accounts:list")).content.decode()


URL_TAGS = ("""{% url 'home' %}|{% url "accounts:list" %}|{% url 'accounts:detail' 7 %}|{% url name %}|"""
            """{% url 'accounts:list' as kept %}[{{ kept }}]|{% url 'no-such-page' as missing %}[{{ missing }}]""")


def test_the_cached_url_tag_gives_what_djangos_gives():
    from django.template import Context, Engine, TemplateSyntaxError, engines
    from django.urls import NoReverseMatch, set_script_prefix

    ours = engines["django"].engine
    django_only = Engine(builtins=["crm.templatetags.formatting"])  # Django's own {% url %}
    context = {"name": "contacts:list"}
    for _round in range(2):  # the second time from the kept URLs
        assert ours.from_string(URL_TAGS).render(Context(context)) == django_only.from_string(URL_TAGS).render(
            Context(context)) == "/|/accounts/|/accounts/7/|/contacts/|[/accounts/]|[]"
    with pytest.raises(NoReverseMatch):
        ours.from_string("{% url 'no-such-page' %}").render(Context())
    with pytest.raises(TemplateSyntaxError):
        ours.from_string("{% url %}")
    set_script_prefix("/crm/")  # a CRM served under a prefix: its own URLs
    try:
        assert ours.from_string("{% url 'accounts:list' %}").render(Context()) == "/crm/accounts/"
    finally:
        set_script_prefix("/")
    assert ours.from_string("{% url 'accounts:list' %}").render(Context()) == "/accounts/"


def test_the_cache_keeps_one_redis_client_per_pool():
    from django.core.cache import caches

    cache = caches["default"]
    client = cache._cache.get_client()
    assert cache._cache.get_client(write=True) is client  # one server: one pool, one client
    cache.set("h16:shared-client", {"ok": "да"}, 30)
    assert cache.get("h16:shared-client") == {"ok": "да"}
    assert client.ttl(cache.make_key("h16:shared-client")) > 0
    cache.delete("h16:shared-client")
