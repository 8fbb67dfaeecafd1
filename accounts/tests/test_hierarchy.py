from django.urls import reverse

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory


def test_group_tree_with_rollup(client, owner, outsider):
    holding = AccountFactory(owner=owner, name="Umbrella Holding", annual_revenue=1000, employees=10)
    europe = AccountFactory(owner=owner, name="Umbrella Europe", parent=holding, annual_revenue=500, employees=5)
    AccountFactory(owner=owner, name="Umbrella Berlin", parent=europe, annual_revenue=200, employees=2)
    AccountFactory(owner=outsider, name="Umbrella Secret", parent=europe, annual_revenue=9999)
    ContactFactory.create_batch(2, owner=owner, account=europe)
    client.force_login(owner)
    body = client.get(europe.get_absolute_url()).content.decode()
    group = body[body.index('id="account-group"'):body.index('id="group-totals"') + 300]
    assert group.index("Umbrella Holding") < group.index("Umbrella Europe") < group.index("Umbrella Berlin")
    assert "Umbrella Secret" not in group and "9,999" not in group
    assert "3 companies, 2 contacts" in group and "1,700" in group


def test_an_account_cannot_become_its_own_ancestor(client, owner):
    top = AccountFactory(owner=owner, name="Top")
    child = AccountFactory(owner=owner, name="Child", parent=top)
    client.force_login(owner)
    response = client.post(reverse("accounts:edit", args=[top.pk]), {"name": "Top", "type": "customer",
                                                                      "parent": child.pk})
    assert "cannot belong to itself" in response.content.decode()
    top.refresh_from_db()
    assert top.parent is None


def test_filters_tag_tier_scope_territory(client, owner, teammate):
    from crm.tests.factories import TerritoryFactory

    europe = TerritoryFactory(name="Europe")
    germany = TerritoryFactory(name="Germany", parent=europe)
    AccountFactory(owner=owner, name="Tagged One", tags=["steel"], tier="key", territory=germany)
    AccountFactory(owner=teammate, shared_with_team=True, name="Team Shared")
    client.force_login(owner)
    get = lambda **params: client.get(reverse("accounts:list"), params).content.decode()  # noqa: E731
    assert "Tagged One" in get(tag="steel") and "Team Shared" not in get(tag="steel")
    assert "Tagged One" in get(tier="key")
    assert "Tagged One" in get(territory=europe.pk)  # a region includes its sub-regions
    assert "Team Shared" not in get(scope="mine") and "Team Shared" in get(scope="team")
    assert Account.objects.count() == 2
