from django.urls import reverse

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm.models import CustomField


def test_admin_defines_a_field_and_reps_fill_it(client, admin_user, owner):
    client.force_login(admin_user)
    client.post(reverse("custom_field_list"), {"target": "accounts.account", "label": "Fleet size", "key": "fleet",
                                               "kind": "number", "position": 1, "active": "on", "filterable": "on"})
    client.post(reverse("custom_field_list"), {"target": "accounts.account", "label": "Segment", "key": "segment",
                                               "kind": "choice", "choices": "Retail\nWholesale", "position": 2,
                                               "active": "on", "filterable": "on", "required": "on"})
    assert CustomField.objects.count() == 2

    client.force_login(owner)
    form_page = client.get(reverse("accounts:create")).content.decode()
    assert "Fleet size" in form_page and "Wholesale" in form_page
    missing = client.post(reverse("accounts:create"), {"name": "Trucks Ltd", "type": "customer", "cf_fleet": "abc"})
    body = missing.content.decode()
    assert "Enter a number" in body and "This field is required" in body
    assert not Account.objects.exists()

    client.post(reverse("accounts:create"), {"name": "Trucks Ltd", "type": "customer", "cf_fleet": "120",
                                             "cf_segment": "Wholesale"})
    account = Account.objects.get()
    assert account.custom == {"fleet": "120", "segment": "Wholesale"}
    detail = client.get(account.get_absolute_url()).content.decode()
    assert "Fleet size" in detail and "120" in detail

    AccountFactory(owner=owner, name="Shops plc", custom={"segment": "Retail"})
    listing = client.get(reverse("accounts:list"), {"cf_segment": "Wholesale"}).content.decode()
    assert "Trucks Ltd" in listing and "Shops plc" not in listing


def test_key_and_kind_cannot_change_once_created(client, admin_user):
    field = CustomField.objects.create(target="contacts.contact", label="Shoe size", key="shoe", kind="number")
    client.force_login(admin_user)
    client.post(reverse("custom_field_edit", args=[field.pk]), {"target": "accounts.account", "label": "Shoe",
                                                               "key": "hat", "kind": "text", "position": 0})
    field.refresh_from_db()
    assert (field.key, field.kind, field.target, field.label) == ("shoe", "number", "contacts.contact", "Shoe")


def test_contact_boolean_and_date_fields(client, owner):
    CustomField.objects.create(target="contacts.contact", label="Newsletter VIP", key="vip", kind="boolean")
    CustomField.objects.create(target="contacts.contact", label="First order", key="first_order", kind="date")
    contact = ContactFactory(owner=owner)
    client.force_login(owner)
    client.post(reverse("contacts:edit", args=[contact.pk]), {
        "first_name": contact.first_name, "last_name": contact.last_name, "cf_vip": "on",
        "cf_first_order": "2025-02-03"})
    contact.refresh_from_db()
    assert contact.custom == {"vip": True, "first_order": "2025-02-03"}
    listing = client.get(reverse("contacts:list"), {"cf_vip": "true"}).content.decode()
    assert contact.last_name in listing


def test_inactive_field_keeps_its_values(client, owner):
    field = CustomField.objects.create(target="accounts.account", label="Legacy id", key="legacy", kind="text")
    account = AccountFactory(owner=owner, custom={"legacy": "A-17"})
    field.active = False
    field.save()
    client.force_login(owner)
    client.post(reverse("accounts:edit", args=[account.pk]), {"name": account.name, "type": "customer"})
    account.refresh_from_db()
    assert account.custom == {"legacy": "A-17"}


def test_only_admins_manage_fields(client, manager):
    client.force_login(manager)
    assert client.get(reverse("custom_field_list")).status_code == 403


def test_definitions_are_cached_and_a_change_shows_at_once(django_assert_num_queries, db):
    """The definitions are read on every list and record page: from the cache after the first read
    (crm/lookups.py); adding, changing or removing one is seen by the next page, not 10 minutes later."""
    from crm import custom_fields

    CustomField.objects.create(target="accounts.account", label="Fleet size", key="fleet", kind="number")
    assert [d.key for d in custom_fields.definitions("accounts.account")] == ["fleet"]
    with django_assert_num_queries(0):
        assert [d.key for d in custom_fields.definitions("accounts.account")] == ["fleet"]
        assert custom_fields.definitions("contacts.contact") == []
    segment = CustomField.objects.create(target="accounts.account", label="Segment", key="segment", kind="text",
                                         position=2)
    assert [d.key for d in custom_fields.definitions("accounts.account")] == ["fleet", "segment"]
    segment.label = "Сегмент"
    segment.save()
    assert custom_fields.definitions("accounts.account")[1].label == "Сегмент"
    segment.active = False
    segment.save()
    assert [d.key for d in custom_fields.definitions("accounts.account")] == ["fleet"]
    CustomField.objects.get(key="fleet").delete()
    assert custom_fields.definitions("accounts.account") == []


def test_definitions_come_from_the_database_when_redis_does_not_answer(db, monkeypatch):
    from crm import custom_fields, lookups

    CustomField.objects.create(target="contacts.contact", label="Shoe size", key="shoe", kind="number")

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(lookups.cache, "get", down)
    monkeypatch.setattr(lookups.cache, "set", down)
    assert [d.key for d in custom_fields.definitions("contacts.contact")] == ["shoe"]
