import csv
import io

from django.urls import reverse

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from crm.list_tools import neutralise
from crm.models import Notification, SavedView


def test_manager_assigns_ticked_accounts(client, manager, owner, teammate, outsider):
    mine = AccountFactory.create_batch(2, owner=owner)
    foreign = AccountFactory(owner=outsider)
    client.force_login(manager)
    response = client.post(reverse("accounts:bulk"), {"action": "assign", "owner": teammate.pk,
                                                      "ids": [a.pk for a in mine] + [foreign.pk], "query": "type=x"})
    assert response.status_code == 302 and response["Location"].endswith("?type=x")
    assert Account.objects.filter(owner=teammate).count() == 2
    foreign.refresh_from_db()
    assert foreign.owner == outsider  # hidden from the manager: never touched
    assert Notification.objects.filter(user=teammate, kind="assignment").exists()


def test_rep_cannot_assign_to_someone_else(client, owner, teammate):
    account = AccountFactory(owner=owner)
    client.force_login(owner)
    client.post(reverse("accounts:bulk"), {"action": "assign", "owner": teammate.pk, "ids": [account.pk]})
    account.refresh_from_db()
    assert account.owner == owner


def test_add_and_remove_tags(client, owner):
    accounts = AccountFactory.create_batch(2, owner=owner, tags=["existing"])
    client.force_login(owner)
    ids = [a.pk for a in accounts]
    client.post(reverse("accounts:bulk"), {"action": "add_tag", "tag": "fair-2026", "ids": ids})
    client.post(reverse("accounts:bulk"), {"action": "add_tag", "tag": "fair-2026", "ids": ids})  # no doubles
    assert [a.tags for a in Account.objects.order_by("pk")] == [["existing", "fair-2026"]] * 2
    client.post(reverse("accounts:bulk"), {"action": "remove_tag", "tag": "existing", "ids": ids})
    assert [a.tags for a in Account.objects.order_by("pk")] == [["fair-2026"]] * 2


def test_executive_exports_but_cannot_change(client, executive, owner):
    account = AccountFactory(owner=owner, name="=HYPERLINK(\"http://evil\")", tags=["a", "b"])
    client.force_login(executive)
    client.post(reverse("accounts:bulk"), {"action": "add_tag", "tag": "x", "ids": [account.pk]})
    account.refresh_from_db()
    assert account.tags == ["a", "b"]
    response = client.post(reverse("accounts:bulk"), {"action": "export", "ids": [account.pk]})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Company name" and rows[1][0].startswith("'=HYPERLINK")
    assert rows[1][rows[0].index("Tags")] == "a, b"


def test_export_leaves_out_hidden_rows(client, owner, outsider):
    hidden = AccountFactory(owner=outsider, name="Hidden Corp")
    mine = AccountFactory(owner=owner, name="Mine Corp")
    client.force_login(owner)
    body = client.post(reverse("accounts:bulk"), {"action": "export", "ids": [hidden.pk, mine.pk]}).content.decode()
    assert "Mine Corp" in body and "Hidden Corp" not in body


def test_formula_cells_are_neutralised():
    for risky in ["=1+1", "+1+1", "-1+cmd|' /C calc'!A0", "@SUM(A1)", "\tx", "\rx", "+44 20 7946 0000)*cmd",
                  "-(1)", "+7 916 638-38-11 =A1"]:
        assert neutralise(risky).startswith("'"), risky
    assert neutralise("Plain") == "Plain" and neutralise(None) == ""


def test_phones_and_numbers_are_not_prefixed():
    """They cannot be formulas: a phone or an amount keeps its text (issue 17)."""
    for safe in ["+7 916 638-38-11", "+44 20 7946 0000", "+442079460000", "-12.50", "+1", "-1", "1234,56"]:
        assert neutralise(safe) == safe


def test_saved_views_private_and_shared(client, owner, teammate):
    client.force_login(owner)
    client.post(reverse("saved_view_save"), {"target": "accounts.account", "name": "Steel VIPs",
                                             "query": "tag=steel&is_vip=true&page=3&csrfmiddlewaretoken=x"})
    client.post(reverse("saved_view_save"), {"target": "accounts.account", "name": "Shared one",
                                             "query": "type=partner", "shared": "on"})
    view = SavedView.objects.get(name="Steel VIPs")
    assert view.query == "tag=steel&is_vip=true"
    body = client.get(reverse("accounts:list")).content.decode()
    assert "Steel VIPs" in body and "My team&#x27;s VIP customers" in body
    client.force_login(teammate)
    body = client.get(reverse("accounts:list")).content.decode()
    assert "Shared one" in body and "Steel VIPs" not in body
    assert client.post(reverse("saved_view_delete", args=[view.pk])).status_code == 404  # not theirs
    client.force_login(owner)
    client.post(reverse("saved_view_delete", args=[view.pk]))
    assert not SavedView.objects.filter(pk=view.pk).exists()
